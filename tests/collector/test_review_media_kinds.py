"""Review: document kinds as Telegram sends them (GIFs are mp4 videos with an Animated flag)."""

from __future__ import annotations

from telethon.tl import types

from monitor.collector import Collector, media_kind
from tests.telegram_fixtures import START

VIDEO = types.DocumentAttributeVideo(duration=3.0, w=640, h=360, supports_streaming=True)


def _message(*attributes: types.TypeDocumentAttribute, mime: str = "video/mp4") -> types.Message:
    document = types.Document(
        id=11,
        access_hash=22,
        file_reference=b"\x01",
        date=START,
        mime_type=mime,
        size=123_456,
        dc_id=2,
        attributes=list(attributes),
    )
    return types.Message(
        id=7,
        peer_id=types.PeerChannel(1234),
        date=START,
        message="",
        media=types.MessageMediaDocument(document=document),
    )


def test_a_gif_is_an_animation_not_a_video() -> None:
    # What Telegram sends for a "GIF": an mp4 with a video attribute *and* the animated flag.
    gif = _message(
        VIDEO, types.DocumentAttributeFilename("clip.mp4"), types.DocumentAttributeAnimated()
    )
    assert media_kind(gif) == "animation"


def test_a_video_sticker_is_a_sticker_and_a_plain_video_a_video() -> None:
    sticker = _message(
        VIDEO,
        types.DocumentAttributeSticker(alt="🙂", stickerset=types.InputStickerSetEmpty()),
        mime="video/webm",
    )
    assert media_kind(sticker) == "sticker"
    assert media_kind(_message(VIDEO)) == "video"


async def test_video_metadata_records_its_dimensions(connect, media_store) -> None:
    collector = Collector(await connect(), media_store, download=())
    [record] = await collector.convert(
        types.InputPeerChannel(1234, 1), [_message(VIDEO)], download=False
    )
    [item] = record.media
    assert (item.kind, item.mime, item.size) == ("video", "video/mp4", 123_456)
    assert (item.width, item.height) == (640, 360)
