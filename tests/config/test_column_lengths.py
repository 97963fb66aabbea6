"""Values the archive stores in bounded columns are checked at load, with their place: a route
name or entity id too long for PostgreSQL is a channels.yaml problem, not a failing batch."""

from __future__ import annotations

import pytest

from monitor.config.handles import CHANNEL_ID_MAX, ENTITY_ID_MAX, ROUTE_NAME_MAX
from storage.models import account_peer, alert_outbox, audit_event, entity, flag


def watchlist(
    *, entity_id: str = "qais", route: str = "desk", channel: str = '"@alpha_sim"'
) -> str:
    return f"""\
channels:
  - handle: {channel}
entities:
  - id: {entity_id}
    name: Qais
alerts:
  routes:
    - name: {route}
      url: json://localhost/hook
"""


def test_the_bounds_are_the_columns_lengths() -> None:
    assert ENTITY_ID_MAX == entity.c.id.type.length == flag.c.entity_id.type.length
    assert ENTITY_ID_MAX <= audit_event.c.subject_id.type.length
    assert ROUTE_NAME_MAX == alert_outbox.c.route.type.length
    # The idempotency key is route:channel:unit:kind:n, all within its column.
    assert ROUTE_NAME_MAX + len(f":{CHANNEL_ID_MAX}:g{2**63}:followup:9999") <= (
        alert_outbox.c.idempotency_key.type.length
    )
    assert len(str(CHANNEL_ID_MAX)) <= account_peer.c.handle.type.length


def test_a_route_name_over_128_characters_is_refused_with_its_line(parse, problems) -> None:
    assert parse(watchlist(route="d" * 128)).routes[0].name == "d" * 128
    assert problems(watchlist(route="d" * 129)) == [
        "channels.yaml:8:13: route name 'dddddddddddddddddddd…' is 129 characters long, over the "
        f"128 the archive stores in route '{'d' * 40}…'; shorten it to at most 128 characters"
    ]


def test_an_entity_id_over_128_characters_is_refused_with_its_line(parse, problems) -> None:
    assert parse(watchlist(entity_id="q" * 128)).entities[0].id == "q" * 128
    (problem,) = problems(watchlist(entity_id="q" * 129))
    assert problem.startswith("channels.yaml:4:9: entity id 'qqqqqqqqqqqqqqqqqqqq…' is 129 ")


@pytest.mark.parametrize("channel", [str(2**63), f"-100{2**63}", "9" * 200])
def test_a_channel_id_beyond_64_bits_is_refused_with_its_line(problems, channel) -> None:
    (problem,) = problems(watchlist(channel=channel))
    assert problem.startswith("channels.yaml:2:13: ") and "too large for a channel id" in problem


def test_the_largest_channel_id_is_accepted(parse) -> None:
    assert parse(watchlist(channel=str(2**63 - 1))).channels[0].key == str(2**63 - 1)
