"""Review findings in upsert_posts: a late, older copy of a message must not roll the post back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import get_post_by_key, list_versions, upsert_channel, upsert_posts
from tests.factories import BASE_TIME, CHANNEL_ID, edited, make_channel, make_post


async def test_older_copy_arriving_after_an_edit_keeps_the_edited_text(conn: AsyncConnection):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    original = make_post("Casualties: 3")
    edit = edited(original, "Casualties: 5")
    # The live update brought the edit first; a poll page fetched before the edit lands later.
    first = await upsert_posts([edit], conn=conn, captured_at=BASE_TIME)
    late = await upsert_posts([original], conn=conn, captured_at=BASE_TIME + timedelta(seconds=5))
    assert late.changed == [] and [k.post_id for k in late.unchanged] == [first.new[0].post_id]
    row = await get_post_by_key(CHANNEL_ID, original.message_id, conn=conn)
    assert row is not None
    assert (row["text"], row["edited_at"]) == ("Casualties: 5", edit.edited_at)
    assert row["content_hash"] == edit.content_hash
    # The older text is still kept as a version: nothing seen is lost.
    versions = await list_versions(row["id"], conn=conn)
    assert sorted(v["text"] for v in versions) == ["Casualties: 3", "Casualties: 5"]
