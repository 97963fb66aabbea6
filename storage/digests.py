"""The SHA-256 of a post version: what a citation quotes, and what verify and evidence recompute.

Pure (no I/O). A version digest is SHA-256 over the UTF-8 bytes of this canonical JSON object::

    {"channel_id":1351196199,"edited_at":"2024-05-13T10:05:00+00:00","message_id":125,"text":"..."}

keys sorted, no whitespace between items (``separators=(",", ":")``), text as stored (not
normalised, non-ASCII written as itself, not ``\\u`` escapes), ``edited_at`` the version's edit
date in UTC ISO 8601 (``null`` when never edited).

Photos are not in it: a version row does not record which files it had (an album's photos, a
photo downloaded on a later pass), and every stored file already has its own SHA-256 (its name in
the media store), which a bundle lists beside the version digest. The channel and message ids are
in it, so the same words posted elsewhere never share a digest.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

__all__ = ["version_digest", "version_digest_material"]


def version_digest_material(
    *, channel_id: int, message_id: int, text: str, edited_at: datetime | None
) -> bytes:
    """The exact bytes :func:`version_digest` hashes (for a bundle that shows its work)."""
    if edited_at is not None and edited_at.tzinfo is None:
        raise ValueError("edited_at must be timezone-aware (UTC)")
    material = {
        "channel_id": int(channel_id),
        "edited_at": edited_at.astimezone(UTC).isoformat() if edited_at else None,
        "message_id": int(message_id),
        "text": text,
    }
    return json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def version_digest(
    *, channel_id: int, message_id: int, text: str, edited_at: datetime | None
) -> str:
    """Lowercase hex SHA-256 of one version of a post (see the module docstring)."""
    return hashlib.sha256(
        version_digest_material(
            channel_id=channel_id, message_id=message_id, text=text, edited_at=edited_at
        )
    ).hexdigest()
