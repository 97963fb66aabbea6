"""The fast C loader reads a watchlist exactly as ruamel's round-trip loader does, or gives up.

A valid watchlist is read by libyaml (``monitor.config.yamlfast``); ruamel re-reads it only on a
problem. These tests hold the fast loader to ruamel's reading (YAML 1.2: ``yes``/``on`` are
text, duplicate keys are refused), and check the fast path really is the one taken.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import load_watchlist, parse_watchlist
from monitor.config import loader as loader_module
from monitor.config.loader import _Builder
from monitor.config.yamlfast import NeedsRoundTrip, fast_load
from monitor.config.yamlpos import Problem, YamlDoc, parse_yaml

REPO = Path(__file__).resolve().parents[2]

TRICKY = [
    "a: &x [1, 2]\nb: *x\n",
    "base: &b {kind: person, tags: [x]}\nother: *b\n",
    "m: &m {a: 1}\nn:\n  <<: *m\n  b: 2\n",
    "on: yes\noff: no\ny: n\nY: N\n",
    "a: 'yes'\nb: \"on\"\n",
    "a: '5'\nb: \"010\"\nc: '1e3'\n",
    "a: 010\nb: 0o10\nc: 0x1F\nd: 1_000\ne: +5\nf: -0\ng: 0\n",
    "a: 1.50\nb: 1e3\nc: .5\nd: .inf\ne: -.inf\nf: 1.\n",
    "a: 2024-01-02\nb: 2024-01-02 10:00:00\nc: 2024-01-02T10:00:00Z\n",
    "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n",
    "a: true\nb: True\nc: TRUE\nd: tRUE\ne: false\nf: FALSE\n",
    "1: one\n2.5: x\ntrue: t\n~: n\n",
    "a: plain\n  continued\n  lines\n",
    "a: >\n  folded\n  text\n\n  para\nb: |\n  literal\n   kept\nc: |-\n  strip\nd: >+\n  keep\n\n",
    "a: \"tab\\there \\u0627\\u200c\\u06cc \\x41\"\nb: 'it''s'\n",
    "a: {b: [1, {c: d}], e: f}\n",
    "a: x # comment\nb: '# not a comment'\n",
    "key with spaces: v\nقيس: الخزعلي\nخامنه\u200cای: x\n",
    "a: !!str 5\n",
    "a: !custom x\n",
    "a: ! 5\n",
    "a: Breaking! news\n",
    "a: 1\na: 2\n",
    "a: 1\n'a': 2\n",
    "? [a, b]\n: c\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: b\n---\nc: d\n",
    "---\na: 1\n...\n",
    "a: b: c\n",
    "a:\n\t- b\n",
    "a: [b\n",
    'a: "x\u2028y"\n',
    "a: =\nb: <<\n",
    "",
    "# only a comment\n",
    "- a\n- b\n",
    "just text\n",
    "a: -\n",
    "a: - b\n",
    "a: 'x'\nb: \"y\"\n\n\n",
    "a: 12:30\nb: 1:2:3\nc: 190:20:30\n",
    "a: 0b101\nb: 0.\nc: +.5\nd: 1e\n",
]


def round_trip_plain(text: str) -> object:
    parsed = parse_yaml(text, "x.yaml")
    if isinstance(parsed, Problem):
        return parsed
    return parsed.plain((), {}, [])


def fast_plain(text: str) -> object:
    return YamlDoc("x.yaml", fast_load(text)).plain((), {}, [])


@pytest.mark.parametrize("text", TRICKY)
def test_fast_loader_agrees_with_ruamel_or_gives_up(text: str) -> None:
    try:
        fast = fast_plain(text)
    except NeedsRoundTrip:
        return
    expected = round_trip_plain(text)
    assert not isinstance(expected, Problem), f"fast loader accepted what ruamel refuses: {text!r}"
    assert fast == expected
    assert [type(v) for v in _leaves(fast)] == [type(v) for v in _leaves(expected)]


_SCALAR_CHARS = "0123456789.-+_:eExobTZnulyst aAfr~!<="


@given(st.text(_SCALAR_CHARS, min_size=1, max_size=12))
def test_fast_loader_reads_any_plain_scalar_as_ruamel_does(scalar: str) -> None:
    text = f"k: {scalar}\n"
    try:
        fast = fast_plain(text)
    except NeedsRoundTrip:
        return
    expected = round_trip_plain(text)
    assert not isinstance(expected, Problem), text
    assert fast == expected
    assert [type(v) for v in _leaves(fast)] == [type(v) for v in _leaves(expected)]


@pytest.mark.parametrize(
    "text",
    ["on: yes\n", "a: 'yes'\n", "a: &x [1]\nb: *x\n", "a: '010'\n", "a: 1\nb: -2\n", "a: ~\n"],
)
def test_fast_loader_reads_yaml_12_values_itself(text: str) -> None:
    """What a watchlist commonly holds does not need the slow loader."""
    assert fast_plain(text) == round_trip_plain(text)


def test_the_repository_channels_yaml_is_the_same_watchlist_fast_or_round_trip() -> None:
    path = REPO / "channels.yaml"
    text = path.read_text(encoding="utf-8")
    fast = _Builder({}, REPO, fast=True).build(text, str(path))
    slow = _Builder({}, REPO).build(text, str(path))
    assert fast == slow
    assert fast.entities and fast.channels


def test_a_watchlist_with_includes_anchors_and_yaml_11_words_is_the_same_either_way(
    tmp_path: Path,
) -> None:
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "a.yaml").write_text(
        dedent("""\
        entities:
          - id: yes-men
            name: "yes"
            kind: organization
            aliases: [on, off, "010", '1e3', Yes Men, "قيس الخزعلي", خامنه‌ای]
        """),
        encoding="utf-8",
    )
    text = dedent("""\
        x-tags: &tags [militia, iraq]
        defaults: {poll_every: 5m, backfill: 0}
        include: [entities/*.yaml]
        channels:
          - handle: "@some_channel"
            tags: *tags
            enabled: true
          - 1234567890
        entities:
          - id: no
            name: "No"
            tags: *tags
            aliases: [NO, Off, Yes]
        alerts:
          routes:
            - {name: desk, url: "${HOOK}", entities: [militia], channels: all}
        """)
    env = {"HOOK": "json://localhost/hook"}
    path = tmp_path / "channels.yaml"
    fast = _Builder(env, tmp_path, fast=True).build(text, str(path))
    slow = _Builder(env, tmp_path).build(text, str(path))
    assert fast == slow
    assert fast.entities[0].id == "no" and fast.entities[1].aliases[:3] == ("on", "off", "010")


def test_a_valid_watchlist_is_read_without_ruamel(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the round-trip loader was used for a valid file")

    monkeypatch.setattr(loader_module, "parse_yaml", refuse)
    watchlist = load_watchlist(REPO / "channels.yaml", env={})
    assert watchlist.entity("qais-al-khazali").name == "Qais al-Khazali"


def test_a_duplicate_key_is_still_reported_by_position() -> None:
    with pytest.raises(loader_module.WatchlistError) as caught:
        parse_watchlist("channels: []\nentities: []\nchannels: []\n", env={})
    (line,) = [str(p) for p in caught.value.problems]
    assert line.startswith("channels.yaml:3:1: YAML syntax error:") and "duplicate key" in line


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in (k, *_leaves(v))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]
