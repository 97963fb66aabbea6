"""Review: a re-check of the ids a pushed edit names costs only the GetMessages it needs."""

from __future__ import annotations

from datetime import timedelta

from tests.telegram_fixtures import START, fill, spec, version_texts


async def test_recheck_of_pushed_ids_does_not_call_get_full_channel(
    telegram, connect, make_pipeline, engine
):
    # channels.getFullChannel is one of Telegram's most tightly limited methods; a busy channel
    # that edits its posts would otherwise spend one call per pushed edit and get flood-waited.
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 3)
    pipeline = make_pipeline(now=lambda: START + timedelta(hours=1))
    client = await connect()
    await pipeline.collect(client, spec("chan_a"))
    telegram.edit(channel.id, 2, "post number 1 (corrected)", date=START + timedelta(hours=1))
    telegram.requests.reset()

    report = await pipeline.recheck(client, spec("chan_a"), ids=[2])

    assert report.ok and report.changed == 1
    assert telegram.requests.count("GetMessagesRequest") == 1
    assert telegram.requests.count("GetFullChannelRequest") == 0
    assert await version_texts(engine, 2) == ["post number 1", "post number 1 (corrected)"]
