"""Media kinds and types as Telegram sends them: GIFs are mp4 videos with an Animated flag; a
document of a type we do not archive (SVG, tar, no type at all) is recorded, not downloaded."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from telethon.tl import types

from monitor.collector import Collector, media_kind
from storage.models import post, post_media
from tests.telegram_fixtures import START, spec

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


async def test_documents_of_unexpected_types_are_recorded_and_the_batch_goes_on(
    telegram, connect, make_pipeline, engine, media_store
):
    channel = telegram.add_channel("chan_a", "Channel A")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    pdf = b"%PDF-1.4 a leaflet"
    telegram.post(channel.id, "a drawing", date=START, document=(svg, "image/svg+xml"))
    telegram.post(
        channel.id, "an archive", date=START, document=(b"tar" * 100, "application/x-tar")
    )
    telegram.post(channel.id, "no type", date=START, document=(b"\x00\x01\x02", ""))
    telegram.post(channel.id, "a leaflet", date=START, document=(pdf, "application/pdf"))
    telegram.post(channel.id, "just text", date=START)

    report = await make_pipeline().collect(
        await connect(), spec("chan_a", media=("photo", "document"))
    )

    assert report.ok and report.new == 5, report.error
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(post.c.text, post_media.c.kind, post_media.c.mime, post_media.c.sha256)
                .join(post_media, post_media.c.post_id == post.c.id)
                .order_by(post.c.message_id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("a drawing", "unsupported", "image/svg+xml", None),
        ("an archive", "unsupported", "application/x-tar", None),
        ("no type", "unsupported", None, None),
        ("a leaflet", "document", "application/pdf", hashlib.sha256(pdf).hexdigest()),
    ]
    assert telegram.requests.count("GetFileRequest") == 1  # only the PDF was downloaded
    assert [p.name for p in media_store.root.rglob("*.*")] == [
        f"{hashlib.sha256(pdf).hexdigest()}.pdf"
    ]
