"""Checking the archive against its capture log: the chain, every post version, every media file.

:func:`verify_archive` walks the log in order, recomputes each entry's hash from the previous one,
recomputes each logged version's :func:`~storage.digests.version_digest` from the rows as they
are now, and the SHA-256 of each logged file from the media store's bytes. Versions and media rows
that never made it into the log are reported too. Nothing is written.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from storage.capture_log import GENESIS, entry_hash
from storage.digests import version_digest
from storage.media import MediaStore
from storage.models import capture_log, channel, media, post, post_media, post_version

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Mismatch", "VerifyReport", "file_sha256", "verify_archive"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One thing that no longer matches what was captured."""

    kind: str  # "chain", "version", "media", "post", "unlogged-version", "unlogged-media"
    problem: str  # what is wrong, in words
    seq: int | None = None  # the capture-log entry
    channel_id: int | None = None
    channel: str | None = None  # @username when known
    message_id: int | None = None
    version: int | None = None  # 1 = the first version captured
    sha256: str | None = None
    path: str | None = None  # of a media file, relative to the media store

    @property
    def subject(self) -> str:
        """``post @name/125 (channel 1001, message 125) version 2`` or ``file ab/cd/<sha>.jpg``."""
        if self.message_id is not None:
            name = f"@{self.channel}" if self.channel else str(self.channel_id)
            text = f"post {name}/{self.message_id} (channel {self.channel_id}, "
            text += f"message {self.message_id})"
            return text + (f" version {self.version}" if self.version is not None else "")
        if self.sha256 is not None:
            return f"file {self.path or self.sha256}"
        return f"capture-log entry {self.seq}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "problem": self.problem,
            "seq": self.seq,
            "channel_id": self.channel_id,
            "channel": self.channel,
            "message_id": self.message_id,
            "version": self.version,
            "sha256": self.sha256,
            "path": self.path,
        }


@dataclass
class VerifyReport:
    entries: int = 0
    versions: int = 0
    media_files: int = 0
    head: str = GENESIS  # the last entry's hash: write it down to detect a rewritten log later
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _numbered_versions() -> Any:
    number = func.row_number().over(
        partition_by=post_version.c.post_id,
        order_by=(post_version.c.captured_at, post_version.c.id),
    )
    return select(
        post_version.c.id,
        post_version.c.text,
        post_version.c.edited_at,
        post_version.c.captured_at,
        post_version.c.content_hash,
        post.c.channel_id,
        post.c.message_id,
        number.label("number"),
    ).join(post, post.c.id == post_version.c.post_id)


async def count_entries(*, conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(capture_log))).scalar() or 0)


