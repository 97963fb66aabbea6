"""``monitor match`` and ``monitor entities import`` through the CLI runner."""

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_entities

DATA = Path(__file__).parent / "data"
WATCHLIST = """\
entities:
  - id: khazali
    name: Qais al-Khazali
    kind: person
    aliases: [قيس الخزعلي]
  - id: aah
    name: Asa'ib Ahl al-Haq
    kind: organization
    aliases: [عصائب أهل الحق, AAH]
"""

runner = CliRunner()


def write_watchlist(tmp_path: Path) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(WATCHLIST, encoding="utf-8")
    return path


def test_match_prints_one_json_line_per_match(tmp_path: Path) -> None:
    posts = "\n".join(
        json.dumps(p, ensure_ascii=False)
        for p in [
            {"id": 7, "text": "«وقيس الخزعلي» قال إن AAH"},
            {"id": 8, "text": "Aah, it's hot"},
            {"id": "x", "text": "#Qais_al_Khazali"},
        ]
    )
    result = runner.invoke(
        app, ["match", "--watchlist", str(write_watchlist(tmp_path)), "--json"], input=posts
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {"id": 7, "entity": "khazali", "alias": "قيس الخزعلي", "rule": "clitic",
         "start": 1, "end": 13, "matched": "وقيس الخزعلي"},
        {"id": 7, "entity": "aah", "alias": "AAH", "rule": "acronym",
         "start": 22, "end": 25, "matched": "AAH"},
        {"id": "x", "entity": "khazali", "alias": "Qais al-Khazali", "rule": "hashtag",
         "start": 1, "end": 16, "matched": "Qais_al_Khazali"},
    ]  # fmt: skip


def test_match_human_output(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["match", "--watchlist", str(write_watchlist(tmp_path))],
        input='{"id": 1, "text": "Qais Khazali spoke"}\n',
    )
    assert result.exit_code == 0, result.output
    assert "khazali" in result.stdout and "article" in result.stdout


def test_match_names_the_bad_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["match", "--watchlist", str(write_watchlist(tmp_path))],
        input='{"id": 1, "text": "ok"}\n\n{"id": 2, text}\n',
    )
    assert result.exit_code != 0
    assert "stdin line 3: not valid JSON" in result.output
    result = runner.invoke(
        app, ["match", "--watchlist", str(write_watchlist(tmp_path))], input='{"id": 1}\n'
    )
    assert result.exit_code != 0
    assert 'stdin line 1: expected an object with a string "text"' in result.output


def test_import_csv_then_include_it_from_channels_yaml(tmp_path: Path) -> None:
    out = tmp_path / "entities" / "imported.yaml"
    result = runner.invoke(
        app, ["entities", "import", str(DATA / "watchlist.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 4 entities" in result.stdout
    channels = tmp_path / "channels.yaml"
    channels.write_text("include: [entities/*.yaml]\n", encoding="utf-8")
    entities = {e.id: e for e in load_entities(channels)}
    assert set(entities) == {"khazali", "asaib-ahl-al-haq", "cui-wei", "baghdad"}
    assert entities["cui-wei"].aliases == ("السفير الصيني",)

    result = runner.invoke(
        app,
        ["match", "--watchlist", str(channels), "--json"],
        input='{"id": 1, "text": "التقى للسفير الصيني"}\n',
    )
    assert json.loads(result.stdout)["entity"] == "cui-wei"


def test_import_ftm(tmp_path: Path) -> None:
    out = tmp_path / "sanctions.yaml"
    result = runner.invoke(
        app,
        ["entities", "import", str(DATA / "opensanctions.ftm.json"), "--format", "ftm",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    entities = load_entities(out)
    assert [e.kind for e in entities] == ["person", "organization", "organization"]
    assert "Qays al-Khazali" in entities[0].aliases


def test_import_reports_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["entities", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code != 0
    assert "cannot read" in result.output and "nope.csv" in result.output


def test_match_caches_the_compiled_watchlist_in_an_existing_data_dir_only(tmp_path: Path) -> None:
    watchlist = str(write_watchlist(tmp_path))
    post = '{"id": 1, "text": "وقيس الخزعلي قال"}\n'
    missing = tmp_path / "no-data-here"
    first = runner.invoke(
        app, ["--data-dir", str(missing), "match", "--watchlist", watchlist, "--json"], input=post
    )
    assert first.exit_code == 0, first.output
    assert not missing.exists()  # `monitor match` never creates a data directory

    data = tmp_path / "data"
    data.mkdir()
    runs = [
        runner.invoke(
            app, ["--data-dir", str(data), "match", "--watchlist", watchlist, "--json"], input=post
        )
        for _ in range(2)
    ]
    assert [r.stdout for r in runs] == [first.stdout] * 2
    assert json.loads(first.stdout)["entity"] == "khazali"
    assert len(list((data / "cache").glob("matcher-*.bin"))) == 1
