"""Review findings: a flag re-found after an edit reflects the edited text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import (
    NewFlag,
    create_flags,
    get_flag,
    list_audit,
    mark_mention_removed,
    sync_entities,
    upsert_channel,
    upsert_posts,
)
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel, make_post

QAIS = ("qais", "Qais al-Khazali", "person", [], ["Qais al-Khazali"])
ALIAS = "Qais al-Khazali"


def found_in(post_id: int, text: str) -> NewFlag:
    start = text.index(ALIAS)
    return NewFlag(
        post_id=post_id,
        channel_id=CHANNEL_ID,
        entity_id="qais",
        aliases=[ALIAS],
        spans=[{"start": start, "end": start + len(ALIAS), "alias": ALIAS, "rule": "exact"}],
        snippet=text,
        language="en",
    )


async def test_refound_flag_gets_the_edited_spans_and_is_no_longer_removed(
    conn: AsyncConnection,
):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    await sync_entities([QAIS], conn=conn, actor="config", at=BASE_TIME)
    text = "Qais al-Khazali said"
    post_id = (
        (await upsert_posts([make_post(text)], conn=conn, captured_at=BASE_TIME)).new[0].post_id
    )
    [first] = await create_flags([found_in(post_id, text)], conn=conn, at=BASE_TIME)
    # An edit drops the mention, a later edit brings it back further into the text.
    later = BASE_TIME + timedelta(hours=1)
    await mark_mention_removed(first.id, conn=conn, at=later)
    edited = "UPDATE: a statement by Qais al-Khazali"
    [again] = await create_flags([found_in(post_id, edited)], conn=conn, at=later)
    assert (again.id, again.new) == (first.id, False)
    stored = await get_flag(first.id, conn=conn)
    assert stored is not None
    assert stored.mention_removed_at is None
    span = stored.spans[0]
    assert edited[span["start"] : span["end"]] == ALIAS
    assert stored.snippet == edited
    assert stored.status == "new"  # the review status is the desk's, never reset
    actions = [e["action"] for e in await list_audit(conn=conn, subject_type="flag")]
    assert "flag.mention_restored" in actions
