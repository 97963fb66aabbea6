"""Flags, the audit trail and watchlist entities, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import (
    NewFlag,
    StorageError,
    create_flags,
    get_flag,
    list_audit,
    list_entities,
    list_flags,
    mark_mention_removed,
    set_flag_status,
    set_flags_status,
    sync_entities,
    upsert_channel,
    upsert_posts,
)
from storage.review import album_flags
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel, make_post

QAIS = (
    "qais-al-khazali",
    "Qais al-Khazali",
    "person",
    ["iraq"],
    ["Qais al-Khazali", "قيس الخزعلي"],
)


async def flagged_post(conn: AsyncConnection) -> int:
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    await sync_entities([QAIS], conn=conn, actor="config", at=BASE_TIME)
    result = await upsert_posts([make_post("قيس الخزعلي said")], conn=conn, captured_at=BASE_TIME)
    return result.new[0].post_id


def new_flag(post_id: int) -> NewFlag:
    return NewFlag(
        post_id=post_id,
        channel_id=CHANNEL_ID,
        entity_id="qais-al-khazali",
        aliases=["قيس الخزعلي"],
        spans=[{"start": 0, "end": 11, "alias": "قيس الخزعلي", "rule": "exact"}],
        snippet="قيس الخزعلي said",
        language="ar",
    )


async def test_create_flags_is_idempotent(conn: AsyncConnection):
    post_id = await flagged_post(conn)
    first = await create_flags([new_flag(post_id)], conn=conn, at=BASE_TIME)
    again = await create_flags([new_flag(post_id), new_flag(post_id)], conn=conn, at=BASE_TIME)
    assert [f.new for f in first] == [True]
    assert [(f.id, f.new) for f in again] == [(first[0].id, False)]
    flags = await list_flags(conn=conn, status="new")
    assert [f.id for f in flags] == [first[0].id]
    assert flags[0].spans[0]["alias"] == "قيس الخزعلي"


async def test_status_change_writes_audit_event(conn: AsyncConnection):
    post_id = await flagged_post(conn)
    [created] = await create_flags([new_flag(post_id)], conn=conn, at=BASE_TIME)
    flag = await set_flag_status(
        created.id, "confirmed", conn=conn, by="desk@example.org", note="checked against video"
    )
    assert (flag.status, flag.reviewer, flag.note) == (
        "confirmed",
        "desk@example.org",
        "checked against video",
    )
    [event] = await list_audit(conn=conn, subject_type="flag", subject_id=created.id)
    assert event["action"] == "flag.status" and event["actor"] == "desk@example.org"
    assert event["details"] == {"from": "new", "to": "confirmed", "note": "checked against video"}
    assert await list_flags(conn=conn, status="new") == []


async def test_bad_status_and_unknown_flag_are_clear_errors(conn: AsyncConnection):
    post_id = await flagged_post(conn)
    [created] = await create_flags([new_flag(post_id)], conn=conn, at=BASE_TIME)
    with pytest.raises(StorageError, match="unknown flag status 'done'"):
        await set_flag_status(created.id, "done", conn=conn, by="desk")
    with pytest.raises(StorageError, match="no flag with id 999999"):
        await set_flag_status(999999, "confirmed", conn=conn, by="desk")


async def test_mention_removed_marked_once(conn: AsyncConnection):
    post_id = await flagged_post(conn)
    [created] = await create_flags([new_flag(post_id)], conn=conn, at=BASE_TIME)
    assert await mark_mention_removed(created.id, conn=conn, at=BASE_TIME)
    assert not await mark_mention_removed(created.id, conn=conn, at=BASE_TIME)
    assert (await get_flag(created.id, conn=conn)).mention_removed_at == BASE_TIME


async def test_entity_sync_audits_every_change(conn: AsyncConnection):
    other = ("kh", "Kataib Hezbollah", "organization", [], ["Kataib Hezbollah"])
    first = await sync_entities([QAIS, other], conn=conn, actor="config")
    assert sorted(first.added) == ["kh", "qais-al-khazali"]
    unchanged = await sync_entities([QAIS, other], conn=conn, actor="config")
    assert (unchanged.added, unchanged.changed, unchanged.removed) == ([], [], [])
    renamed = (*QAIS[:4], [*QAIS[4], "Qais Khazali"])
    result = await sync_entities([renamed], conn=conn, actor="config")
    assert (result.changed, result.removed) == (["qais-al-khazali"], ["kh"])
    assert [e["id"] for e in await list_entities(conn=conn)] == ["qais-al-khazali"]
    actions = [e["action"] for e in await list_audit(conn=conn, subject_type="entity")]
    assert sorted(actions) == ["entity.added", "entity.added", "entity.changed", "entity.removed"]
    [change] = await list_audit(conn=conn, action="entity.changed")
    assert change["details"]["aliases"]["to"][-1] == "Qais Khazali"


async def test_setting_many_flags_is_all_or_nothing_and_audits_each(conn: AsyncConnection):
    await flagged_post(conn)
    posts = await upsert_posts(
        [make_post("قيس الخزعلي again"), make_post("قيس الخزعلي once more")],
        conn=conn,
        captured_at=BASE_TIME,
    )
    created = [
        (await create_flags([new_flag(key.post_id)], conn=conn, at=BASE_TIME))[0].id
        for key in posts.new
    ]
    with pytest.raises(StorageError, match=r"no flag with id 999998, 999999; nothing was changed"):
        await set_flags_status(
            [created[0], 999998, created[1], 999999], "dismissed", conn=conn, by="x"
        )
    assert {f.status for f in await list_flags(conn=conn)} == {"new"}

    updated = await set_flags_status(
        [created[1], created[0], created[1]], "escalated", conn=conn, by="ana", note="n"
    )

    assert [(f.id, f.status, f.reviewer, f.note) for f in updated] == [
        (created[1], "escalated", "ana", "n"),
        (created[0], "escalated", "ana", "n"),
    ]
    for flag_id in created:
        [event] = await list_audit(conn=conn, subject_type="flag", subject_id=flag_id)
        assert event["details"] == {"from": "new", "to": "escalated", "note": "n"}


async def test_any_message_of_an_album_finds_the_albums_flags(conn: AsyncConnection):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    await sync_entities([QAIS], conn=conn, actor="config", at=BASE_TIME)
    album = [
        make_post("قيس الخزعلي in photos", grouped_id=77),
        make_post("", grouped_id=77),
        make_post("", grouped_id=77),
    ]
    alone = make_post("قيس الخزعلي alone")
    stored = await upsert_posts([*album, alone], conn=conn, captured_at=BASE_TIME)
    lead, alone_id = stored.new[0].post_id, stored.new[3].post_id
    [on_album] = await create_flags([new_flag(lead)], conn=conn, at=BASE_TIME)
    await create_flags([new_flag(alone_id)], conn=conn, at=BASE_TIME)

    for message in album:
        found, flags = await album_flags("@Some_Channel", message.message_id, conn=conn)
        assert [f["id"] for f in flags] == [on_album.id]
        assert found["link"] == f"https://t.me/some_channel/{message.message_id}"
    _, by_id = await album_flags(str(CHANNEL_ID), album[2].message_id, conn=conn)
    assert [f["id"] for f in by_id] == [on_album.id]
    with pytest.raises(StorageError, match=r"no post @some_channel/424242 in the archive"):
        await album_flags("some_channel", 424242, conn=conn)


# A flag re-found after an edit reflects the edited text.


QAIS_EN = ("qais", "Qais al-Khazali", "person", [], ["Qais al-Khazali"])
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
    await sync_entities([QAIS_EN], conn=conn, actor="config", at=BASE_TIME)
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
