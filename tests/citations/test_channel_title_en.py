"""`title_en` in channels.yaml: an English title for citations, checked like every other key."""

from __future__ import annotations

import pytest

from monitor.config import WatchlistError, parse_watchlist


def test_title_en_is_read_per_channel_and_optional():
    watchlist = parse_watchlist(
        'channels:\n  - handle: "@first_channel"\n    title_en: "  Media Office  "\n'
        '  - handle: "@other_channel"\n'
    )
    assert [c.title_en for c in watchlist.channels] == ["Media Office", None]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('""', "empty title_en in channel '@first_channel'"),
        ('"two\\nlines"', "title_en must be one line of plain text"),
        ('"' + "x" * 201 + '"', "title_en is 201 characters long"),
    ],
)
def test_a_bad_title_en_is_reported_at_its_line(value: str, says: str):
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(f'channels:\n  - handle: "@first_channel"\n    title_en: {value}\n')
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("channels.yaml:3:") and says in problem
