"""Evidence bundles: one post (or album) with proof that nothing changed since capture.

:func:`build_bundle` is pure (the archive's :class:`~storage.evidence_queries.Evidence` and the
photos' bytes in, the bundle's files out); :func:`write_bundle` writes them into a zip. Layout::

    manifest.json                   every other file: SHA-256, size, the capture-log entries
                                    that cover it
    post.html                       printable: text (right-to-left shown right), photos inline
    channel.json                    the channel now, and as it was at capture
    flags.json                      flags, review status and notes, their audit trail
    messages/<id>/versions/<n>.json our record of version n (1 = first captured)
    messages/<id>/post.json         our record of the message as last seen
    messages/<id>/telegram.json     Telegram's raw message (as last fetched)
    messages/<id>/metrics.json      views / forwards / replies / reactions over time
    photos/<sha256>.<ext>           each photo's bytes as captured
    citations/<style>.<ext>         the post cited in every style

A version file is covered by its capture-log entry (its ``version_sha256`` is the entry's
content hash, see :func:`storage.digests.version_digest`), a photo by its media entry
(the SHA-256 of its bytes). ``monitor verify BUNDLE.zip`` checks all of it without a database.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from storage.evidence_queries import Evidence

__all__ = [
    "FORMAT",
    "HASH_CHAIN",
    "BundleFile",
    "build_bundle",
    "bundle_name",
    "entry_json",
    "post_link",
    "write_bundle",
]

FORMAT = "telegram-monitor evidence bundle 1"
HASH_CHAIN = (
    "entry_hash = sha256(prev_hash || content_sha256 || captured_at), hashes as 32 raw bytes, "
    "captured_at as UTF-8 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; a version's content_sha256 is the "
    "SHA-256 of the canonical UTF-8 JSON (sorted keys, no spaces) of channel_id, edited_at "
    "(UTC ISO 8601, or null), message_id and text; a photo's is the SHA-256 of its bytes"
)
CITATION_EXTENSIONS = {"csl-json": "json", "bibtex": "bib", "markdown": "md"}
# Photos are already compressed: stored as they are, so their bytes in the zip are the captured ones.
_STORED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".mp4"}


@dataclass(frozen=True, slots=True)
class BundleFile:
    name: str  # path inside the zip, forward slashes
    data: bytes
    role: str  # "version", "photo", "post", "telegram", "metrics", "channel", "flags", ...
    entries: tuple[dict[str, Any], ...] = ()  # capture-log entries that cover it

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def post_link(username: str | None, channel_id: int, message_id: int) -> str:
    if username:
        return f"https://t.me/{username}/{message_id}"
    return f"https://t.me/c/{channel_id}/{message_id}"


def bundle_name(evidence: Evidence) -> str:
    """``<username or channel id>_<message id>.zip``."""
    lead = evidence.lead
    who = evidence.channel.get("username") or str(evidence.channel["id"])
    return f"{who}_{lead['message_id']}.zip"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to an evidence bundle")


def dumps(obj: Any) -> bytes:
    return (
        json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default) + "\n"
    ).encode()


def entry_json(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A capture-log entry as the manifest lists it."""
    from storage.capture_log import timestamp

    return {
        "seq": entry["seq"],
        "kind": entry["kind"],
        "version_id": entry["version_id"],
        "media_sha256": entry["media_sha256"],
        "channel_id": entry["channel_id"],
        "message_id": entry["message_id"],
        "content_sha256": entry["content_sha256"],
        "captured_at": timestamp(entry["captured_at"]),
        "prev_hash": entry["prev_hash"],
        "entry_hash": entry["entry_hash"],
    }


def _version_json(
    evidence: Evidence, message: dict[str, Any], version: dict[str, Any]
) -> dict[str, Any]:
    from storage.digests import version_digest

    item = message["post"]
    count = len(message["versions"])
    return {
        "channel_id": item["channel_id"],
        "channel": evidence.channel.get("username"),
        "message_id": item["message_id"],
        "version": version["number"],
        "versions": count,
        "current": version["content_hash"] == item["content_hash"],
        "text": version["text"],
        "edited_at": version["edited_at"],
        "captured_at": version["captured_at"],
        "content_hash": version["content_hash"],
        "version_sha256": version_digest(
            channel_id=item["channel_id"],
            message_id=item["message_id"],
            text=version["text"],
            edited_at=version["edited_at"],
        ),
    }


