"""Review: Telegram's other flood errors park a channel like FLOOD_WAIT does."""

from __future__ import annotations

from datetime import timedelta

from monitor.simulator.photos import generate_jpeg
from storage import get_state
from tests.telegram_fixtures import START, spec


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(days=30)

    def __call__(self):  # noqa: ANN204
        return self.now


async def test_flood_premium_wait_on_a_photo_download_parks_the_channel_not_an_error(
    telegram, connect, make_pipeline, engine
):
    # Telegram answers upload.getFile of non-Premium accounts with FLOOD_PREMIUM_WAIT_<s>,
    # which Telethon raises as FloodPremiumWaitError (not a FloodWaitError subclass).
    channel = telegram.add_channel("chan_a", "Channel A")
    telegram.post(channel.id, "photo", date=START, photo=generate_jpeg(5, label="p"))
    telegram.faults.flood_wait("GetFileRequest", 600, error="FLOOD_PREMIUM_WAIT")
    clock = Clock()

    report = await make_pipeline(now=clock).collect(await connect(), spec("chan_a"))

    assert report.error is None
    assert report.parked_until == clock.now + timedelta(seconds=600)
    async with engine.connect() as conn:
        state = await get_state("default", channel.id, conn=conn)
    assert state.flood_wait_until == report.parked_until
    assert state.consecutive_errors == 0 and state.last_error is None
