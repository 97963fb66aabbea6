"""Each kind of mistake in channels.yaml is reported at its exact line and column, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import WatchlistError, load_watchlist, parse_watchlist
from monitor.errors import ConfigError


def test_unknown_key_with_did_you_mean(problems):
    lines = problems(
        """\
        channels:
          - handle: "@first_channel"
          - handle: "@foo_channel"
            label: Foo
            pol_every: 2m
        """
    )
    assert lines == [
        "channels.yaml:5:5: unknown key 'pol_every' in channel '@foo_channel'; "
        "did you mean 'poll_every'?"
    ]


def test_unknown_key_without_close_match_lists_allowed_keys(problems):
    lines = problems(
        """\
        entities:
          - id: x
            name: X
            colour: red
        """
    )
    assert lines == [
        "channels.yaml:4:5: unknown key 'colour' in entity 'x'; "
        "allowed keys: id, name, kind, tags, aliases, infer"
    ]


def test_unknown_top_level_key(problems):
    assert problems("channels: []\nentitles: []\n") == [
        "channels.yaml:2:1: unknown key 'entitles' at the top level; did you mean 'entities'?"
    ]


def test_duplicate_channel_names_the_first_line(problems):
    lines = problems(
        """\
        channels:
          - handle: "@some_channel"
            label: one
          - handle: "@other_channel"
          - handle: https://t.me/s/Some_Channel
        """
    )
    assert lines == [
        "channels.yaml:5:13: duplicate channel 'https://t.me/s/Some_Channel' in the watchlist; "
        "'@some_channel' on line 2 is the same channel: remove one of them"
    ]


def test_duplicate_numeric_channel_in_two_forms(problems):
    lines = problems(
        """\
        channels:
          - handle: -1001234567890
          - handle: 1234567890
        """
    )
    assert len(lines) == 1
    assert lines[0].startswith("channels.yaml:3:13: duplicate channel '1234567890'")
    assert "on line 2" in lines[0]


def test_duplicate_entity_id(problems):
    lines = problems(
        """\
        entities:
          - id: qais-al-khazali
            name: Qais al-Khazali
          - id: asaib-ahl-al-haq
            name: Asaib Ahl al-Haq
          - id: qais-al-khazali
            name: Qais Khazali
        """
    )
    assert lines == [
        "channels.yaml:6:9: duplicate entity id 'qais-al-khazali' (first defined on line 2); "
        "give each entity its own id"
    ]


def test_duplicate_found_even_when_the_first_item_is_invalid(problems):
    lines = problems(
        """\
        entities:
          - id: x-1
            name: X
            kind: persn
          - id: x-1
            name: Y
        """
    )
    assert [line.split(": ", 1)[0] for line in lines] == ["channels.yaml:4:11", "channels.yaml:5:9"]


@pytest.mark.parametrize("duration", ["5 min", "300", "soon", "0s", "1h30"])
def test_bad_duration(problems, duration):
    lines = problems(
        f"""\
        defaults:
          backfill: 10
        channels:
          - handle: "@foo_channel"
            poll_every: "{duration}"
        """
    )
    assert len(lines) == 1
    assert lines[0].startswith(
        f"channels.yaml:5:17: bad duration '{duration}' in channel '@foo_channel'"
    )
    assert "like 30s, 5m, 1h or 1h30m" in lines[0]


def test_poll_every_below_ten_seconds(problems):
    assert problems("defaults:\n  poll_every: 5s\n") == [
        "channels.yaml:2:15: poll_every '5s' is too short in defaults; the minimum is 10s "
        "(polling faster brings flood waits)"
    ]


def test_empty_alias(problems):
    lines = problems(
        """\
        entities:
          - id: qais-al-khazali
            name: Qais al-Khazali
            aliases:
              - Qais al-Khazali
              - "  "
        """
    )
    assert lines == [
        "channels.yaml:6:9: empty alias in entity 'qais-al-khazali'; "
        "remove the item or write the alias"
    ]


@pytest.mark.parametrize("alias", ["\u200c", "---", "\u0640\u0640\u0640", "\u200f#\u200e"])
def test_alias_that_normalises_to_nothing(problems, alias):
    lines = problems(
        f"""\
        entities:
          - id: qais-al-khazali
            name: Qais al-Khazali
            aliases: ["Qais al-Khazali",
                      "{alias}"]
        """
    )
    assert len(lines) == 1
    assert lines[0].startswith("channels.yaml:5:15: alias '")
    assert "normalises to nothing in entity 'qais-al-khazali'" in lines[0]
    assert "remove it" in lines[0]


def test_invisible_alias_is_shown_escaped(problems):
    (line,) = problems("entities:\n  - {id: a, name: A, aliases: ['\u200c']}\n")
    assert "alias '\\u200c' normalises to nothing" in line


def test_unset_variable_is_named(problems):
    lines = problems(
        """\
        alerts:
          routes:
            - name: desk
              url: "${DESK_WEBHOOK_URL}"
        """
    )
    assert lines == [
        "channels.yaml:4:12: environment variable DESK_WEBHOOK_URL is not set (or is empty), "
        "used in route 'desk'; export DESK_WEBHOOK_URL=... before running, or remove the reference"
    ]


def test_malformed_variable_reference(problems):
    (line,) = problems("channels:\n  - {handle: '@foo_channel', label: '${not closed'}\n")
    assert line.startswith(
        "channels.yaml:2:37: malformed variable reference in channel '@foo_channel'"
    )


def test_route_with_unknown_entity_id_or_tag(problems):
    lines = problems(
        """\
        entities:
          - id: qais-al-khazali
            name: Qais al-Khazali
            tags: [militia]
        alerts:
          routes:
            - name: desk
              url: json://localhost:8080/hook
              entities:
                - militia
                - qais-al-khazal
        """
    )
    assert lines == [
        "channels.yaml:11:11: route 'desk' names unknown entity or tag 'qais-al-khazal'; "
        "did you mean 'qais-al-khazali'? (use an entity id or an entity tag)"
    ]


def test_route_with_unknown_channel(problems):
    lines = problems(
        """\
        channels:
          - handle: "@some_channel"
            tags: [iraq]
        alerts:
          routes:
            - name: desk
              url: json://localhost:8080/hook
              channels: [iraq, t.me/some_channel, "@nope_nope"]
        """
    )
    assert lines == [
        "channels.yaml:8:43: route 'desk' names unknown channel or channel tag '@nope_nope'; "
        "use a handle from `channels:` or a channel tag"
    ]


def test_unknown_kind(problems):
    lines = problems(
        """\
        entities:
          - id: pla
            name: People's Liberation Army
            kind: organisation
        """
    )
    assert lines == [
        "channels.yaml:4:11: unknown kind 'organisation' in entity 'pla'; did you mean "
        "'organization'? (use one of person, organization, place, other)"
    ]


def test_unknown_media_kind(problems):
    (line,) = problems("defaults:\n  media: [photo, vidoe]\n")
    assert line.startswith(
        "channels.yaml:2:18: unknown media 'vidoe' in defaults; did you mean 'video'?"
    )


@pytest.mark.parametrize(
    "handle", ["@x", "t.me/+AbCdEf", "https://example.com/foo", "-12345", "@1channel", "0"]
)
def test_invalid_handle_says_how_to_fix(problems, handle):
    (line,) = problems(f'channels:\n  - handle: "{handle}"\n')
    assert line.startswith("channels.yaml:2:13: ")
    assert "channel #1" in line
    assert "@name" in line or "numeric id" in line


def test_missing_handle(problems):
    assert problems("channels:\n  - label: no handle\n") == [
        "channels.yaml:2:5: channel #1 has no 'handle'; add `handle: ...`"
    ]


def test_unknown_time_zone(problems):
    assert problems("alerts:\n  timezone: Asia/Bagdad\n") == [
        "channels.yaml:2:13: unknown time zone 'Asia/Bagdad' in alerts; did you mean 'Asia/Baghdad'?"
    ]


def test_literal_password_in_route_url_is_refused_and_not_echoed(problems):
    (line,) = problems(
        "alerts:\n  routes:\n    - name: mail\n      urls: ['mailto://desk:hunter2@example.org']\n"
    )
    assert line.startswith("channels.yaml:4:14: route 'mail' has a password written in the file")
    assert "hunter2" not in line


def test_bad_url_from_environment_is_not_echoed(problems):
    (line,) = problems(
        "alerts:\n  routes:\n    - {name: desk, url: '${HOOK}'}\n", env={"HOOK": "s3cr3t-token"}
    )
    assert line.startswith("channels.yaml:3:25: route url is not an Apprise URL")
    assert "s3cr3t" not in line


def test_yaml_syntax_error_has_position(problems):
    (line,) = problems(
        """\
        channels:
          - handle: "@foo_channel"
           label: x
        """
    )
    assert line.startswith("channels.yaml:3:4: YAML syntax error:")


def test_duplicate_yaml_key(problems):
    (line,) = problems('channels:\n  - handle: "@foo_channel"\n    handle: "@bar_channel"\n')
    assert line.startswith("channels.yaml:3:5: YAML syntax error:")
    assert "duplicate key" in line and "remove one of the two keys" in line


def test_all_problems_reported_at_once_sorted_by_line(problems):
    lines = problems(
        """\
        entities:
          - id: b-entity
            name: B
            kind: thing
        channels:
          - handle: "@foo_channel"
            poll_every: often
          - handle: "@x"
        defaults:
          backfill: -1
        """
    )
    assert [line.split(": ", 1)[0] for line in lines] == [
        "channels.yaml:4:11",
        "channels.yaml:7:17",
        "channels.yaml:8:13",
        "channels.yaml:10:13",
    ]


def test_error_is_a_config_error_with_every_line_and_a_hint():
    text = "channels:\n  - handle: '@x'\n  - {handle: '@foo_channel', tags: 3}\n"
    with pytest.raises(ConfigError) as caught:
        parse_watchlist(text, source="watch.yaml", env={})
    message = str(caught.value)
    assert message.startswith("2 problems in the watchlist:\n")
    assert "watch.yaml:2:13: invalid channel handle '@x'" in message
    assert "watch.yaml:3:36: tags in channel '@foo_channel' must be a list" in message
    assert caught.value.hint and "monitor channels check" in caught.value.hint


def test_empty_file_and_non_mapping(tmp_path: Path):
    path = tmp_path / "channels.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(WatchlistError, match="the file is empty"):
        load_watchlist(path, env={})
    path.write_text("- just\n- a list\n")
    with pytest.raises(WatchlistError, match="top level must be a mapping"):
        load_watchlist(path, env={})


def test_missing_file_names_it(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"watchlist file '.*nope.yaml' not found"):
        load_watchlist(tmp_path / "nope.yaml")