async def verify_archive(
    *,
    conn: AsyncConnection,
    media_store: MediaStore,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute the chain, every logged version and every logged file; ``progress(n)`` is
    called after every ``n`` entries checked."""
    report = VerifyReport()
    versions = _numbered_versions().subquery()
    query = (
        select(
            capture_log,
            versions.c.id.label("v_id"),
            versions.c.text,
            versions.c.edited_at,
            versions.c.captured_at.label("v_captured_at"),
            versions.c.content_hash,
            versions.c.channel_id.label("v_channel_id"),
            versions.c.message_id.label("v_message_id"),
            versions.c.number,
            channel.c.username,
            media.c.path,
            media.c.sha256.label("m_sha256"),
        )
        .outerjoin(versions, versions.c.id == capture_log.c.version_id)
        .outerjoin(channel, channel.c.id == capture_log.c.channel_id)
        .outerjoin(media, media.c.sha256 == capture_log.c.media_sha256)
        .order_by(capture_log.c.seq)
    )
    prev = GENESIS
    pending = 0
    result = await conn.stream(query.execution_options(yield_per=2000))
    async for row in result:
        report.entries += 1
        if row.prev_hash != prev or row.entry_hash != entry_hash(
            prev, row.content_sha256, row.captured_at
        ):
            report.mismatches.append(
                Mismatch(
                    "chain",
                    "the capture log was altered here: this entry's hash does not follow "
                    "from the previous entry, its content hash and capture time",
                    seq=row.seq,
                    channel_id=row.channel_id,
                    channel=row.username,
                    message_id=row.message_id,
                    sha256=row.media_sha256,
                    path=row.path,
                )
            )
        prev = row.entry_hash
        if row.kind == "version":
            report.versions += 1
            _check_version(row, report)
        else:
            report.media_files += 1
            await _check_media(row, media_store, report, conn)
        pending += 1
        if progress is not None and pending >= 100:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    report.head = prev
    await _current_fields(conn, report)
    await _unlogged(conn, report)
    return report


def _check_version(row: Any, report: VerifyReport) -> None:
    where = {
        "seq": row.seq,
        "channel_id": row.channel_id,
        "channel": row.username,
        "message_id": row.message_id,
        "version": row.number,
    }
    if row.v_id is None:
        report.mismatches.append(
            Mismatch("version", "the stored version is gone from the archive", **where)
        )
        return
    if (row.v_channel_id, row.v_message_id) != (row.channel_id, row.message_id):
        where.update(channel_id=row.v_channel_id, message_id=row.v_message_id)
    digest = version_digest(
        channel_id=row.v_channel_id,
        message_id=row.v_message_id,
        text=row.text,
        edited_at=row.edited_at,
    )
    if digest != row.content_sha256:
        report.mismatches.append(
            Mismatch(
                "version",
                "the stored version (text, edit date or post) no longer matches "
                f"its capture-log entry {row.seq}",
                **where,
            )
        )
    elif row.v_captured_at != row.captured_at:
        report.mismatches.append(
            Mismatch(
                "version",
                f"the version's capture time {row.v_captured_at.isoformat()} differs from "
                f"its capture-log entry {row.seq} ({row.captured_at.isoformat()})",
                **where,
            )
        )


async def _used_by(sha256: str, conn: AsyncConnection) -> str:
    """`` (a photo of @name/125, @name/126)``: the posts that show a file."""
    query = (
        select(post.c.channel_id, post.c.message_id, channel.c.username)
        .join(post_media, post_media.c.post_id == post.c.id)
        .join(channel, channel.c.id == post.c.channel_id)
        .where(post_media.c.sha256 == sha256)
        .order_by(post.c.channel_id, post.c.message_id)
    )
    names = [
        f"@{row.username}/{row.message_id}"
        if row.username
        else f"{row.channel_id}/{row.message_id}"
        for row in await conn.execute(query)
    ]
    return f" (a photo of {', '.join(names)})" if names else ""


async def _check_media(
    row: Any, media_store: MediaStore, report: VerifyReport, conn: AsyncConnection
) -> None:
    sha = row.media_sha256
    where = {"seq": row.seq, "sha256": sha, "path": row.path}
    if row.m_sha256 is None:
        report.mismatches.append(
            Mismatch("media", "the media row is gone from the archive", **where)
        )
        return
    try:
        where_stored = media_store.describe(row.path)
    except Exception as exc:  # noqa: BLE001 - a stored path outside the store is a finding
        report.mismatches.append(Mismatch("media", str(exc), **where))
        return
    # The bytes as the store serves them now (a file, or an S3 object read in full).
    actual = await asyncio.to_thread(media_store.digest, row.path)
    if actual is None:
        report.mismatches.append(
            Mismatch(
                "media",
                f"the file is missing from the media store ({where_stored})"
                f"{await _used_by(sha, conn)}",
                **where,
            )
        )
        return
    if actual != row.content_sha256:
        report.mismatches.append(
            Mismatch(
                "media",
                f"the file's bytes no longer match: SHA-256 {actual}, captured as "
                f"{row.content_sha256}{await _used_by(sha, conn)}",
                **where,
            )
        )


async def _current_fields(conn: AsyncConnection, report: VerifyReport) -> None:
    """A post's current text and edit date (what lists and alerts show) must be one of its
    captured versions."""
    same_edit = or_(
        post_version.c.edited_at == post.c.edited_at,
        and_(post_version.c.edited_at.is_(None), post.c.edited_at.is_(None)),
    )
    captured = (
        select(post_version.c.id)
        .where(
            post_version.c.post_id == post.c.id,
            post_version.c.content_hash == post.c.content_hash,
            post_version.c.text == post.c.text,
            same_edit,
        )
        .exists()
    )
    query = (
        select(post.c.channel_id, post.c.message_id, channel.c.username)
        .join(channel, channel.c.id == post.c.channel_id)
        .where(~captured)
        .order_by(post.c.channel_id, post.c.message_id)
    )
    for row in await conn.execute(query):
        report.mismatches.append(
            Mismatch(
                "post",
                "the post's current text or edit date is none of its captured versions",
                channel_id=row.channel_id,
                channel=row.username,
                message_id=row.message_id,
            )
        )


async def _unlogged(conn: AsyncConnection, report: VerifyReport) -> None:
    versions = _numbered_versions().subquery()
    query = (
        select(versions, channel.c.username)
        .outerjoin(capture_log, capture_log.c.version_id == versions.c.id)
        .outerjoin(channel, channel.c.id == versions.c.channel_id)
        .where(capture_log.c.seq.is_(None))
        .order_by(versions.c.id)
    )
    for row in await conn.execute(query):
        report.mismatches.append(
            Mismatch(
                "unlogged-version",
                "this version is not in the capture log (stored outside the collector?)",
                channel_id=row.channel_id,
                channel=row.username,
                message_id=row.message_id,
                version=row.number,
            )
        )
    query = (
        select(media.c.sha256, media.c.path)
        .outerjoin(capture_log, capture_log.c.media_sha256 == media.c.sha256)
        .where(capture_log.c.seq.is_(None))
        .order_by(media.c.sha256)
    )
    for row in await conn.execute(query):
        report.mismatches.append(
            Mismatch(
                "unlogged-media",
                "this file is not in the capture log (stored outside the collector?)",
                sha256=row.sha256,
                path=row.path,
            )
        )
