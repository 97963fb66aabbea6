"""Checking an evidence bundle on its own: no database, no media store, only the zip.

Each file listed in ``manifest.json`` must be in the zip with the listed size and SHA-256; each
capture-log entry listed must hash to its ``entry_hash``; a version file must hash (as
:func:`storage.digests.version_digest`) to its entry's content hash and a photo's bytes to
its media entry's. Files in the zip that the manifest does not list are reported too.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["BundleProblem", "BundleReport", "verify_bundle"]


@dataclass(frozen=True, slots=True)
class BundleProblem:
    name: str  # the file inside the bundle (or the bundle itself)
    problem: str


@dataclass
class BundleReport:
    path: Path
    files: int = 0
    entries: int = 0
    problems: list[BundleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle": str(self.path),
            "ok": self.ok,
            "files": self.files,
            "entries": self.entries,
            "mismatches": [{"file": p.name, "problem": p.problem} for p in self.problems],
        }


def verify_bundle(path: Path) -> BundleReport:
    report = BundleReport(Path(path))
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(BundleProblem(str(path), f"not a readable zip file: {exc}"))
        return report
    with archive:
        manifest = _read_manifest(archive, report)
        if manifest is None:
            return report
        listed: set[str] = {"manifest.json"}
        for item in manifest.get("files", []):
            if item.get("path") == "manifest.json":
                continue
            listed.add(str(item.get("path")))
            _check_file(archive, item, report)
        for name in archive.namelist():
            if name not in listed:
                report.problems.append(
                    BundleProblem(name, "this file is not listed in manifest.json")
                )
    return report


def _read_manifest(archive: zipfile.ZipFile, report: BundleReport) -> dict[str, Any] | None:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        report.problems.append(BundleProblem("manifest.json", "missing: not an evidence bundle"))
        return None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        report.problems.append(BundleProblem("manifest.json", f"unreadable: {exc}"))
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        report.problems.append(BundleProblem("manifest.json", "has no list of files"))
        return None
    return manifest


def _check_file(archive: zipfile.ZipFile, item: dict[str, Any], report: BundleReport) -> None:
    name = str(item.get("path"))
    report.files += 1
    try:
        data = archive.read(name)
    except KeyError:
        report.problems.append(BundleProblem(name, "listed in manifest.json but missing"))
        return
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # a CRC error: bytes changed
        report.problems.append(BundleProblem(name, f"damaged in the zip: {exc}"))
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != item.get("sha256") or len(data) != item.get("size"):
        report.problems.append(
            BundleProblem(
                name,
                f"does not match manifest.json: SHA-256 {actual} ({len(data)} bytes), "
                f"listed as {item.get('sha256')} ({item.get('size')} bytes)",
            )
        )
        return
    for entry in item.get("capture_log") or []:
        report.entries += 1
        problem = _check_entry(entry, item.get("role"), data)
        if problem:
            report.problems.append(BundleProblem(name, problem))


def _check_entry(entry: dict[str, Any], role: object, data: bytes) -> str | None:
    from storage.capture_log import entry_hash
    from storage.digests import version_digest

    try:
        captured_at = datetime.fromisoformat(str(entry["captured_at"]).replace("Z", "+00:00"))
        if entry_hash(entry["prev_hash"], entry["content_sha256"], captured_at) != entry.get(
            "entry_hash"
        ):
            return f"capture-log entry {entry.get('seq')} does not hash to its entry_hash"
        if role == "photo":
            content = hashlib.sha256(data).hexdigest()
        elif role == "version":
            record = json.loads(data)
            edited = record.get("edited_at")
            content = version_digest(
                channel_id=record["channel_id"],
                message_id=record["message_id"],
                text=record["text"],
                edited_at=datetime.fromisoformat(edited) if edited else None,
            )
        else:
            return None
    except (KeyError, TypeError, ValueError) as exc:
        return f"capture-log entry {entry.get('seq')} cannot be checked: {exc!r}"
    if content != entry["content_sha256"]:
        return (
            f"content no longer matches capture-log entry {entry.get('seq')} "
            f"(captured {entry['captured_at']})"
        )
    return None
