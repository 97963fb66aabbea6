"""Review: a cached access hash that Telegram rejects is resolved again, not an error forever."""

from __future__ import annotations

from datetime import timedelta

from monitor.simulator import client_for
from monitor.telegram import FLOOD_SLEEP_THRESHOLD
from tests.telegram_fixtures import START, fill, spec


async def test_logging_in_as_another_account_keeps_collecting_with_the_stored_cursor(
    telegram, connect, make_pipeline, engine
):
    # Access hashes are per Telegram account. The daemon stores them under one account label,
    # so after `monitor login` as another user every cached hash is CHANNEL_INVALID.
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 10)
    pipeline = make_pipeline()
    first = await pipeline.collect(await connect(), spec("chan_a"))
    assert first.new == 10
    fill(telegram, channel.id, 4, start=START + timedelta(days=1))
    telegram.add_account("other")
    client = client_for(telegram, account="other", flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD)
    await client.connect()
    try:
        telegram.requests.reset()
        report = await pipeline.collect(client, spec("chan_a"))
        again = await pipeline.collect(client, spec("chan_a"))
    finally:
        await client.disconnect()

    assert report.error is None and report.new == 4  # resumed from the stored cursor
    assert telegram.requests.count("ResolveUsernameRequest") == 1  # once, then cached again
    assert again.ok and again.new == 0
