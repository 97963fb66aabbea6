"""`monitor cite` on the seed scenario as `monitor demo` collects it from the simulated Telegram.

The 2024-05-13 album of Qais al-Khazali's meeting with ambassador Cui Wei is message 125 of
@khazali_media_sim (caption edited at 10:05 UTC, before the demo collects it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import bibtexparser
import jsonschema
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from storage import create_engine
from storage.models import post, post_version
from tests.flagging.desk import fails, run

SCHEMA = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text("utf-8"))
MEETING = "https://t.me/khazali_media_sim/125"
TITLE = "المكتب الإعلامي للشيخ قيس الخزعلي (محاكاة)"  # the seed's channel title, as Telegram has it
TITLE_EN = "Media Office of Sheikh Qais al-Khazali (simulation)"  # channels.yaml's title_en
CHANNEL_ID = 1351196199


def stored_digest(db_url: str, message_id: int) -> str:
    """SHA-256 of the documented canonical JSON of the post's stored version, computed here."""

    async def read() -> tuple[str, object]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(post_version.c.text, post_version.c.edited_at)
                        .join(post, post.c.id == post_version.c.post_id)
                        .where(post.c.channel_id == CHANNEL_ID, post.c.message_id == message_id)
                    )
                ).one()
                return row.text, row.edited_at
        finally:
            await engine.dispose()

    text, edited_at = asyncio.run(read())
    material = {
        "channel_id": CHANNEL_ID,
        "edited_at": edited_at.isoformat(),  # type: ignore[attr-defined]
        "message_id": message_id,
        "text": text,
    }
    canonical = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_meeting_post_cites_in_every_style(archive):
    env = archive
    assert run(env, "cite", MEETING) == "Telegram, May 13, 2024.\n"

    full = run(env, "cite", MEETING, "--style", "full", "--tz", "Asia/Baghdad")
    digest = stored_digest(env["MONITOR_DATABASE_URL"], 125)
    assert full == (
        f"{TITLE} [{TITLE_EN}] (@khazali_media_sim), Telegram, May 13, 2024, 12:12 UTC+3 "
        f"(Asia/Baghdad), {MEETING} (edited May 13, 2024). "
        f"Archived {full.split('Archived ')[1].split(' UTC')[0]} UTC, SHA-256 {digest[:16]}.\n"
    )

    chicago = run(env, "cite", MEETING, "--style", "chicago", "--tz", "UTC")
    assert chicago.startswith(
        f"{TITLE} [{TITLE_EN}] (@khazali_media_sim), \u201cسماحة الأمين العام"
    )
    assert chicago.endswith(f"Telegram, May 13, 2024, 9:12 a.m. (UTC), {MEETING}.\n")
    assert "المحترم" in chicago  # the edited caption: the current version is cited

    markdown = run(env, "cite", MEETING, "--style", "markdown")
    assert markdown.startswith("[^1]: ") and f"[May 13, 2024]({MEETING})" in markdown

    items = json.loads(run(env, "cite", MEETING, "--style", "csl-json"))
    jsonschema.validate(items, SCHEMA)
    (item,) = items
    assert item["type"] == "post" and item["container-title"] == "Telegram"
    assert item["author"] == [{"literal": f"{TITLE} [{TITLE_EN}]"}]
    assert item["issued"] == {"date-parts": [[2024, 5, 13]]} and item["URL"] == MEETING
    assert "accessed" in item and digest in item["note"]

    (entry,) = bibtexparser.loads(run(env, "cite", MEETING, "--style", "bibtex")).entries
    assert entry["ENTRYTYPE"] == "misc" and entry["url"] == MEETING
    assert entry["author"] == f"{{{TITLE} [{TITLE_EN}]}}" and entry["date"] == "2024-05-13"
    assert digest in entry["note"]

    # Every way to name the post cites the same post, and so does a flag on it.
    flag_id = next(
        f["id"]
        for f in map(json.loads, run(env, "flags", "list", "--json").splitlines())
        if f["message_id"] == 125 and f["channel"] == "khazali_media_sim"
    )
    for ref in (
        ["t.me/c/1351196199/125"],
        ["@khazali_media_sim/125"],
        ["1351196199/125"],
        ["--flag", str(flag_id)],
    ):
        assert run(env, "cite", *ref, "--style", "full", "--tz", "Asia/Baghdad") == full, ref
    assert run(
        env, "cite", MEETING, "--version", "1", "--style", "full", "--tz", "Asia/Baghdad"
    ) == (full)  # collected after the edit: one version, the edited caption

    row = json.loads(run(env, "cite", MEETING, "--json"))
    assert (row["link"], row["sha256"], row["citation"]) == (
        MEETING,
        digest,
        "Telegram, May 13, 2024.",
    )


