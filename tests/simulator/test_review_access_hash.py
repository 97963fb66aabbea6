"""Review: like Telegram, each account gets its own access hash for a channel."""

from __future__ import annotations

import pytest
from telethon import errors, types

from monitor.simulator import Backend, SimChannel


async def test_an_access_hash_learnt_by_one_account_is_invalid_for_another(
    backend: Backend, channel: SimChannel, connect
) -> None:
    backend.add_account("second")
    first = await connect()
    second = await connect(account="second")
    mine = await first.get_input_entity("militia_media")
    theirs = await second.get_input_entity("militia_media")
    assert isinstance(mine, types.InputPeerChannel) and mine.channel_id == channel.id
    assert theirs.channel_id == channel.id and theirs.access_hash != mine.access_hash
    assert mine.access_hash == channel.access_hash  # the first account's is the scenario's

    with pytest.raises(errors.ChannelInvalidError):
        await second.get_messages(mine, limit=1)
    assert await second.get_messages(theirs, limit=1) is not None
