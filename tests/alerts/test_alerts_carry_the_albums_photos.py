"""An email route with ``attach_photos`` sends the flagged album's photos (all its messages'), read
from the media store, as attachments: largest first, within the route's caps; it links the post's
page on the desk. Seed scenario collected from the simulated Telegram (a copy per test); aiosmtpd
on loopback."""

from __future__ import annotations

import email
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from alerts import Route, deliver_due, enqueue_for_post, sinks_for_routes
from storage import create_engine
from storage.media import MediaStore
from storage.models import media, post, post_media
from tests.alerts.conftest import MailBox
from tests.seed_archive import SeedTemplates

WEB = "https://desk.example.org/"


@pytest.fixture
def seed(db_url: str, seed_templates: SeedTemplates, tmp_path: Path) -> Iterator[dict[str, str]]:
    """This test's own copy of the seed scenario collected once per session (on the backend of
    ``db_url``)."""
    env, remove = seed_templates.copy(make_url(db_url).get_backend_name(), tmp_path / "data")
    try:
        yield env
    finally:
        remove()


async def _mail_album(
    env: dict[str, str], port: int, box: MailBox, **route: Any
) -> tuple[email.message.Message, list[tuple[str, int, Path]], Any]:
    """Queue and send the seed's flagged album on a mail route; the mail, the album's archived
    photos ``(sha256, size, file)`` and the album's lead post."""
    url = f"mailto://127.0.0.1:{port}?to=desk@example.org&from=monitor@example.org"
    routes = [Route.of("mail", [url], **route)]
    store = MediaStore(Path(env["MONITOR_DATA_DIR"]) / "media")
    engine = create_engine(env["MONITOR_DATABASE_URL"])
    try:
        async with engine.begin() as conn:
            lead = (
                await conn.execute(
                    select(post)
                    .where(post.c.grouped_id.is_not(None))
                    .order_by(post.c.channel_id, post.c.message_id)
                )
            ).first()
            members = select(post.c.id).where(
                post.c.channel_id == lead.channel_id, post.c.grouped_id == lead.grouped_id
            )
            photos = [
                (sha, int(size), store.path_of(path))
                for sha, size, path in await conn.execute(
                    select(media.c.sha256, media.c.size, media.c.path)
                    .join(post_media, post_media.c.sha256 == media.c.sha256)
                    .where(post_media.c.post_id.in_(members))
                )
            ]
            await enqueue_for_post(conn=conn, post_id=lead.id, routes=routes)
        report = await deliver_due(engine, sinks_for_routes(routes), media=store)
    finally:
        await engine.dispose()
    assert report.delivered == 1, report.errors
    [envelope] = box.envelopes
    return email.message_from_bytes(envelope.content), photos, lead


def _attached(mail: email.message.Message) -> list[str]:
    """SHA-256 of each attachment, in mail order."""
    out = []
    for part in mail.walk():
        if part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            out.append(hashlib.sha256(data).hexdigest())
    return out


async def test_the_albums_photos_arrive_as_the_archived_files(
    seed: dict[str, str], smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    mail, photos, lead = await _mail_album(seed, port, box, attach_photos=True, web_url=WEB)
    assert len(photos) == 3  # the seed's album: three messages, a photo each
    archived = sorted(photos, key=lambda p: -p[1])
    # Each attachment is byte for byte an archived photo (hashed from the file on disk).
    on_disk = [hashlib.sha256(path.read_bytes()).hexdigest() for _, _, path in archived]
    assert _attached(mail) == on_disk  # all three, largest first
    body = "".join(
        part.get_payload(decode=True).decode()
        for part in mail.walk()
        if part.get_content_type() == "text/html"
    )
    assert f'href="https://desk.example.org/post/{lead.channel_id}/{lead.message_id}"' in body


async def test_the_count_cap_drops_the_smallest(
    seed: dict[str, str], smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    mail, photos, _ = await _mail_album(seed, port, box, attach_photos=True, attach_max=2)
    largest = [sha for sha, _, _ in sorted(photos, key=lambda p: -p[1])]
    assert _attached(mail) == largest[:2]
    assert "/post/" not in mail.as_string()  # no desk address given: no desk link


async def test_the_size_cap_drops_what_does_not_fit(
    seed: dict[str, str], smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    # Room for the two largest photos but not the third.
    mail, photos, _ = await _mail_album(
        seed, port, box, attach_photos=True, attach_max_bytes=600_000
    )
    ordered = sorted(photos, key=lambda p: -p[1])
    assert ordered[0][1] + ordered[1][1] <= 600_000 < sum(p[1] for p in ordered)
    assert _attached(mail) == [ordered[0][0], ordered[1][0]]


async def test_without_attach_photos_no_photo_is_attached(
    seed: dict[str, str], smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    mail, photos, _ = await _mail_album(seed, port, box)
    assert photos and _attached(mail) == []


async def test_a_photo_altered_on_disk_is_left_out(
    seed: dict[str, str], smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    store = MediaStore(Path(seed["MONITOR_DATA_DIR"]) / "media")
    files = sorted(store.root.rglob("*.jpg"))
    for path in files:  # every archived photo altered after capture
        path.write_bytes(path.read_bytes() + b"tampered")
    mail, photos, _ = await _mail_album(seed, port, box, attach_photos=True)
    assert photos and _attached(mail) == []