def test_what_the_archive_does_not_hold_is_an_error_and_nothing_is_printed(archive):
    env = archive
    for ref, says in (
        (["@khazali_media_sim/999"], "post @khazali_media_sim/999 was never archived"),
        # deleted at the source before the demo first collected the channel
        (["https://t.me/khazali_media_sim/129"], "was never archived"),
        (["t.me/c/42/1"], "post 42/1 was never archived"),
        ([MEETING, "--version", "2"], "has 1 archived version(s); there is no version 2"),
        (["--flag", "99999"], "no flag with id 99999"),
    ):
        result = CliRunner().invoke(app, ["cite", *ref], env=env)
        assert result.exit_code == 1, (ref, result.output)
        assert says in result.stderr and result.stdout == "", ref
    assert "not a post reference" in fails(env, "cite", "khazali_media_sim")
    assert "give one of REF, --flag ID or --flags" in fails(env, "cite")


def test_confirmed_flags_give_a_numbered_footnote_list_oldest_post_first(archive):
    env = archive
    run(env, "flags", "set", "--post", MEETING, "--status", "confirmed")
    run(env, "flags", "set", "--post", "@khazali_media_sim/85", "--status", "confirmed")
    run(env, "flags", "set", "--post", "@iran_akhbar_fa_sim/90", "--status", "escalated")

    listing = run(env, "cite", "--flags", "--status", "confirmed", "--since", "2020-01-01")
    assert listing == "[1] Telegram, June 27, 2022.\n[2] Telegram, May 13, 2024.\n"
    markdown = run(env, "cite", "--flags", "--status", "confirmed", "--style", "markdown")
    lines = markdown.splitlines()
    assert [line[:5] for line in lines] == ["[^1]:", "[^2]:"]
    assert "https://t.me/khazali_media_sim/85)" in lines[0] and f"{MEETING})" in lines[1]
    items = json.loads(run(env, "cite", "--flags", "--status", "confirmed", "--style", "csl-json"))
    jsonschema.validate(items, SCHEMA)
    assert [i["URL"] for i in items] == ["https://t.me/khazali_media_sim/85", MEETING]
    escalated = run(env, "cite", "--flags", "--status", "escalated", "--style", "full")
    assert escalated.startswith("[1] اخبار ایران و منطقه (شبیه‌سازی) [Iran and Region News")
    assert escalated.count("\n") == 1

    assert run(
        env, "cite", "--flags", "--channel", "@iran_akhbar_fa_sim", "--style", "markdown"
    ) == (
        "".join(
            f"[^{n}]: اخبار ایران و منطقه (شبیه‌سازی) \\[Iran and Region News (simulation)\\] "
            f"(@iran\\_akhbar\\_fa\\_sim), Telegram, [{day}](https://t.me/iran_akhbar_fa_sim/{m}).\n"
            for n, day, m in (
                (1, "March 6, 2018", 2),
                (2, "June 28, 2022", 57),
                (3, "May 13, 2024", 90),
            )
        )
    )
    by_entity = run(env, "cite", "--flags", "--entity", "kataib-hezbollah", "--tz", "UTC")
    assert by_entity == "[1] Telegram, January 29, 2024.\n[2] Telegram, February 8, 2024.\n"

    result = CliRunner().invoke(
        app, ["cite", "--flags", "--status", "confirmed", "--since", "2099-01-01"], env=env
    )
    assert result.exit_code == 0 and result.stdout == ""
    assert "no flagged posts match" in result.stderr
