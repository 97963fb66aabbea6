"""Each citation style from a CitationSource alone (pure rendering, no database).

The seed-archive tests (test_cite_seed_post.py) check the same styles on a collected post; these
check what a collected post cannot show cheaply: time zones at the day boundary, missing fields
left out, and text that would break Markdown, BibTeX or JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.citations import (
    STYLES,
    CitationSource,
    parse_post_ref,
    render_citation,
    render_citations,
    with_title_en,
)
from monitor.cli.cite_cmd import Style
from monitor.errors import ConfigError
from storage import version_digest

SCHEMA = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text("utf-8"))
TITLE = "المكتب الإعلامي للشيخ قيس الخزعلي (محاكاة)"
LATE = datetime(2024, 5, 20, 22, 30, tzinfo=UTC)


def make_source(**overrides: object) -> CitationSource:
    values: dict[str, object] = {
        "channel_id": 1351196199,
        "message_id": 125,
        "channel_title": TITLE,
        "username": "khazali_media_sim",
        "posted_at": datetime(2024, 5, 13, 9, 12, tzinfo=UTC),
        "first_captured_at": datetime(2024, 5, 13, 9, 20, tzinfo=UTC),
        "edited_at": None,
        "deleted_at": None,
        "version": 1,
        "version_count": 1,
        "version_captured_at": datetime(2024, 5, 13, 9, 20, tzinfo=UTC),
        "version_edited_at": None,
        "version_sha256": "ab" * 32,
        "text": "نص البيان",
        "language": "ar",
        "permalink": "https://t.me/khazali_media_sim/125",
    }
    values.update(overrides)
    return CitationSource(**values)  # type: ignore[arg-type]


def test_the_cli_offers_exactly_the_library_styles():
    assert tuple(style.value for style in Style) == STYLES


def test_short_is_the_date_in_the_citation_time_zone():
    late = make_source(posted_at=LATE)
    assert render_citation(late, "short", tz="UTC") == "Telegram, May 20, 2024."
    assert render_citation(late, "short", tz="Asia/Baghdad") == "Telegram, May 21, 2024."
    assert render_citation(late, "short", tz="America/New_York") == "Telegram, May 20, 2024."


def test_full_gives_local_time_with_its_offset_and_capture_time_in_utc():
    full = render_citation(make_source(posted_at=LATE), "full", tz="Asia/Tehran")
    assert "May 21, 2024, 02:00 UTC+3:30 (Asia/Tehran)" in full
    assert "Archived 2024-05-13 09:20 UTC" in full
    assert "SHA-256 abababababababab." in full and "ab" * 9 not in full
    utc = render_citation(make_source(), "full", tz="UTC")
    assert "May 13, 2024, 09:12 UTC, https://t.me/khazali_media_sim/125." in utc


def test_full_says_edited_and_deleted_and_which_version():
    plain = render_citation(make_source(), "full", tz="UTC")
    assert "edited" not in plain and "deleted" not in plain and "version" not in plain
    changed = make_source(
        edited_at=datetime(2024, 5, 13, 10, 5, tzinfo=UTC),
        deleted_at=datetime(2024, 5, 14, 23, 0, tzinfo=UTC),
        version=1,
        version_count=2,
    )
    full = render_citation(changed, "full", tz="Asia/Baghdad")
    assert "(edited May 13, 2024; deleted at source by May 15, 2024)" in full
    assert "version 1 of 2" in full


def test_titles_stay_as_written_and_the_english_title_goes_in_brackets():
    source = with_title_en(make_source(), {"khazali_media_sim": "Media Office"})
    assert render_citation(source, "full", tz="UTC").startswith(
        f"{TITLE} [Media Office] (@khazali_media_sim), Telegram,"
    )
    by_id = with_title_en(make_source(username=None), {"1351196199": "Media Office"})
    assert by_id.title_en == "Media Office"
    assert with_title_en(make_source(), {"other_channel": "Other"}).title_en is None


def test_unknown_fields_are_left_out_never_invented():
    bare = make_source(
        username=None,
        text="",
        language=None,
        permalink="https://t.me/c/1351196199/125",
    )
    for style in STYLES:
        text = render_citation(bare, style, tz="UTC").replace("@misc{", "")
        assert "None" not in text and "@" not in text and "null" not in text, style
    item = json.loads(render_citation(bare, "csl-json", tz="UTC"))[0]
    assert "title" not in item and "language" not in item
    jsonschema.validate([item], SCHEMA)
    chicago = render_citation(bare, "chicago", tz="UTC")
    assert chicago == f"{TITLE}, Telegram, May 13, 2024, 9:12 a.m. (UTC), {bare.permalink}."


def test_chicago_quotes_the_start_of_the_post():
    long_text = "word " * 60
    chicago = render_citation(make_source(text=long_text), "chicago", tz="Asia/Baghdad")
    quoted = chicago.split("\u201c")[1].split(",\u201d")[0]
    assert quoted.endswith("…") and len(quoted) <= 161 and quoted.startswith("word word")
    assert "Telegram, May 13, 2024, 12:12 p.m. (UTC+3), https://t.me/khazali_media_sim/125." in (
        chicago
    )


def test_markdown_footnote_links_the_post_and_title_markup_stays_text():
    hostile = make_source(channel_title="[click](https://evil.example) *bold*")
    footnote = render_citation(hostile, "markdown", tz="UTC", number=3)
    assert footnote.startswith(r"[^3]: \[click\](https://evil.example) \*bold\* (@khazali\_")
    assert footnote.endswith(", Telegram, [May 13, 2024](https://t.me/khazali_media_sim/125).")


def test_a_footnote_list_is_numbered_in_order():
    first, second = make_source(), make_source(message_id=200, posted_at=LATE)
    listing = render_citations([first, second], "short", tz="UTC").splitlines()
    assert listing == ["[1] Telegram, May 13, 2024.", "[2] Telegram, May 20, 2024."]
    markdown = render_citations([first, second], "markdown", tz="UTC").splitlines()
    assert [line[:5] for line in markdown] == ["[^1]:", "[^2]:"]
    items = json.loads(render_citations([first, second], "csl-json", tz="UTC"))
    jsonschema.validate(items, SCHEMA)
    assert [item["id"] for item in items] == ["telegram-1351196199-125", "telegram-1351196199-200"]


def _bibtex(text: str) -> list[dict[str, str]]:
    return bibtexparser.loads(text).entries


def test_bibtex_escapes_what_latex_would_read_as_commands():
    tricky = make_source(channel_title="Fund {100%} & co_op #1", text="50% off } { \\relax ~ ^")
    entries = _bibtex(render_citation(tricky, "bibtex", tz="UTC"))
    assert len(entries) == 1
    entry = entries[0]
    assert entry["ID"] == "telegram_1351196199_125" and entry["ENTRYTYPE"] == "misc"
    assert entry["author"] == r"{Fund \textbraceleft{}100\%\textbraceright{} \& co\_op \#1}"
    assert entry["title"] == (
        r"50\% off \textbraceright{} \textbraceleft{} \textbackslash{}relax \~{} \^{}"
    )
    assert entry["url"] == "https://t.me/khazali_media_sim/125"
    assert entry["date"] == "2024-05-13" and entry["year"] == "2024" and entry["month"] == "5"


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(min_size=1, max_size=60),
    text=st.text(max_size=300),
    title_en=st.none() | st.text(min_size=1, max_size=30),
)
def test_any_title_and_text_give_valid_csl_json_and_one_parsable_bibtex_entry(
    title: str, text: str, title_en: str | None
):
    source = make_source(channel_title=title, text=text, title_en=title_en)
    jsonschema.validate(json.loads(render_citation(source, "csl-json", tz="UTC")), SCHEMA)
    entries = _bibtex(render_citation(source, "bibtex", tz="UTC"))
    assert len(entries) == 1 and entries[0]["url"] == source.permalink
    assert entries[0]["note"].endswith("SHA-256 " + "ab" * 32 + ".")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("https://t.me/khazali_media_sim/125", ("khazali_media_sim", 125)),
        ("http://www.t.me/khazali_media_sim/125?single", ("khazali_media_sim", 125)),
        ("t.me/s/khazali_media_sim/125", ("khazali_media_sim", 125)),
        ("https://t.me/c/1351196199/125", (1351196199, 125)),
        ("t.me/c/1351196199/125", (1351196199, 125)),
        ("@khazali_media_sim/125", ("khazali_media_sim", 125)),
        ("1351196199/125", (1351196199, 125)),
        ("-1001351196199/125", (1351196199, 125)),
    ],
)
def test_every_reference_form_names_the_same_post(ref: str, expected: tuple[object, int]):
    assert tuple(parse_post_ref(ref)) == expected


@pytest.mark.parametrize(
    "ref", ["khazali_media_sim", "https://t.me/khazali_media_sim", "t.me/c/name/5", "@x/0", ""]
)
def test_what_is_not_a_post_reference_is_refused_by_name(ref: str):
    with pytest.raises(ConfigError, match="REF"):
        parse_post_ref(ref)


def test_the_version_digest_is_sha256_of_the_documented_canonical_json():
    edited = datetime(2024, 5, 13, 10, 5, tzinfo=UTC)
    expected = hashlib.sha256(
        '{"channel_id":7,"edited_at":"2024-05-13T10:05:00+00:00","message_id":9,"text":"قيس \\"x\\""}'.encode()
    ).hexdigest()
    assert version_digest(channel_id=7, message_id=9, text='قيس "x"', edited_at=edited) == expected
    base = {"channel_id": 7, "message_id": 9, "text": "a", "edited_at": None}
    digests = {
        version_digest(**base),
        version_digest(**{**base, "channel_id": 8}),
        version_digest(**{**base, "message_id": 10}),
        version_digest(**{**base, "text": "b"}),
        version_digest(**{**base, "edited_at": edited}),
    }
    assert len(digests) == 5


def test_a_source_can_be_replaced_but_not_mutated():
    source = make_source()
    with pytest.raises(AttributeError):
        source.text = "changed"  # type: ignore[misc]
    assert replace(source, version=2).version == 2
