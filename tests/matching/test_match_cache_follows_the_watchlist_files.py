"""``monitor match`` with a data directory takes the compiled matcher from its cache without
reading the watchlist again, and still answers exactly as a run without a cache: whatever is
edited, added, removed or renamed among the watchlist's files, and for a faulty file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config.watchcache import RECORDS_KEPT, matcher_for_file

runner = CliRunner()

CHANNELS = """\
include: [entities/*.yaml]
entities:
  - id: khazali
    name: Qais al-Khazali
    aliases: [قيس الخزعلي]
"""
MILITIAS = """\
entities:
  - id: aah
    name: Asa'ib Ahl al-Haq
    aliases: [عصائب أهل الحق, AAH]
"""
POSTS = [
    "«وقيس الخزعلي» قال إن AAH",
    "بيان لعصائب اهل الحق",
    "Kataib Hezbollah and Harakat al-Nujaba said",
    "nothing here",
]


@pytest.fixture
def watchlist(tmp_path: Path) -> Path:
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "militias.yaml").write_text(MILITIAS, encoding="utf-8")
    channels = tmp_path / "channels.yaml"
    channels.write_text(CHANNELS, encoding="utf-8")
    return channels


def run(watchlist: Path, data: Path | None, *extra: str) -> tuple[int, str, str]:
    """``monitor match --json`` over POSTS; with ``data``, in that data directory."""
    where = ["--data-dir", str(data)] if data is not None else ["--data-dir", "/nonexistent"]
    posts = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in
                    enumerate(POSTS))  # fmt: skip
    result = runner.invoke(
        app, [*extra, *where, "match", "--watchlist", str(watchlist), "--json"], input=posts
    )
    return result.exit_code, result.stdout, result.stderr


def found(stdout: str) -> list[tuple[int, str, str]]:
    return [(r["id"], r["entity"], r["matched"]) for r in map(json.loads, stdout.splitlines())]


def edit(path: Path, text: str) -> None:
    """Rewrite ``path``, with a modification time that does not go back (as an editor)."""
    before = path.stat().st_mtime if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, (time.time(), max(time.time(), before + 1)))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_a_cached_run_reads_no_yaml_and_matches_as_an_uncached_one(
    watchlist: Path, data: Path
) -> None:
    uncached = run(watchlist, None)
    assert uncached[0] == 0, uncached
    assert found(uncached[1]) == [
        (0, "khazali", "وقيس الخزعلي"),
        (0, "aah", "AAH"),
        (1, "aah", "لعصائب اهل الحق"),
    ]
    first = run(watchlist, data, "--debug")
    assert "watchlist_cache_hit" not in first[2]
    assert len(list((data / "cache").glob("watchlist-*.json"))) == 1
    hit = run(watchlist, data, "--debug")
    assert "watchlist_cache_hit" in hit[2]
    assert first[:2] == hit[:2] == uncached[:2]


def test_an_edited_included_file_is_read_again(watchlist: Path, data: Path) -> None:
    included = watchlist.parent / "entities" / "militias.yaml"
    assert found(run(watchlist, data)[1])[1:] == [(0, "aah", "AAH"), (1, "aah", "لعصائب اهل الحق")]
    # Same length, one alias changed: a cache keyed on sizes or times would miss it.
    edit(included, MILITIAS.replace("AAH", "KHH").replace("أهل", "أصل"))
    after = run(watchlist, data, "--debug")
    assert "watchlist_cache_hit" not in after[2]
    assert found(after[1]) == [(0, "khazali", "وقيس الخزعلي")]
    assert after[1] == run(watchlist, None)[1]
    assert "watchlist_cache_hit" in run(watchlist, data, "--debug")[2]  # recorded again


def test_an_edited_main_file_is_read_again(watchlist: Path, data: Path) -> None:
    run(watchlist, data)
    edit(watchlist, CHANNELS.replace("قيس الخزعلي", "قاسم سليماني"))
    assert found(run(watchlist, data)[1]) == [(0, "aah", "AAH"), (1, "aah", "لعصائب اهل الحق")]


def test_a_file_added_to_or_removed_from_an_include_pattern_counts(
    watchlist: Path, data: Path
) -> None:
    run(watchlist, data)
    added = watchlist.parent / "entities" / "more.yaml"
    edit(added, "entities:\n  - id: kh\n    name: Kataib Hezbollah\n")
    assert (2, "kh", "Kataib Hezbollah") in found(run(watchlist, data)[1])
    (watchlist.parent / "entities" / "militias.yaml").unlink()
    assert found(run(watchlist, data)[1]) == [
        (0, "khazali", "وقيس الخزعلي"),
        (2, "kh", "Kataib Hezbollah"),
    ]
    # Renamed out of the pattern: no longer included.
    added.rename(watchlist.parent / "entities" / "more.yaml.off")
    assert found(run(watchlist, data)[1]) == [(0, "khazali", "وقيس الخزعلي")]


def test_a_faulty_file_after_a_cached_run_reports_what_an_uncached_run_does(
    watchlist: Path, data: Path
) -> None:
    run(watchlist, data)
    included = watchlist.parent / "entities" / "militias.yaml"
    edit(included, MILITIAS.replace("    name: Asa'ib Ahl al-Haq\n", "    nme: Asa'ib\n"))
    cached, uncached = run(watchlist, data), run(watchlist, None)
    assert cached[0] == uncached[0] == 2
    assert cached[1] == uncached[1] == ""
    assert "militias.yaml:3:5: " in cached[2] and "'nme'" in cached[2]
    assert cached[2] == uncached[2]
    assert not list((data / "cache").glob("matcher-*.bin"))[1:]  # nothing new cached
    # Mended: answered from a fresh load, then cached again.
    edit(included, MILITIAS)
    assert run(watchlist, data)[:2] == run(watchlist, None)[:2]


def test_a_watchlist_reading_environment_variables_is_loaded_every_time(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text("entities:\n  - id: x\n    name: ${WATCHED_NAME}\n", encoding="utf-8")
    monkeypatch.setenv("WATCHED_NAME", "Kataib Hezbollah")
    assert found(run(path, data)[1]) == [(2, "x", "Kataib Hezbollah")]
    monkeypatch.setenv("WATCHED_NAME", "Harakat al-Nujaba")
    assert found(run(path, data)[1]) == [(2, "x", "Harakat al-Nujaba")]
    assert not list((data / "cache").glob("watchlist-*.json"))


def test_a_damaged_record_or_a_pruned_matcher_only_costs_a_load(
    watchlist: Path, data: Path
) -> None:
    expected = run(watchlist, None)[1]
    run(watchlist, data)
    (record,) = (data / "cache").glob("watchlist-*.json")
    record.write_text('{"format": "watchlist-record-1", "matcher": 3', encoding="utf-8")
    assert run(watchlist, data)[:2] == (0, expected)
    for matcher in (data / "cache").glob("matcher-*.bin"):
        matcher.unlink()
    assert run(watchlist, data)[:2] == (0, expected)
    assert run(watchlist, data, "--debug")[2].count("watchlist_cache_hit") == 1


def test_records_are_pruned_to_the_most_recently_used(tmp_path: Path, data: Path) -> None:
    cache = data / "cache"
    paths = []
    for i in range(RECORDS_KEPT + 2):
        path = tmp_path / f"w{i}.yaml"
        path.write_text(f"entities:\n  - id: e{i}\n    name: Name {i}\n", encoding="utf-8")
        paths.append(path)
        matcher_for_file(path, cache, env={})
    assert len(list(cache.glob("watchlist-*.json"))) == RECORDS_KEPT
    assert [m.entity_id for m in matcher_for_file(paths[-1], cache, env={}).match("Name 9")] == [
        "e9"
    ]


#: ``monitor match`` through the real entry point, then which heavy modules it loaded.
LOADED = """
import sys
from monitor.cli import main
try:
    main()
finally:
    print(*(m in sys.modules for m in ("yaml", "ruamel.yaml", "pydantic")), file=sys.stderr)
"""


def test_a_cached_run_loads_no_yaml_reader_and_no_models(watchlist: Path, data: Path) -> None:
    def loaded() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", LOADED, "match", "--watchlist", str(watchlist), "--json"],
            input='{"id": 1, "text": "AAH"}\n',
            capture_output=True,
            text=True,
            env={**os.environ, "MONITOR_DATA_DIR": str(data)},
            check=True,
        )
        assert json.loads(done.stdout)["entity"] == "aah"
        return done.stderr.split()[-3:]

    assert loaded() == ["True", "False", "True"]  # read, validated, compiled, recorded
    assert loaded() == ["False", "False", "False"]
