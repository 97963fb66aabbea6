"""Perceptual hashes of photos, one per media SHA-256, and the near-duplicate query.

A 64-bit hash is stored as a signed BIGINT and as four 16-bit bands, each indexed (multi-index
hashing). If two hashes differ in at most ``d`` bits, at least one band differs in at most
``d // 4`` bits (were every band ``d // 4 + 1`` bits apart, the total would exceed ``d``). So
"every hash within distance 6" probes each band for the 17 values within one bit of the query's
band (68 index look-ups), then checks each candidate's full hash exactly: the answer is what a
linear scan returns (``scan_near``; a property test compares the two), at a few milliseconds
at a million hashes (``bench/photos.py``).

Hashes go in and come out unsigned (0 .. 2**64 - 1); the signed form stays in this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, union_all

from storage.batching import chunked
from storage.engine import dialect_insert
from storage.errors import StorageError
from storage.models import media, photo_hash, post_media

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "BANDS",
    "MAX_DISTANCE",
    "NearPhoto",
    "band_probes",
    "count_hashes",
    "find_near",
    "get_hashes",
    "hamming",
    "save_hashes",
    "scan_near",
    "split_bands",
    "unhashed_photos",
]

BANDS = 4
BAND_BITS = 16
_MASK = (1 << 64) - 1
_BAND_MASK = (1 << BAND_BITS) - 1
MAX_DISTANCE = 11  # probes per band grow fast: radius 2 (distance 8-11) is already 137 values
_COLUMNS = (photo_hash.c.band0, photo_hash.c.band1, photo_hash.c.band2, photo_hash.c.band3)


@dataclass(frozen=True, slots=True)
class NearPhoto:
    """A stored hash within the asked distance of the query: its file and how many bits differ."""

    sha256: str
    phash: int
    distance: int


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return ((a ^ b) & _MASK).bit_count()


def split_bands(value: int) -> tuple[int, ...]:
    """The four 16-bit bands of an unsigned 64-bit hash, most significant first."""
    _check(value)
    return tuple((value >> (BAND_BITS * (BANDS - 1 - i))) & _BAND_MASK for i in range(BANDS))


def band_probes(band: int, radius: int) -> list[int]:
    """Every 16-bit value within ``radius`` bits of ``band`` (itself first)."""
    values = [band]
    for flips in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flips):
            mask = 0
            for bit in bits:
                mask |= 1 << bit
            values.append(band ^ mask)
    return values


def _check(value: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= _MASK:
        raise StorageError(f"photo hash {value!r} is not an unsigned 64-bit integer")


def _signed(value: int) -> int:
    _check(value)
    return value - (1 << 64) if value >> 63 else value


def _row(sha256: str, value: int, at: datetime) -> dict[str, Any]:
    bands = split_bands(value)
    return {
        "sha256": sha256,
        "phash": _signed(value),
        **{f"band{i}": band for i, band in enumerate(bands)},
        "hashed_at": at,
    }


async def save_hashes(hashes: Mapping[str, int], *, conn: AsyncConnection, at: datetime) -> None:
    """Store the hash of each media file (``{sha256: unsigned hash}``); a file already hashed
    keeps its row (the same bytes give the same hash). The media rows must exist."""
    rows = [_row(sha256, value, at) for sha256, value in hashes.items()]
    if not rows:
        return
    insert = dialect_insert(conn)(photo_hash).on_conflict_do_nothing(index_elements=["sha256"])
    for part in chunked(rows, 1000):
        await conn.execute(insert, list(part))


async def get_hashes(sha256s: Iterable[str], *, conn: AsyncConnection) -> dict[str, int]:
    """The stored hashes of these files (unsigned); files never hashed are left out."""
    found: dict[str, int] = {}
    for part in chunked(sorted(set(sha256s))):
        query = select(photo_hash.c.sha256, photo_hash.c.phash).where(photo_hash.c.sha256.in_(part))
        found.update({sha: value & _MASK for sha, value in await conn.execute(query)})
    return found


def _radius(distance: int) -> int:
    if not 0 <= distance <= MAX_DISTANCE:
        raise StorageError(
            f"near-duplicate distance {distance} is out of range (0-{MAX_DISTANCE} bits)"
        )
    return distance // BANDS


async def find_near(value: int, *, conn: AsyncConnection, distance: int = 6) -> list[NearPhoto]:
    """Every stored hash within ``distance`` bits of ``value`` (itself included when stored),
    nearest first, then by SHA-256: through the band indexes, each candidate checked exactly.

    SQLite: two statements, the candidates' hashes read from the ``(band, phash)`` indexes
    alone (no table row per candidate), then the files of the few near enough. PostgreSQL: one
    statement, a BitmapOr of the band indexes reading the candidates' rows in page order (an
    index-only scan would visit the heap anyway until VACUUM marks the pages all-visible).
    """
    radius = _radius(distance)
    bands = split_bands(value)
    if conn.dialect.name == "postgresql":
        either = or_(
            *(
                column.in_(band_probes(band, radius))
                for column, band in zip(_COLUMNS, bands, strict=True)
            )
        )
        query = select(photo_hash.c.sha256, photo_hash.c.phash).where(either)
        return _nearest(await conn.execute(query), value, distance)
    probes = [
        select(photo_hash.c.phash).where(column.in_(band_probes(band, radius)))
        for column, band in zip(_COLUMNS, bands, strict=True)
    ]
    candidates = set((await conn.execute(union_all(*probes))).scalars())
    near = [c for c in candidates if ((c ^ value) & _MASK).bit_count() <= distance]
    if not near:
        return []
    found = []
    for part in chunked(near):
        query = select(photo_hash.c.sha256, photo_hash.c.phash).where(
            photo_hash.c.phash.in_(part),
            photo_hash.c.band0.in_({split_bands(c & _MASK)[0] for c in part}),
        )
        found.extend(_nearest(await conn.execute(query), value, distance))
    return sorted(found, key=lambda n: (n.distance, n.sha256))


async def scan_near(value: int, *, conn: AsyncConnection, distance: int = 6) -> list[NearPhoto]:
    """:func:`find_near` by reading every stored hash (the baseline the index is checked and
    measured against)."""
    _radius(distance)
    _check(value)
    result = await conn.stream(
        select(photo_hash.c.sha256, photo_hash.c.phash).execution_options(yield_per=10_000)
    )
    found: list[NearPhoto] = []
    async for part in result.partitions():
        found.extend(_nearest(part, value, distance))
    return sorted(found, key=lambda n: (n.distance, n.sha256))


def _nearest(rows: Iterable[Any], value: int, distance: int) -> list[NearPhoto]:
    found = []
    for sha256, stored in rows:
        bits = ((stored ^ value) & _MASK).bit_count()
        if bits <= distance:
            found.append(NearPhoto(sha256, stored & _MASK, bits))
    return sorted(found, key=lambda n: (n.distance, n.sha256))


async def count_hashes(*, conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(photo_hash))).scalar_one())


async def unhashed_photos(
    *, conn: AsyncConnection, after: str = "", limit: int = 200
) -> Sequence[tuple[str, str, str | None]]:
    """Up to ``limit`` photo files with no hash yet, by SHA-256 above ``after``:
    ``(sha256, path, mime)``. A photo is a file an archived post shows as a photo, or any
    stored ``image/*`` file."""
    photos = select(post_media.c.sha256).where(
        post_media.c.kind == "photo", post_media.c.sha256.is_not(None)
    )
    query = (
        select(media.c.sha256, media.c.path, media.c.mime)
        .outerjoin(photo_hash, photo_hash.c.sha256 == media.c.sha256)
        .where(
            photo_hash.c.sha256.is_(None),
            media.c.sha256 > after,
            or_(media.c.mime.like("image/%"), media.c.sha256.in_(photos)),
        )
        .order_by(media.c.sha256)
        .limit(limit)
    )
    return [(row.sha256, row.path, row.mime) for row in await conn.execute(query)]