def build_bundle(
    evidence: Evidence,
    *,
    read_photo: Callable[[dict[str, Any]], bytes],
    citations: Mapping[str, str] | None = None,
    created_at: datetime,
) -> list[BundleFile]:
    """The bundle's files, ``manifest.json`` last. ``read_photo(media_row)`` returns a stored
    file's bytes; ``citations`` maps a style name to the citation text."""
    from monitor.evidence_html import render_post_html

    files: list[BundleFile] = []
    photos: dict[str, str] = {}  # sha256 -> name in the bundle
    for message in evidence.messages:
        item = message["post"]
        base = f"messages/{item['message_id']}"
        for version in message["versions"]:
            entry = evidence.entries.get(("version", version["id"]))
            files.append(
                BundleFile(
                    f"{base}/versions/{version['number']}.json",
                    dumps(_version_json(evidence, message, version)),
                    "version",
                    (entry_json(entry),) if entry else (),
                )
            )
        record = {k: v for k, v in item.items() if k != "raw"}
        files.append(BundleFile(f"{base}/post.json", dumps(record), "post"))
        files.append(BundleFile(f"{base}/telegram.json", dumps(item.get("raw")), "telegram"))
        files.append(BundleFile(f"{base}/metrics.json", dumps(message["metrics"]), "metrics"))
        for medium in message["media"]:
            sha = medium["sha256"]
            if not sha or sha in photos or not medium["path"]:
                continue
            data = read_photo(medium)
            if hashlib.sha256(data).hexdigest() != sha:
                raise MonitorError(
                    f"media file {medium['path']} no longer matches its SHA-256 {sha}; "
                    "the bundle would not be evidence",
                    hint="run `monitor verify` to see what changed in the archive",
                )
            photos[sha] = f"photos/{sha}{PurePosixPath(medium['path']).suffix}"
            entry = evidence.entries.get(("media", sha))
            files.append(
                BundleFile(photos[sha], data, "photo", (entry_json(entry),) if entry else ())
            )
    files.append(
        BundleFile(
            "channel.json",
            dumps({"channel": evidence.channel, "at_capture": evidence.snapshot}),
            "channel",
        )
    )
    files.append(
        BundleFile("flags.json", dumps({"flags": evidence.flags, "audit": evidence.audit}), "flags")
    )
    for style, text in (citations or {}).items():
        ext = CITATION_EXTENSIONS.get(style, "txt")
        files.append(BundleFile(f"citations/{style}.{ext}", text.encode(), "citation"))
    html = render_post_html(evidence, photos=photos, citations=citations or {})
    files.append(BundleFile("post.html", html.encode(), "html"))
    files.append(
        BundleFile("manifest.json", dumps(_manifest(evidence, files, created_at)), "manifest")
    )
    return files


def _manifest(evidence: Evidence, files: list[BundleFile], created_at: datetime) -> dict:
    lead = evidence.lead
    username = evidence.channel.get("username")
    return {
        "format": FORMAT,
        "created_at": created_at,
        "post": {
            "channel_id": lead["channel_id"],
            "channel": username,
            "channel_title": evidence.channel.get("title"),
            "message_id": lead["message_id"],
            "grouped_id": lead["grouped_id"],
            "messages": [m["post"]["message_id"] for m in evidence.messages],
            "link": post_link(username, lead["channel_id"], lead["message_id"]),
        },
        "hash_chain": HASH_CHAIN,
        "files": [
            {
                "path": f.name,
                "role": f.role,
                "sha256": f.sha256,
                "size": len(f.data),
                "capture_log": list(f.entries),
            }
            for f in files
        ],
    }


def write_bundle(files: list[BundleFile], path: Path) -> int:
    """Write the files into a new zip at ``path`` (replacing it atomically); returns its size."""
    from storage.files import private_dir

    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for item in files:
                info = zipfile.ZipInfo(item.name, date_time=(1980, 1, 1, 0, 0, 0))
                stored = PurePosixPath(item.name).suffix.lower() in _STORED_SUFFIXES
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, item.data)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path.stat().st_size
