"""Each capture-log entry is ``sha256(prev || content || captured_at)`` as the module documents:
an outside verifier recomputes it from that definition alone."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from storage.capture_log import GENESIS, chain, entry_hash


def documented(prev: str, content: str, stamp: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev) + bytes.fromhex(content) + stamp.encode()).hexdigest()


def test_the_capture_time_is_hashed_as_utc_with_six_fraction_digits():
    content = hashlib.sha256(b"a post").hexdigest()
    tehran = timezone(timedelta(hours=3, minutes=30))
    at = datetime(2024, 5, 13, 12, 42, tzinfo=tehran)  # no microseconds: still .000000
    assert entry_hash(GENESIS, content, at) == documented(
        GENESIS, content, "2024-05-13T09:12:00.000000Z"
    )
    late = datetime(2024, 5, 13, 9, 12, 0, 42, tzinfo=UTC)
    assert entry_hash(GENESIS, content, late) == documented(
        GENESIS, content, "2024-05-13T09:12:00.000042Z"
    )


def test_a_chain_links_each_entry_to_the_one_before_with_its_own_time():
    contents = [hashlib.sha256(f"post {i}".encode()).hexdigest() for i in range(3)]
    first = datetime(2024, 5, 13, 9, 12, tzinfo=UTC)
    times = [first, first, first + timedelta(seconds=1, microseconds=5)]
    rows = chain(
        GENESIS,
        [{"content_sha256": c, "captured_at": t} for c, t in zip(contents, times, strict=True)],
    )
    stamps = [
        "2024-05-13T09:12:00.000000Z",
        "2024-05-13T09:12:00.000000Z",
        "2024-05-13T09:12:01.000005Z",
    ]
    prev = GENESIS
    for row, content, stamp in zip(rows, contents, stamps, strict=True):
        assert row["prev_hash"] == prev
        assert row["entry_hash"] == documented(prev, content, stamp)
        prev = row["entry_hash"]
