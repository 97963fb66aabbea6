"""A hostile or broken channels.yaml is refused quickly with its place: an alias bomb, deep
nesting, an alias loop, a huge file. Both readers (libyaml's and ruamel's) hold the bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import WatchlistError, parse_watchlist
from monitor.config.yamlfast import fast_load
from monitor.config.yamllimits import MAX_BYTES, MAX_DEPTH, YamlLimitError
from monitor.config.yamlpos import Problem, parse_yaml


def billion_laughs() -> str:
    lines = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"x-{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\nentities:\n  - {id: x, name: X, aliases: *i}\n"


def nested(depth: int) -> str:
    return "entities: " + "[" * depth + "]" * depth + "\n"


def block_nested(depth: int) -> str:
    return "entities:\n" + "".join("  " * level + "-\n" for level in range(1, depth + 1))


HUGE = "# padding\n" * (MAX_BYTES // 10 + 1)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("MONITOR_CHANNELS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (billion_laughs(), "channels.yaml:6:6: aliases here expand to more than 2,000,000 values"),
        (nested(5_000), f"channels.yaml:1:74: values nested more than {MAX_DEPTH} levels deep"),
        (block_nested(3_000), "channels.yaml:65:129: values nested more than 64 levels deep"),
        (HUGE, "channels.yaml:1:1: the file is 16.0 MiB, over the 16 MiB limit"),
    ],
    ids=["billion-laughs", "deep-flow-nesting", "deep-block-nesting", "huge-file"],
)
def test_channels_check_refuses_a_hostile_file_with_its_place(runner, text, says) -> None:
    Path("channels.yaml").write_text(text)
    result = runner.invoke(app, ["channels", "check", "channels.yaml"])
    assert result.exit_code == 1
    assert result.stderr.startswith(says), result.stderr
    assert "; " in result.stderr.splitlines()[0]  # and says what to do
    assert "Traceback" not in result.output


def test_an_included_huge_file_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text(HUGE)
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist("include: [big.yaml]\nentities: []\n", base_dir=tmp_path, env={})
    assert str(caught.value.problems[0]).startswith(f"{tmp_path / 'big.yaml'}:1:1: the file is")


@pytest.mark.parametrize(
    ("text", "place", "says"),
    [
        (billion_laughs(), None, "expand to more than"),
        (block_nested(MAX_DEPTH + 5), None, "nested more than"),
        ("a: &x [1, *x]\n", (1, 11), "used inside its own anchor"),
        ("".join(f"k{i}: *a\n" for i in range(10_001)).join(["a: &a 1\n", ""]), None, "alias"),
    ],
    ids=["billion-laughs", "deep-nesting", "alias-loop", "too-many-aliases"],
)
def test_both_readers_refuse_what_costs_too_much(text, place, says) -> None:
    with pytest.raises(YamlLimitError) as fast:
        fast_load(text)
    assert says in fast.value.message
    slow = parse_yaml(text, "f.yaml")
    assert isinstance(slow, Problem) and says in slow.message, slow
    if place:  # libyaml's alias is its anchor's node: the line only
        assert (slow.line, slow.column) == place and fast.value.line == place[0]


def test_both_readers_refuse_a_text_over_the_size_limit() -> None:
    with pytest.raises(YamlLimitError, match="over the 16 MiB limit"):
        fast_load(HUGE)
    problem = parse_yaml(HUGE, "f.yaml")
    assert isinstance(problem, Problem) and "over the 16 MiB limit" in problem.message


def test_an_alias_that_nests_its_anchor_too_deep_is_refused_by_both_readers() -> None:
    half = MAX_DEPTH // 2 + 2
    text = "x-a: &a " + "[" * half + "]" * half + "\nx-b: " + "[" * half + "*a" + "]" * half + "\n"
    fits = "x-a: &a [[]]\nx-b: " + "[" * half + "*a" + "]" * half + "\n"
    assert fast_load(fits) and not isinstance(parse_yaml(fits, "f.yaml"), Problem)
    with pytest.raises(YamlLimitError, match="nested more than"):
        fast_load(text)
    problem = parse_yaml(text, "f.yaml")
    assert isinstance(problem, Problem) and "nested more than" in problem.message


def test_the_ruamel_reader_refuses_nesting_deeper_than_libyaml_reads() -> None:
    problem = parse_yaml(nested(100_000), "f.yaml")  # libyaml itself stops at 1,000
    assert isinstance(problem, Problem) and "nested more than" in problem.message


def test_anchors_and_nesting_within_the_bounds_still_load() -> None:
    text = (
        "x-tags: &tags [iraq, militia]\n"
        "entities:\n"
        + "".join(f"  - {{id: e{i}, name: E{i}, tags: *tags}}\n" for i in range(200))
        + "x-deep: "
        + "[" * (MAX_DEPTH - 1)
        + "]" * (MAX_DEPTH - 1)
        + "\n"
    )
    watchlist = parse_watchlist(text, env={})
    assert watchlist.entity("e199").tags == ("iraq", "militia")
    assert parse_watchlist(text + "x-z: !custom 1\n", env={}).entity("e0").tags == (
        "iraq",
        "militia",
    )
