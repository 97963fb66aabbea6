"""A post's content hash is SHA-256 of one JSON text, whichever path computes it: a re-check
compares the stored hash with a fresh one, so any drift would record every post as edited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from storage.records import MediaRecord, PostRecord

POSTED = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
# Any text Telegram can carry (UTF-8: no lone surrogates), control characters included.
TEXTS = st.text(st.characters(exclude_categories=["Cs"]))


def _definition(record: PostRecord) -> str:
    material = {
        "text": record.text,
        "edited_at": record.edited_at.isoformat() if record.edited_at else None,
        "media": [f"{m.kind}:{m.telegram_id}" for m in record.media],
    }
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()


@given(
    text=TEXTS,
    edited=st.none() | st.datetimes(timezones=st.just(UTC)),
    photos=st.lists(st.integers(min_value=1, max_value=2**63), max_size=2),
)
def test_content_hash_is_sha256_of_the_json_material(text, edited, photos):
    media = tuple(
        MediaRecord(position=i, kind="photo", telegram_id=p) for i, p in enumerate(photos)
    )
    record = PostRecord(1, 2, POSTED, text=text, edited_at=edited, media=media)
    assert record.content_hash == _definition(record)


def test_known_hashes_do_not_change():
    """Hashes already stored in archives stay valid (computed by the first implementation)."""
    plain = PostRecord(1, 2, POSTED, text='quoted "text"\nwith ünïcödé, \\ and \x00')
    assert plain.content_hash == _definition(plain)
    assert (
        PostRecord(1, 2, POSTED).content_hash
        == hashlib.sha256(b'{"edited_at": null, "media": [], "text": ""}').hexdigest()
    )
