"""`monitor export posts`: CSV that a spreadsheet opens right, JSONL, escaped HTML; filters and a
query as in search; the archive read a bounded page at a time."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import event

from monitor.cli.export_writers import COLUMNS
from monitor.search import parse_query
from storage import export_pages
from tests.search.conftest import CRAFTED_POSTS, cli


def _export(env: dict[str, str], path: Path, *args: str) -> str:
    result = cli(env, "export", "posts", "-o", str(path), *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_has_a_bom_iso_dates_a_link_and_one_row_per_post(crafted, tmp_path):
    out = tmp_path / "posts.csv"
    assert "exported 9 posts" in _export(crafted.env, out, "--format", "csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert [int(r["message_id"]) for r in rows] == sorted(crafted.ids.values())
    by_id = {int(r["message_id"]): r for r in rows}
    basra = by_id[crafted.ids["basra"]]
    assert basra["text"] == CRAFTED_POSTS["basra"]
    assert basra["posted_at"] == "2024-05-01T10:00:00+00:00"
    assert basra["link"] == f"https://t.me/crafted_news/{crafted.ids['basra']}"
    assert by_id[crafted.ids["photo"]]["photos"] == "1"
    assert by_id[crafted.ids["rumour"]]["deleted_at"].startswith("2024-05-02")
    assert by_id[crafted.ids["sanctions"]]["versions"] == "2"
    # A cell a spreadsheet would run as a formula is shown as text.
    assert by_id[crafted.ids["hostile"]]["text"] == "'" + CRAFTED_POSTS["hostile"]


def test_jsonl_round_trips_the_exact_text(crafted, tmp_path):
    out = tmp_path / "posts.jsonl"
    _export(crafted.env, out, "--format", "jsonl")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(CRAFTED_POSTS)
    assert set(rows[0]) == set(COLUMNS)
    texts = {r["message_id"]: r["text"] for r in rows}
    assert texts[crafted.ids["hostile"]] == CRAFTED_POSTS["hostile"]
    assert texts[crafted.ids["sanctions"]] == "The ministry responded today."


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.scripts = 0
        self._in_text = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.scripts += tag == "script"
        if tag == "p" and attrs.get("class") == "text":
            assert attrs.get("dir") == "auto"
            self._in_text = True
            self.texts.append("")

    def handle_endtag(self, tag):
        self._in_text = self._in_text and tag != "p"

    def handle_data(self, data):
        if self._in_text:
            self.texts[-1] += data


def test_html_escapes_the_text_and_lets_its_direction_follow_it(crafted, tmp_path):
    out = tmp_path / "posts.html"
    _export(crafted.env, out, "--format", "html")
    page = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    parsed = _Collect()
    parsed.feed(page)
    assert parsed.scripts == 0
    assert len(parsed.texts) == len(CRAFTED_POSTS)
    assert CRAFTED_POSTS["hostile"] in parsed.texts  # shown as text, exactly


def test_filters_and_a_query_select_what_search_finds(crafted, tmp_path):
    out = tmp_path / "some.jsonl"
    _export(crafted.env, out, "-f", "jsonl", "-q", "ambassador", "--not-deleted")
    got = {json.loads(line)["message_id"] for line in out.read_text().splitlines()}
    assert got == {crafted.ids["apart"], crafted.ids["ambassador"]}
    _export(crafted.env, out, "-f", "jsonl", "--has-photo")
    got = {json.loads(line)["message_id"] for line in out.read_text().splitlines()}
    assert got == {crafted.ids["photo"]}


async def test_the_archive_is_read_one_bounded_page_per_query(crafted, engine):
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        if "FROM post" in statement or "JOIN post" in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with engine.connect() as conn:
            pages = [len(p) async for p in export_pages(None, conn=conn, page_size=4)]
            assert pages == [4, 4, 1]
            assert len(statements) == 3  # one query per page, never one for everything
            query = parse_query("khazali OR ambassador").text_query
            pages = [len(p) async for p in export_pages(query, conn=conn, page_size=2)]
            assert pages == [2, 2, 1]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


def test_a_missing_folder_is_a_clear_error(crafted, tmp_path):
    out = tmp_path / "nowhere" / "posts.csv"
    result = cli(crafted.env, "export", "posts", "-o", str(out))
    assert result.exit_code == 2
    assert "folder" in result.output and "does not exist" in result.output
    assert not list(tmp_path.rglob("*.part"))
