"""`silent_after` on a channel and `health` on a route are validated like every other key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import WatchlistError, parse_watchlist

BASE = """\
channels:
  - handle: "@alpha_sim"
    silent_after: {silent}
entities: []
alerts:
  routes:
    - name: desk
      url: "json://127.0.0.1/hook"
      health: {health}
"""


def test_valid_values_are_read() -> None:
    watchlist = parse_watchlist(BASE.format(silent="2d", health="true"))
    assert watchlist.channel("alpha_sim").silent_after == timedelta(days=2)
    assert watchlist.routes[0].health
    default = parse_watchlist("channels: ['@alpha_sim']\n")
    assert default.channel("alpha_sim").silent_after is None  # off unless set


@pytest.mark.parametrize(
    ("silent", "health", "message"),
    [
        (
            "30s",
            "true",
            "3:19: silent_after '30s' is too short in channel '@alpha_sim'; the minimum is 1m",
        ),
        ("soon", "true", "3:19: "),
        ("2d", "maybe", "9:15: health in route 'desk' must be true or false"),
    ],
)
def test_bad_values_are_refused_at_their_position(silent: str, health: str, message: str) -> None:
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(BASE.format(silent=silent, health=health), source="w.yaml")
    assert f"w.yaml:{message}" in str(caught.value)


def test_a_typo_is_suggested() -> None:
    with pytest.raises(WatchlistError, match="did you mean 'silent_after'"):
        parse_watchlist("channels:\n  - handle: '@a_sim'\n    silent_afer: 1d\n")
