"""Re-encoded, resized and slightly cropped copies of a photo hash within 6 bits of it while
unrelated photos are far; the banded index answers "within d bits" exactly as a linear scan."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.photos.phash import NEAR_DISTANCE, PhotoHashError, hamming, phash
from storage.engine import dialect_insert
from storage.errors import StorageError
from storage.models import media, photo_hash
from storage.photo_hashes import band_probes, find_near, save_hashes, scan_near, split_bands
from tests.photos import photo_variants as v

AT = datetime(2024, 5, 13, 14, 20, tzinfo=UTC)
COPIES = {
    "re-encoded at quality 55": lambda d: v.reencoded(d),
    "resized to 640 px": lambda d: v.resized(d),
    "3 % cropped": lambda d: v.cropped(d, 3),
    "4 % cropped": lambda d: v.cropped(d, 4),
    "5 % cropped": lambda d: v.cropped(d, 5),
    "3 % cut from one corner": lambda d: v.cropped(d, 3, where="corner"),
    "re-encoded, resized and cropped": lambda d: v.resized(v.cropped(v.reencoded(d), 4)),
}


@pytest.mark.parametrize("copy", list(COPIES))
def test_a_reposted_copy_hashes_within_six_bits_of_the_original(copy: str) -> None:
    original = v.original()
    edited = COPIES[copy](original)
    assert edited != original  # a different file, found only by its look
    assert hamming(phash(original), phash(edited)) <= NEAR_DISTANCE


@pytest.mark.parametrize("seed", v.UNRELATED_SEEDS)
def test_an_unrelated_photo_is_far_from_the_original(seed: int) -> None:
    # Scenario photos share a caption bar and a SYNTHETIC watermark, yet stay > 3x the limit.
    assert hamming(phash(v.original()), phash(v.unrelated(seed))) > 3 * NEAR_DISTANCE


def test_bytes_that_are_not_an_image_are_refused_by_name() -> None:
    with pytest.raises(PhotoHashError, match=r"photo abc \(9 bytes\) is not an image"):
        phash(b"not a jpg", name="photo abc")


def test_distance_six_probes_each_band_within_one_bit() -> None:
    assert len(band_probes(0xBEEF, 1)) == 17 and len(set(band_probes(0xBEEF, 1))) == 17
    assert all(hamming(p, 0xBEEF) <= 1 for p in band_probes(0xBEEF, 1))
    assert split_bands(0x0123_4567_89AB_CDEF) == (0x0123, 0x4567, 0x89AB, 0xCDEF)


async def _store(engine: AsyncEngine, hashes: dict[str, int]) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(photo_hash))
        await conn.execute(delete(media))
        if hashes:
            rows = [
                {
                    "sha256": sha,
                    "size": 1,
                    "path": f"{sha[:2]}/{sha[2:4]}/{sha}.jpg",
                    "first_seen_at": AT,
                }
                for sha in hashes
            ]
            await conn.execute(dialect_insert(conn)(media), rows)
        await save_hashes(hashes, conn=conn, at=AT)


def _sha(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


u64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    bases=st.lists(u64, min_size=1, max_size=4),
    seed=st.integers(0, 2**32),
    distance=st.integers(0, 11),
)
async def test_the_band_index_returns_exactly_what_a_linear_scan_returns(
    engine: AsyncEngine, bases: list[int], seed: int, distance: int
) -> None:
    # Clusters of copies 0-12 bits from a few bases (hashes just inside and outside the
    # distance, including the high bit that makes the stored BIGINT negative) and noise.
    rng = random.Random(seed)
    values = []
    for base in bases:
        values.append(base)
        for _ in range(40):
            values.append(_flip(base, rng.sample(range(64), rng.randint(0, 12))))
    values += [rng.getrandbits(64) for _ in range(40)]
    await _store(engine, {_sha(i): value for i, value in enumerate(values)})
    query = _flip(bases[0], rng.sample(range(64), rng.randint(0, 4)))
    async with engine.connect() as conn:
        indexed = await find_near(query, conn=conn, distance=distance)
        scanned = await scan_near(query, conn=conn, distance=distance)
    assert indexed == scanned
    expected = sorted(
        (hamming(query, value), _sha(i))
        for i, value in enumerate(values)
        if hamming(query, value) <= distance
    )
    assert [(n.distance, n.sha256) for n in indexed] == expected


async def test_a_distance_beyond_the_index_is_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(StorageError, match="distance 12 is out of range"):
            await find_near(1, conn=conn, distance=12)
