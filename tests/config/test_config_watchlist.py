"""A valid watchlist loads into the values the rest of the monitor uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.config import (
    ChannelSpec,
    WatchlistError,
    canonical_handle,
    display_handle,
    format_duration,
    load_entities,
    load_watchlist,
    parse_duration,
)

FULL = """\
# The desk's watchlist.
defaults: {poll_every: 5m, backfill: 200, media: [photo]}
channels:
  - handle: "@Some_Channel"
    label: "Media office"
    poll_every: 2m
    backfill: 500
    media: [photo, video]
    tags: [militia, iraq]
    enabled: true
  - handle: https://t.me/s/other_channel
    enabled: false
  - -1001234567890
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    tags: [militia]
    aliases: ["Qais al-Khazali", "قيس الخزعلي", AAH]
  - id: cui-wei
    name: Cui Wei
alerts:
  timezone: Asia/Baghdad
  routes:
    - name: desk
      url: "${DESK_WEBHOOK_URL}"
      entities: all
      channels: all
      min_status: new
      digest: 10m
    - name: militia-desk
      urls: ["json://localhost:8080/hook", "mailto://desk.example.org?to=a@example.org"]
      entities: [militia]
      channels: [iraq, "t.me/other_channel"]
      min_status: confirmed
"""
ENV = {"DESK_WEBHOOK_URL": "tgram://987654:SECRET-TOKEN/-100200"}


def test_full_file_loads_every_field(parse):
    watchlist = parse(FULL, env=ENV, source="desk.yaml")
    assert watchlist.source == Path("desk.yaml")
    assert watchlist.defaults.poll_every == timedelta(minutes=5)
    first, second, third = watchlist.channels
    assert first == ChannelSpec(
        handle="@Some_Channel",
        label="Media office",
        poll_every=timedelta(minutes=2),
        backfill=500,
        media=("photo", "video"),
        tags=("militia", "iraq"),
        enabled=True,
    )
    assert (first.key, first.display) == ("some_channel", "@some_channel")
    assert (second.key, second.enabled, second.poll_every, second.backfill, second.media) == (
        "other_channel",
        False,
        timedelta(minutes=5),
        200,
        ("photo",),
    )
    assert (third.key, third.display, third.label) == ("1234567890", "1234567890", None)
    assert [c.key for c in watchlist.enabled_channels()] == ["some_channel", "1234567890"]
    assert watchlist.channel("t.me/some_channel") is first

    qais = watchlist.entity("qais-al-khazali")
    assert (qais.name, qais.kind, qais.tags) == ("Qais al-Khazali", "person", ("militia",))
    assert qais.aliases == ("Qais al-Khazali", "قيس الخزعلي", "AAH")
    assert watchlist.entity("cui-wei").kind == "other"
    with pytest.raises(KeyError, match="no entity 'nobody'"):
        watchlist.entity("nobody")

    assert watchlist.alerts.timezone == "Asia/Baghdad"
    desk, militia = watchlist.routes
    assert desk.urls[0].get_secret_value() == ENV["DESK_WEBHOOK_URL"]
    assert desk.digest == timedelta(minutes=10)
    assert (militia.min_status, militia.digest) == ("confirmed", None)
    assert watchlist.summary() == {
        "channels": 3,
        "enabled": 2,
        "entities": 2,
        "aliases": 3,
        "routes": 2,
    }


def test_models_are_frozen(parse):
    watchlist = parse(FULL, env=ENV)
    with pytest.raises(ValidationError):
        watchlist.channels[0].enabled = False  # type: ignore[misc]


def test_secrets_never_shown(parse):
    watchlist = parse(FULL, env=ENV)
    desk, militia = watchlist.routes
    shown = " ".join([repr(watchlist), str(desk), desk.describe(), militia.describe()])
    assert "SECRET-TOKEN" not in shown and "987654" not in shown
    assert desk.masked_urls() == ["tgram://***"]
    assert militia.masked_urls() == ["json://localhost/…", "mailto://desk.example.org/…"]


def test_route_wants_by_id_tag_handle_and_channel_tag(parse):
    watchlist = parse(FULL, env=ENV)
    desk, militia = watchlist.routes
    qais, cui = watchlist.entity("qais-al-khazali"), watchlist.entity("cui-wei")
    some, other, numeric = watchlist.channels
    assert desk.wants(cui, numeric) and desk.wants(qais, None)
    assert militia.wants(qais, some)  # entity tag + channel tag
    assert militia.wants(qais, other)  # channel named by a link
    assert not militia.wants(qais, numeric)  # neither handle nor tag
    assert not militia.wants(cui, some)  # entity not selected
    assert not militia.wants(qais, None)  # unknown channel, route lists channels
    assert [militia.accepts_status(s) for s in ("new", "confirmed", "escalated", "dismissed")] == [
        False,
        True,
        True,
        False,
    ]


def test_route_selects_entity_by_id(parse):
    watchlist = parse(
        """\
        entities:
          - {id: cui-wei, name: Cui Wei}
          - {id: other, name: Other}
        alerts:
          routes:
            - {name: china, url: "json://localhost/x", entities: cui-wei}
        """
    )
    (route,) = watchlist.routes
    assert route.entities == ("cui-wei",)
    assert route.wants(watchlist.entity("cui-wei"), None)
    assert not route.wants(watchlist.entity("other"), None)


def test_variables_expand_in_values_and_double_dollar_escapes(parse):
    watchlist = parse(
        """\
        channels:
          - handle: "${CHANNEL}"
            label: "costs $${PRICE} and $5 (${WHO})"
        """,
        env={"CHANNEL": "@from_env_channel", "WHO": "desk"},
    )
    (channel,) = watchlist.channels
    assert channel.key == "from_env_channel"
    assert channel.label == "costs ${PRICE} and $5 (desk)"


def test_variables_default_to_the_process_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MONITOR_TEST_HOOK", "json://localhost:9/x")
    path = tmp_path / "channels.yaml"
    path.write_text("alerts:\n  routes:\n    - {name: a, url: '${MONITOR_TEST_HOOK}'}\n")
    (route,) = load_watchlist(path).routes
    assert route.urls[0].get_secret_value() == "json://localhost:9/x"


def test_include_merges_entity_files_relative_to_the_watchlist(tmp_path: Path):
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "b.yaml").write_text(
        "entities:\n  - {id: bravo, name: Bravo, tags: [militia]}\n"
    )
    (tmp_path / "entities" / "a.yaml").write_text(
        "entities:\n  - {id: alpha, name: Alpha}\n  - {id: alpha-2, name: Alpha Two}\n"
    )
    (tmp_path / "extra.yaml").write_text("entities:\n  - {id: charlie, name: Charlie}\n")
    path = tmp_path / "channels.yaml"
    path.write_text(
        "include: [entities/*.yaml, extra.yaml]\n"
        "entities:\n  - {id: main, name: Main}\n"
        "alerts:\n  routes:\n    - {name: d, url: 'json://localhost/x', entities: [militia, charlie]}\n"
    )
    watchlist = load_watchlist(path, env={})
    assert [e.id for e in watchlist.entities] == ["main", "alpha", "alpha-2", "bravo", "charlie"]
    assert watchlist.files == (
        path,
        tmp_path / "entities" / "a.yaml",
        tmp_path / "entities" / "b.yaml",
        tmp_path / "extra.yaml",
    )


def test_include_problems_point_into_the_included_file(tmp_path: Path):
    (tmp_path / "people.yaml").write_text(
        "entities:\n  - id: main\n    name: Again\n  - id: ok\n    name: Ok\n    kind: persn\nchannels: []\n"
    )
    path = tmp_path / "channels.yaml"
    path.write_text(
        "include:\n  - people.yaml\n  - missing.yaml\nentities:\n  - {id: main, name: Main}\n"
    )
    with pytest.raises(WatchlistError) as caught:
        load_watchlist(path, env={})
    people, main = str(tmp_path / "people.yaml"), str(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{main}:3:5: included file '{tmp_path / 'missing.yaml'}' not found; fix the path "
        f"(it is relative to {main})",
        f"{people}:2:9: duplicate entity id 'main' (first defined on {main}:5); "
        "give each entity its own id",
        f"{people}:6:11: unknown kind 'persn' in entity 'ok'; did you mean 'person'? "
        "(use one of person, organization, place, other)",
        f"{people}:7:1: unknown key 'channels' in an included file; included files hold only "
        "`entities:`",
    ]


def test_load_entities_from_an_entities_only_file(tmp_path: Path):
    path = tmp_path / "watch.yaml"
    path.write_text("entities:\n  - id: cui-wei\n    name: Cui Wei\n    aliases: [崔巍]\n")
    (entity,) = load_entities(path, env={})
    assert (entity.id, entity.aliases) == ("cui-wei", ("崔巍",))


def test_load_entities_ignores_unset_route_secrets(tmp_path: Path):
    path = tmp_path / "channels.yaml"
    path.write_text(FULL)
    assert [e.id for e in load_entities(path, env={})] == ["qais-al-khazali", "cui-wei"]
    with pytest.raises(WatchlistError, match="DESK_WEBHOOK_URL is not set"):
        load_watchlist(path, env={})


@pytest.mark.parametrize(
    ("handle", "key"),
    [
        ("@Some_Channel", "some_channel"),
        ("some_channel", "some_channel"),
        ("https://t.me/some_channel", "some_channel"),
        ("http://t.me/s/Some_Channel/", "some_channel"),
        ("t.me/s/some_channel", "some_channel"),
        ("t.me/some_channel/1234", "some_channel"),
        ("https://telegram.me/some_channel?single", "some_channel"),
        ("https://t.me/c/1234567890/55", "1234567890"),
        ("-1001234567890", "1234567890"),
        (-1001234567890, "1234567890"),
        ("1234567890", "1234567890"),
        (1234567890, "1234567890"),
    ],
)
def test_handle_forms(handle, key):
    assert canonical_handle(handle) == key


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "@abc",
        "@1abcdef",
        "@has-dash",
        "t.me/+AbCdEf",
        "t.me/joinchat/AbCd",
        "https://x.org/abcde",
        "-4000001",
        "0",
        "@" + "a" * 33,
    ],
)
def test_invalid_handles(handle):
    with pytest.raises(ValueError, match="use @name, a t.me link or a numeric id|invite link"):
        canonical_handle(handle)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("1h 30m", 5400)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@given(st.integers(min_value=1, max_value=10**7))
def test_duration_round_trip(seconds):
    duration = timedelta(seconds=seconds)
    assert parse_duration(format_duration(duration)) == duration


@given(st.from_regex(r"[a-z][a-z0-9_]{4,31}", fullmatch=True))
def test_handle_key_round_trip(name):
    key = canonical_handle(name.upper())
    assert key == name and canonical_handle(display_handle(key)) == key
    assert canonical_handle(f"https://t.me/s/{name}") == key


def test_route_targets_resolve_tags_to_ids_and_keys(parse):
    watchlist = parse(FULL, env=ENV)
    desk, militia = watchlist.routes
    assert watchlist.route_targets(desk) == (None, None)
    assert watchlist.route_targets(militia) == (
        frozenset({"qais-al-khazali"}),
        frozenset({"some_channel", "other_channel"}),
    )


def test_route_name_cannot_hold_a_colon(problems):
    assert problems("alerts:\n  routes:\n    - {name: 'a:b', url: 'json://localhost/x'}\n") == [
        "channels.yaml:3:14: bad route name 'a:b' in route 'a:b'; a name cannot contain ':'"
    ]


def test_anchors_under_x_keys_and_channel_shorthand(parse):
    watchlist = parse(
        """\
        x-fast: &fast {poll_every: 1m, tags: [fast]}
        channels:
          - <<: *fast
            handle: "@quick_channel"
          - "@plain_channel"
        """
    )
    quick, plain = watchlist.channels
    assert (quick.key, quick.poll_every, quick.tags) == (
        "quick_channel",
        timedelta(minutes=1),
        ("fast",),
    )
    assert (plain.key, plain.poll_every) == ("plain_channel", timedelta(minutes=5))
