"""Helpers for the review desk's CLI tests: run a command, read JSON lines, build a small archive
with the storage functions the pipeline uses (for titles and texts the seed does not have)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from monitor.cli import app
from storage import (
    NewFlag,
    create_engine,
    create_flags,
    get_post_by_key,
    sync_entities,
    upgrade,
    upsert_channel,
    upsert_posts,
)
from tests.factories import BASE_TIME, make_channel, make_post

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def fails(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code != 0, result.output
    return result.output


def json_lines(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run(env, *args, "--json").splitlines()]


def flags_json(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    return json_lines(env, "flags", "list", *args)


@dataclass
class Flagged:
    """A post to store and flag for ``entity`` (found at ``alias`` in ``text``)."""

    text: str
    posted_at: datetime
    flagged_at: datetime = BASE_TIME
    entity: str = "qais"
    alias: str = "Qais al-Khazali"
    message_id: int | None = None
    grouped_id: int | None = None


ENTITIES = [
    ("qais", "Qais al-Khazali", "person", [], ["Qais al-Khazali"]),
    ("aah", "Asa'ib Ahl al-Haq", "organization", [], ["Asa'ib Ahl al-Haq"]),
]


async def _build(db_url: str, posts: list[Flagged], channel: dict[str, Any], entities) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            record = make_channel(**channel)
            await upsert_channel(record, conn=conn, seen_at=BASE_TIME)
            await sync_entities(entities, conn=conn, actor="test", at=BASE_TIME)
            for item in posts:
                extra = {"grouped_id": item.grouped_id} if item.grouped_id else {}
                if item.message_id:
                    extra["message_id"] = item.message_id
                stored = make_post(
                    item.text, channel_id=record.channel_id, posted_at=item.posted_at, **extra
                )
                await upsert_posts([stored], conn=conn, captured_at=item.flagged_at)
                row = await get_post_by_key(record.channel_id, stored.message_id, conn=conn)
                start = max(item.text.find(item.alias), 0)
                span = {"start": start, "end": start + len(item.alias), "alias": item.alias}
                await create_flags(
                    [
                        NewFlag(
                            post_id=row["id"],
                            channel_id=record.channel_id,
                            entity_id=item.entity,
                            aliases=[item.alias],
                            spans=[{**span, "rule": "exact"}],
                            snippet=item.text,
                            grouped_id=item.grouped_id,
                        )
                    ],
                    conn=conn,
                    at=item.flagged_at,
                )
    finally:
        await engine.dispose()


def small_archive(
    db_url: str,
    tmp_path: Path,
    posts: list[Flagged],
    *,
    channel: dict[str, Any] | None = None,
    entities: list[tuple] | None = None,
) -> dict[str, str]:
    """Environment of a data directory whose archive holds ``posts``, each flagged once."""
    asyncio.run(_build(db_url, posts, channel or {}, entities or ENTITIES))
    return {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(ROOT / "channels.yaml"),
    }
