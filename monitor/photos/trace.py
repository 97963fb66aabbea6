"""First seen: where a photo was posted first across the watched channels, and its reposts.

A photo is a file (SHA-256) and its near copies (perceptual hashes within
``NEAR_DISTANCE`` bits: re-encoded, resized, slightly cropped). Its appearances are ordered by
``posted_at`` (Telegram's date), our capture time breaking ties, so the source channel comes
first even when a repost was captured before it. Building and rendering a trace is pure; the
queries are in :mod:`storage.photo_appearances`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.photo_appearances import (
    NEAR_DISTANCE,
    Appearance,
    appearances,
    copies_of,
    linked_photo_hashes,
    photo_appearances,
    photos_of_posts,
    post_id_for,
)
from storage.photo_hashes import band_probes, get_hashes, hamming, split_bands

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "PhotoTrace",
    "Repost",
    "build_trace",
    "reposted_photos",
    "render_trace",
    "trace_json",
    "trace_photo",
    "trace_post",
]


@dataclass(frozen=True, slots=True)
class Repost:
    """A later appearance: the post, how long after the first it was posted, and how far its
    file's hash is from the traced photo's (0: the same bytes or an identical hash)."""

    seen: Appearance
    delay: timedelta
    distance: int


@dataclass(frozen=True, slots=True)
class PhotoTrace:
    sha256: str  # the photo asked about (or, for --reposted, the first appearance's file)
    first: Appearance
    reposts: tuple[Repost, ...]

    @property
    def posts(self) -> int:
        return 1 + len(self.reposts)


def build_trace(
    sha256: str, seen: Sequence[Appearance], hashes: Mapping[str, int]
) -> PhotoTrace | None:
    """The trace of ``sha256`` from the posts showing it or its copies; each repost's distance
    is between its file's hash and the first appearance's (``hashes``: file -> hash; a file
    without one counts as an exact copy). ``None`` when no archived post shows any of them."""
    ordered = sorted(seen, key=lambda a: a.order)
    if not ordered:
        return None
    first = ordered[0]

    def distance(other: str) -> int:
        if other == first.sha256 or first.sha256 not in hashes or other not in hashes:
            return 0
        return hamming(hashes[first.sha256], hashes[other])

    reposts = tuple(
        Repost(a, a.posted_at - first.posted_at, distance(a.sha256)) for a in ordered[1:]
    )
    return PhotoTrace(sha256, first, reposts)


async def trace_photo(
    sha256: str, *, conn: AsyncConnection, distance: int = NEAR_DISTANCE
) -> PhotoTrace | None:
    """The trace of one stored file (its exact copies and near duplicates)."""
    copies = await copies_of(sha256, conn=conn, distance=distance)
    seen = await appearances(copies, conn=conn)
    return build_trace(sha256, seen, await get_hashes(copies, conn=conn))


async def trace_post(
    channel_ref: str | int,
    message_id: int,
    *,
    conn: AsyncConnection,
    distance: int = NEAR_DISTANCE,
) -> list[PhotoTrace]:
    """The trace of every photo of a post (of its whole album for an album's message)."""
    post_id = await post_id_for(channel_ref, message_id, conn=conn)
    files = (await photos_of_posts([post_id], conn=conn))[post_id]
    traces = [await trace_photo(sha, conn=conn, distance=distance) for sha in files]
    return [t for t in traces if t is not None]


async def reposted_photos(
    *, conn: AsyncConnection, distance: int = NEAR_DISTANCE
) -> list[PhotoTrace]:
    """Every photo shown by more than one archived post, with its first appearance: files
    joined into one photo when their hashes are within ``distance`` bits (transitively), oldest
    first appearance first. Files never hashed count by their exact bytes only."""
    hashes = await linked_photo_hashes(conn=conn)
    groups = _clusters(hashes, distance)
    seen_by_file: dict[str, list[Appearance]] = {}
    for seen in await photo_appearances(conn=conn):
        seen_by_file.setdefault(seen.sha256, []).append(seen)
    for sha256 in seen_by_file:
        if sha256 not in hashes:
            groups.append([sha256])
    traces = []
    for files in groups:
        by_post: dict[int, Appearance] = {}
        for sha256 in files:
            for seen in seen_by_file.get(sha256, ()):
                by_post.setdefault(seen.post_id, seen)
        if len(by_post) < 2:
            continue
        ordered = sorted(by_post.values(), key=lambda a: a.order)
        trace = build_trace(ordered[0].sha256, ordered, hashes)
        if trace is not None:
            traces.append(trace)
    return sorted(traces, key=lambda t: t.first.order)


def _clusters(hashes: Mapping[str, int], distance: int) -> list[list[str]]:
    """Files joined when their hashes are within ``distance`` bits (union-find over an
    in-memory multi-index of the same bands the database indexes)."""
    radius = distance // 4
    index: list[dict[int, list[str]]] = [{}, {}, {}, {}]
    for sha256, value in hashes.items():
        for table, band in zip(index, split_bands(value), strict=True):
            table.setdefault(band, []).append(sha256)
    parent = {sha: sha for sha in hashes}

    def root(sha: str) -> str:
        while parent[sha] != sha:
            parent[sha] = parent[parent[sha]]
            sha = parent[sha]
        return sha

    for sha256, value in hashes.items():
        for table, band in zip(index, split_bands(value), strict=True):
            for probe in band_probes(band, radius):
                for other in table.get(probe, ()):
                    if other != sha256 and hamming(value, hashes[other]) <= distance:
                        parent[root(other)] = root(sha256)
    groups: dict[str, list[str]] = {}
    for sha256 in hashes:
        groups.setdefault(root(sha256), []).append(sha256)
    return [sorted(files) for files in groups.values()]


# ── Rendering ────────────────────────────────────────────────────────────────────────────────


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _delay(delay: timedelta) -> str:
    """``+20m``, ``+1h5m``, ``+2d3h``, ``+45s``: the non-zero units, largest first."""
    seconds = int(delay.total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = zip((days, hours, minutes, sec), "dhms", strict=True)
    return sign + ("".join(f"{n}{unit}" for n, unit in units if n) or "0s")


def render_trace(trace: PhotoTrace) -> str:
    """A few lines: the first appearance (posted and captured, both UTC), then each repost
    with its channel, delay and how near its file is."""
    first = trace.first
    lines = [
        f"photo {trace.sha256[:16]}: {trace.posts} post(s)",
        f"  first posted by {first.channel_name} at {_utc(first.posted_at)} "
        f"(captured {_utc(first.first_captured_at)}) {first.link}",
    ]
    for repost in trace.reposts:
        seen = repost.seen
        kind = (
            "same file"
            if seen.sha256 == first.sha256
            else f"another file, {repost.distance} bits from the first"
        )
        lines.append(
            f"  {_delay(repost.delay):>14}  {seen.channel_name} at {_utc(seen.posted_at)} "
            f"(captured {_utc(seen.first_captured_at)}; {kind}) {seen.link}"
        )
    return "\n".join(lines)


def _appearance_json(seen: Appearance) -> dict[str, Any]:
    return {
        "channel_id": seen.channel_id,
        "channel": seen.channel_name,
        "message_id": seen.message_id,
        "link": seen.link,
        "posted_at": seen.posted_at.astimezone(UTC).isoformat(),
        "captured_at": seen.first_captured_at.astimezone(UTC).isoformat(),
        "sha256": seen.sha256,
    }


def trace_json(trace: PhotoTrace) -> dict[str, Any]:
    """One JSON object per photo: its first appearance and its reposts with delays (seconds)."""
    return {
        "sha256": trace.sha256,
        "posts": trace.posts,
        "first": _appearance_json(trace.first),
        "reposts": [
            {
                **_appearance_json(r.seen),
                "delay_seconds": int(r.delay.total_seconds()),
                "distance": r.distance,
            }
            for r in trace.reposts
        ],
    }
