"""The compiled-matcher cache: a hit matches exactly as a fresh compile, and never goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import EntitySpec, compile_matcher
from monitor.config.compiled import CACHE_KEEP, ISOLATE_ABOVE, cache_key
from monitor.matching import Matcher

ENTITIES = [
    EntitySpec(
        id="qais-al-khazali",
        name="Qais al-Khazali",
        kind="person",
        aliases=("قيس الخزعلي", "قیس خزعلی", "al-Khazali"),
    ),
    EntitySpec(id="aah", name="Asa'ib Ahl al-Haq", aliases=("AAH", "عصائب أهل الحق")),
    EntitySpec(id="khamenei", name="Ali Khamenei", aliases=("خامنه‌ای",)),
]
POSTS = [
    "وقيس الخزعلي قال اليوم",
    "Qais Khazali and #QaisAlKhazali, then AAH but not Aah",
    "بيان لعصائب اهل الحق",
    "سخنان خامنه ای و خامنهای",
    "nothing here at all",
]


def matches(matcher: Matcher) -> list[list[tuple[str, str, str, int, int]]]:
    return [
        [(m.entity_id, m.alias, m.rule, m.start, m.end) for m in matcher.match(p)] for p in POSTS
    ]


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("matcher-*.bin"))


def refuse_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_(*args: object) -> Matcher:
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(Matcher, "compile", compile_)


def test_a_cache_hit_matches_exactly_as_a_fresh_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = matches(Matcher.compile(ENTITIES))
    assert all(fresh[:4]) and not fresh[4]
    first = compile_matcher(ENTITIES, tmp_path)
    assert len(cache_files(tmp_path)) == 1
    refuse_compile(monkeypatch)
    cached = compile_matcher(ENTITIES, tmp_path)
    assert cached is not first
    assert matches(cached) == matches(first) == fresh
    assert (cached.n_aliases, cached.n_forms) == (first.n_aliases, first.n_forms)


@pytest.mark.parametrize(
    "change",
    [
        {"aliases": ("قيس الخزعلي", "قیس خزعلی", "al-Khazaali")},  # one alias edited
        {"name": "Qays al-Khazali"},
        {"id": "qais-khazali"},
    ],
)
def test_a_changed_entity_is_compiled_again_not_taken_from_the_cache(
    tmp_path: Path, change: dict[str, object]
) -> None:
    compile_matcher(ENTITIES, tmp_path)
    edited = [ENTITIES[0].model_copy(update=change), *ENTITIES[1:]]
    assert cache_key(edited) != cache_key(ENTITIES)
    matcher = compile_matcher(edited, tmp_path)
    assert matches(matcher) == matches(Matcher.compile(edited))
    assert len(cache_files(tmp_path)) == 2


def test_an_edited_alias_matches_at_once_and_the_old_one_no_longer_does(tmp_path: Path) -> None:
    compile_matcher(ENTITIES, tmp_path)
    edited = [ENTITIES[0].model_copy(update={"aliases": ("Abu Azrael",)}), *ENTITIES[1:]]
    matcher = compile_matcher(edited, tmp_path)
    assert [m.entity_id for m in matcher.match("Abu Azrael spoke")] == ["qais-al-khazali"]
    assert not matcher.match("قيس الخزعلي قال")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: b"not a cache file at all",
        lambda data: data[: len(data) // 2],  # truncated: the header is intact
        lambda data: data[:200] + b"\x00" * 64 + data[264:],
    ],
    ids=["empty", "garbage", "truncated", "overwritten"],
)
def test_a_corrupt_cache_file_is_ignored_and_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage
) -> None:
    compile_matcher(ENTITIES, tmp_path)
    (path,) = cache_files(tmp_path)
    good = path.read_bytes()
    path.write_bytes(damage(good))
    matcher = compile_matcher(ENTITIES, tmp_path)
    assert matches(matcher) == matches(Matcher.compile(ENTITIES))
    assert path.read_bytes() != damage(good)
    refuse_compile(monkeypatch)  # written again: the next load is a hit
    assert matches(compile_matcher(ENTITIES, tmp_path)) == matches(matcher)


def test_an_unwritable_cache_directory_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    matcher = compile_matcher(ENTITIES, blocker / "cache")
    assert matches(matcher) == matches(Matcher.compile(ENTITIES))


def test_the_cache_keeps_the_newest_files_only(tmp_path: Path) -> None:
    for i in range(CACHE_KEEP + 2):
        compile_matcher([*ENTITIES, EntitySpec(id=f"e{i}", name=f"Name {i}")], tmp_path)
    assert len(cache_files(tmp_path)) == CACHE_KEEP
    assert not list(tmp_path.glob(".matcher-*"))  # no temporary files left behind


def test_no_cache_directory_compiles_every_time(tmp_path: Path) -> None:
    assert matches(compile_matcher(ENTITIES)) == matches(Matcher.compile(ENTITIES))
    assert not list(tmp_path.iterdir())


def test_a_matcher_survives_dumps_and_loads_and_refuses_foreign_bytes() -> None:
    matcher = Matcher.compile(ENTITIES)
    assert matches(Matcher.loads(matcher.dumps())) == matches(matcher)
    assert Matcher.loads(Matcher.compile([]).dumps()).match("anything") == []
    for junk in (b"", b"\x80\x05N.", b"junk"):
        with pytest.raises(ValueError):
            Matcher.loads(junk)


def many_entities(n: int) -> list[EntitySpec]:
    return [
        EntitySpec(id=f"e-{i}", name=f"Name Number{i}", aliases=(f"قيس الخزعلي {i}", f"Abu X{i}"))
        for i in range(n)
    ]


def test_an_isolated_compile_in_a_child_process_matches_as_in_process(tmp_path: Path) -> None:
    entities = many_entities(ISOLATE_ABOVE // 3 + 1)  # 3 names each: just above the threshold
    isolated = compile_matcher(entities, tmp_path, isolate=True)
    fresh = Matcher.compile(entities)
    posts = ["وقيس الخزعلي 7 قال", "Name Number12 and Abu X3", "nothing"]
    assert [isolated.match(p) for p in posts] == [fresh.match(p) for p in posts]
    assert isolated.match(posts[0]) and isolated.n_forms == fresh.n_forms
    assert len(cache_files(tmp_path)) == 1


def test_a_failed_child_process_falls_back_to_compiling_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.executable", "/bin/false")
    entities = many_entities(ISOLATE_ABOVE // 3 + 1)
    matcher = compile_matcher(entities, None, isolate=True)
    assert matcher.match("Abu X3 spoke")
