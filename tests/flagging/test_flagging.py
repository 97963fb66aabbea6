"""Flagging through the real pipeline: albums once, edits that add or remove a mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.config import parse_watchlist
from monitor.flagging import FlaggedPost, Flagger
from monitor.matching import Matcher
from monitor.simulator.photos import generate_jpeg
from storage import list_audit, list_flags
from storage.models import post, post_media
from tests.telegram_fixtures import START, spec

WATCHLIST = parse_watchlist(
    """
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["قيس الخزعلي"]
  - id: cui-wei
    name: Cui Wei
    kind: person
    aliases: ["كوي وي"]
"""
)


def flagger(seen: list[FlaggedPost] | None = None) -> Flagger:
    async def record(flagged: FlaggedPost, conn) -> None:  # noqa: ANN001
        if seen is not None:
            seen.append(flagged)

    return Flagger(Matcher.compile(WATCHLIST.entities), on_flagged=[record])


async def _sync_entities(engine) -> None:  # noqa: ANN001
    from monitor.service import _entity_values
    from storage import sync_entities

    async with engine.begin() as conn:
        await sync_entities(_entity_values(WATCHLIST), conn=conn, actor="test")


async def test_an_album_is_one_flag_per_entity_with_all_its_photos(
    telegram, connect, make_pipeline, engine
):
    await _sync_entities(engine)
    channel = telegram.add_channel("office", "Media office")
    telegram.post(channel.id, "unrelated statement", date=START)
    album = telegram.post_album(
        channel.id,
        [generate_jpeg(i, label=f"meeting {i}") for i in range(3)],
        "استقبل قيس الخزعلي السفير كوي وي",
        date=START + timedelta(hours=1),
    )
    seen: list[FlaggedPost] = []
    await make_pipeline(on_batch=[flagger(seen)]).collect(await connect(), spec("office"))

    async with engine.connect() as conn:
        flags = await list_flags(conn=conn)
        media = (
            await conn.execute(
                select(post_media.c.sha256)
                .join(post, post.c.id == post_media.c.post_id)
                .where(post.c.grouped_id == flags[0].grouped_id)
            )
        ).scalars()
        lead = (
            await conn.execute(select(post.c.message_id).where(post.c.id == flags[0].post_id))
        ).scalar_one()
    assert sorted(f.entity_id for f in flags) == ["cui-wei", "qais-al-khazali"]
    assert len({f.post_id for f in flags}) == 1 and lead == album[0].id
    assert len([sha for sha in media if sha]) == 3
    assert len(seen) == 1 and len(seen[0].new_flags) == 2  # one alert unit for the album


async def test_an_album_split_across_batches_is_still_flagged_once(
    telegram, connect, make_pipeline, engine
):
    await _sync_entities(engine)
    channel = telegram.add_channel("office", "Media office")
    for i in range(98):
        telegram.post(channel.id, f"filler {i}", date=START + timedelta(minutes=i))
    telegram.post_album(  # messages 99-101: the page boundary falls inside the album
        channel.id,
        [generate_jpeg(i, label=str(i)) for i in range(3)],
        "قيس الخزعلي",
        date=START + timedelta(days=1),
    )
    seen: list[FlaggedPost] = []
    await make_pipeline(on_batch=[flagger(seen)]).collect(
        await connect(), spec("office", backfill=500)
    )
    async with engine.connect() as conn:
        flags = await list_flags(conn=conn)
    assert [f.entity_id for f in flags] == ["qais-al-khazali"]
    assert len(seen) == 1


async def test_an_edit_adding_a_mention_flags_it_and_one_removing_it_marks_the_flag(
    telegram, connect, make_pipeline, engine
):
    await _sync_entities(engine)
    channel = telegram.add_channel("office", "Media office")
    telegram.post(channel.id, "استقبل قيس الخزعلي وفدا", date=START)
    now = datetime(2024, 5, 2, tzinfo=UTC)
    seen: list[FlaggedPost] = []
    pipeline = make_pipeline(on_batch=[flagger(seen)], now=lambda: now)
    client = await connect()
    await pipeline.collect(client, spec("office"))

    telegram.edit(channel.id, 1, "استقبل قيس الخزعلي السفير كوي وي", date=now)
    await pipeline.recheck(client, spec("office"))
    assert [(f.followup, [c.entity_id for c in f.new_flags]) for f in seen] == [
        (False, ["qais-al-khazali"]),
        (True, ["cui-wei"]),
    ]

    telegram.edit(channel.id, 1, "استقبل السفير كوي وي", date=now + timedelta(hours=1))
    await pipeline.recheck(client, spec("office"))
    async with engine.connect() as conn:
        flags = {f.entity_id: f for f in await list_flags(conn=conn)}
        events = await list_audit(conn=conn, action="flag.mention_removed")
    assert set(flags) == {"qais-al-khazali", "cui-wei"}  # kept, never deleted
    assert flags["qais-al-khazali"].mention_removed_at == now
    assert flags["cui-wei"].mention_removed_at is None
    assert [e["subject_id"] for e in events] == [str(flags["qais-al-khazali"].id)]
