"""Photos: sizes, albums, multi-chunk downloads, Telegram's getFile rules, file references."""

from __future__ import annotations

import pytest
from telethon import errors
from telethon.tl import functions, types

from monitor.simulator import Backend, RpcError, SimChannel
from monitor.simulator.handlers import check_file_window
from tests.simulator.conftest import make_jpeg


async def test_download_returns_exact_bytes_of_a_multi_chunk_photo(
    backend, channel, connect
) -> None:
    big = make_jpeg(1400, 1000, seed=3, noise=True)
    assert len(big) > (1 << 20)  # more than one MiB: chunks must not cross the 1 MiB boundary
    posted = backend.post(channel.id, "big photo", photo=big)
    client = await connect()
    message = (await client.get_messages("militia_media", ids=[posted.id]))[0]
    backend.requests.reset()
    data = await client.download_media(message, file=bytes)
    assert data == big == backend.photo_bytes(channel.id, posted.id)
    assert backend.requests.count("GetFileRequest") > 1


async def test_photo_has_smaller_sizes_and_largest_is_original(backend, channel, connect) -> None:
    original = make_jpeg(1000, 700, seed=1, noise=True)
    posted = backend.post(channel.id, "", photo=original)
    client = await connect()
    message = (await client.get_messages("militia_media", ids=[posted.id]))[0]
    sizes = {s.type: (s.w, s.h) for s in message.photo.sizes}
    assert sizes == {"s": (100, 70), "m": (320, 224), "x": (800, 560), "y": (1000, 700)}
    thumb = await client.download_media(message, file=bytes, thumb="m")
    assert thumb == posted.photo.sizes["m"] and len(thumb) < len(original)


async def test_album_shares_grouped_id_with_caption_on_first(backend, channel, connect) -> None:
    photos = [make_jpeg(seed=i) for i in range(3)]
    album = backend.post_album(channel.id, photos, "meeting with the ambassador")
    client = await connect()
    got = await client.get_messages("militia_media", ids=[m.id for m in album])
    assert len({m.grouped_id for m in got}) == 1 and got[0].grouped_id is not None
    assert [m.text for m in got] == ["meeting with the ambassador", "", ""]
    for message, jpeg in zip(got, photos, strict=True):
        assert await client.download_media(message, file=bytes) == jpeg


async def test_expired_file_reference_then_refetch_works(backend, channel, connect) -> None:
    jpeg = make_jpeg(seed=9)
    posted = backend.post(channel.id, "photo", photo=jpeg)
    client = await connect()
    stale = (await client.get_messages("militia_media", ids=[posted.id]))[0]
    backend.expire_file_reference(channel.id, posted.id)
    with pytest.raises(errors.FileReferenceExpiredError):
        await client.download_media(stale, file=bytes)
    fresh = (await client.get_messages("militia_media", ids=[posted.id]))[0]
    assert fresh.photo.file_reference != stale.photo.file_reference
    assert await client.download_media(fresh, file=bytes) == jpeg


async def test_get_file_rejects_windows_telegram_rejects(
    backend: Backend, channel: SimChannel, connect
) -> None:
    posted = backend.post(channel.id, "photo", photo=make_jpeg(900, 700, seed=2, noise=True))
    client = await connect()
    photo = (await client.get_messages("militia_media", ids=[posted.id]))[0].photo
    largest = max(photo.sizes, key=lambda s: s.size).type
    location = types.InputPhotoFileLocation(
        photo.id, photo.access_hash, photo.file_reference, largest
    )
    with pytest.raises(errors.LimitInvalidError):
        await client(functions.upload.GetFileRequest(location, offset=0, limit=5000))
    ok = await client(functions.upload.GetFileRequest(location, offset=4096, limit=4096))
    assert ok.bytes == backend.photo_bytes(channel.id, posted.id)[4096:8192]


def test_file_window_rules() -> None:
    check_file_window(0, 1 << 20)
    check_file_window((1 << 20) - 4096, 4096)
    for offset, limit in [
        (100, 4096),
        (0, 3 * 4096),
        ((1 << 20) - 4096, 8192),
        (0, 0),
        (-4096, 4096),
    ]:
        with pytest.raises(RpcError):
            check_file_window(offset, limit)
    check_file_window(1024, 3072, precise=True)
    with pytest.raises(RpcError, match="LIMIT_INVALID"):
        check_file_window((1 << 20) - 1024, 2048, precise=True)


async def test_channel_profile_photo_downloads(backend: Backend, connect) -> None:
    avatar = make_jpeg(200, 200, seed=5)
    backend.add_channel("with_photo", "Has a photo", photo=avatar)
    client = await connect()
    assert await client.download_profile_photo("with_photo", file=bytes) == avatar
