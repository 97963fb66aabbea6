"""`monitor export evidence` writes a post (an album: all its messages) as a zip that
`monitor verify FILE.zip` checks with no archive at all, naming each file that was changed."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from monitor.cli import app
from tests.evidence.conftest import media_root, sql

MEETING = "https://t.me/khazali_media_sim/125"
NO_ARCHIVE = {  # a bundle is checked without any database: this one does not exist
    "MONITOR_DATA_DIR": "/nonexistent/monitor-data",
    "MONITOR_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
}


def cli(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def export(env: dict[str, str], ref: str, out: Path) -> Path:
    result = cli(env, "export", "evidence", ref, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def rewrite(bundle: Path, name: str, change) -> Path:
    """A copy of ``bundle`` with member ``name`` replaced by ``change(bytes)``."""
    out = bundle.with_name(f"changed-{bundle.name}")
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == name else data)
    return out


def flip(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


def test_the_album_bundle_holds_every_message_photo_and_record(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        photos = {n: zf.read(n) for n in names if n.startswith("photos/")}
        html = zf.read("post.html").decode()
        version = json.loads(zf.read("messages/125/versions/1.json"))
        telegram = json.loads(zf.read("messages/125/telegram.json"))
        flags = json.loads(zf.read("flags.json"))
        channel = json.loads(zf.read("channel.json"))
    assert manifest["post"]["messages"] == [125, 126, 127]
    for message in (125, 126, 127):
        assert {
            f"messages/{message}/versions/1.json",
            f"messages/{message}/post.json",
            f"messages/{message}/telegram.json",
            f"messages/{message}/metrics.json",
        } <= names
    # The photos are the captured bytes, one file per stored photo of the album.
    stored = sql(
        archive,
        "SELECT m.sha256, m.path FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 "
        "JOIN post p ON p.id = pm.post_id JOIN channel c ON c.id = p.channel_id "
        "WHERE c.username = 'khazali_media_sim' AND p.message_id IN (125, 126, 127)",
    )
    assert len(stored) == 3 and len(photos) == 3
    for sha, path in stored:
        [data] = [v for k, v in photos.items() if sha in k]
        assert data == (media_root(archive) / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
        assert f'src="photos/{sha}.jpg"' in html
    # Our record, Telegram's message, the flags and the channel at capture.
    assert "قيس الخزعلي" in version["text"] and version["edited_at"].startswith("2024-05-13T10:05")
    assert telegram["id"] == 125
    assert {f["entity_id"] for f in flags["flags"]} >= {"qais-al-khazali", "asaib-ahl-al-haq"}
    assert channel["at_capture"]["title"] == channel["channel"]["title"]
    assert '<div class="text" dir="auto">سماحة' in html
    # The manifest lists every other file with its size, hash and covering log entries.
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    with zipfile.ZipFile(bundle) as zf:
        for name, item in listed.items():
            data = zf.read(name)
            assert (item["sha256"], item["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    for item in listed.values():
        if item["role"] in ("version", "photo"):
            [entry] = item["capture_log"]
            assert entry["entry_hash"] in {
                row[0] for row in sql(archive, "SELECT entry_hash FROM capture_log")
            }


def test_a_bundle_verifies_after_the_archive_is_deleted(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    schema = make_url(archive["MONITOR_DATABASE_URL"]).query.get("schema")
    if schema:  # PostgreSQL: the archive is this schema
        sql(archive, f'DROP SCHEMA "{schema}" CASCADE')
    shutil.rmtree(archive["MONITOR_DATA_DIR"])  # SQLite's database and the media store
    result = cli(NO_ARCHIVE, "verify", str(bundle))
    assert result.exit_code == 0, result.output
    assert "OK: meeting.zip: 24 files match the manifest and 6 capture-log entries" in result.output
    report = json.loads(cli(NO_ARCHIVE, "verify", str(bundle), "--json").output)
    assert report["ok"] and report["mismatches"] == []


def test_a_flipped_byte_in_a_photo_names_that_photo(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    with zipfile.ZipFile(bundle) as zf:
        photo = sorted(n for n in zf.namelist() if n.startswith("photos/"))[1]
    result = cli(NO_ARCHIVE, "verify", str(rewrite(bundle, photo, flip)))
    assert result.exit_code == 1, result.output
    mismatches = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert len(mismatches) == 1 and mismatches[0].startswith(f"MISMATCH {photo}: ")


def test_a_flipped_byte_in_a_version_json_names_that_file(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    name = "messages/125/versions/1.json"
    changed = rewrite(bundle, name, lambda data: data.replace("قيس".encode(), "قیس".encode()))
    report = json.loads(cli(NO_ARCHIVE, "verify", str(changed), "--json").output)
    assert not report["ok"]
    assert [m["file"] for m in report["mismatches"]] == [name]


def test_a_version_changed_with_its_manifest_line_still_fails_on_the_log_entry(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    name = "messages/125/versions/1.json"
    with zipfile.ZipFile(bundle) as zf:
        forged = zf.read(name).replace("قيس".encode(), "قیس".encode())
        manifest = json.loads(zf.read("manifest.json"))
    for item in manifest["files"]:
        if item["path"] == name:
            item.update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
    step = rewrite(bundle, name, lambda _: forged)
    changed = rewrite(step, "manifest.json", lambda _: json.dumps(manifest).encode())
    result = cli(NO_ARCHIVE, "verify", str(changed))
    assert result.exit_code == 1
    assert f"MISMATCH {name}: content no longer matches capture-log entry" in result.output


def test_a_byte_flipped_in_the_zip_file_itself_names_the_damaged_member(archive, tmp_path):
    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    with zipfile.ZipFile(bundle) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("photos/"))
    raw = bytearray(bundle.read_bytes())
    raw[info.header_offset + 30 + len(info.filename) + 1000] ^= 0x01  # inside the stored bytes
    bundle.write_bytes(bytes(raw))
    result = cli(NO_ARCHIVE, "verify", str(bundle))
    assert result.exit_code == 1
    assert f"MISMATCH {info.filename}: " in result.output


def test_an_unknown_post_exits_1_and_writes_nothing(archive, tmp_path):
    out = tmp_path / "x.zip"
    for ref in ("@khazali_media_sim/99999", "https://t.me/no_such_channel/5", "4242/1"):
        result = cli(archive, "export", "evidence", ref, "-o", str(out))
        assert result.exit_code == 1, result.output
        assert "in the archive" in result.output and "no post" in result.output
    result = cli(archive, "export", "evidence", "--flag", "999999", "-o", str(out))
    assert result.exit_code == 1
    assert "no flag 999999 in the archive" in result.output
    assert not out.exists()
    result = cli(archive, "export", "evidence", "not a ref", "-o", str(out))
    assert result.exit_code == 2 and "is not a post reference" in result.output


def test_flagged_posts_export_one_bundle_each(archive, tmp_path):
    [(flag_id,)] = sql(
        archive,
        "SELECT min(f.id) FROM flag f JOIN post p ON p.id = f.post_id "
        "JOIN channel c ON c.id = p.channel_id "
        "WHERE c.username = 'khazali_media_sim' AND p.message_id = 125",
    )
    other = sql(
        archive,
        "SELECT min(id) FROM flag WHERE post_id <> "
        f"(SELECT post_id FROM flag WHERE id = {flag_id})",
    )[0][0]
    ok = cli(archive, "flags", "set", str(flag_id), str(other), "--status", "confirmed")
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "bundles"
    result = cli(
        archive,
        "export",
        "evidence",
        "--flags",
        "--status",
        "confirmed",
        "--since",
        "2000-01-01",
        "-o",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 2
    assert MEETING in {row["link"] for row in rows}
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(r["path"]).name for r in rows)
    for row in rows:
        assert cli(NO_ARCHIVE, "verify", row["path"]).exit_code == 0
    by_flag = cli(
        archive, "export", "evidence", "--flag", str(flag_id), "-o", str(tmp_path / "f.zip")
    )
    assert by_flag.exit_code == 0 and MEETING in by_flag.output


def test_an_edited_post_carries_every_version_and_each_verifies(archive, tmp_path):
    from datetime import UTC, datetime

    from storage import upsert_posts
    from storage.records import PostRecord
    from tests.evidence.conftest import with_db

    [(channel_id, message_id, posted_at, text)] = sql(
        archive,
        "SELECT p.channel_id, p.message_id, p.posted_at, p.text FROM post p "
        "JOIN channel c ON c.id = p.channel_id WHERE c.username = 'iraq_news_en_sim' "
        "AND p.grouped_id IS NULL AND p.text <> '' AND NOT EXISTS "
        "(SELECT 1 FROM post_media pm WHERE pm.post_id = p.id) ORDER BY p.message_id LIMIT 1",
    )
    if isinstance(posted_at, str):  # SQLite hands raw SQL datetimes back as text
        posted_at = datetime.fromisoformat(posted_at)
    edit = PostRecord(
        channel_id=channel_id,
        message_id=message_id,
        posted_at=posted_at if posted_at.tzinfo else posted_at.replace(tzinfo=UTC),
        text=text + " [corrected]",
        edited_at=datetime(2024, 6, 1, tzinfo=UTC),
    )
    with_db(archive, lambda conn: upsert_posts([edit], conn=conn, captured_at=datetime.now(UTC)))
    assert cli(archive, "verify").exit_code == 0  # the edit was logged like any capture
    bundle = export(archive, f"{channel_id}/{message_id}", tmp_path / "edited.zip")
    with zipfile.ZipFile(bundle) as zf:
        first = json.loads(zf.read(f"messages/{message_id}/versions/1.json"))
        second = json.loads(zf.read(f"messages/{message_id}/versions/2.json"))
        html = zf.read("post.html").decode()
    assert (first["text"], first["current"]) == (text, False)
    assert (second["text"], second["current"]) == (edit.text, True)
    assert "Versions captured" in html and "[corrected]" in html
    report = json.loads(cli(NO_ARCHIVE, "verify", str(bundle), "--json").output)
    assert report["ok"] and report["entries"] == 2


def test_a_photo_changed_or_missing_in_the_media_store_stops_the_export(archive, tmp_path):
    [(path,)] = sql(
        archive,
        "SELECT m.path FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 "
        "JOIN post p ON p.id = pm.post_id JOIN channel c ON c.id = p.channel_id "
        "WHERE c.username = 'khazali_media_sim' AND p.message_id = 126",
    )
    stored = media_root(archive) / path
    out = tmp_path / "meeting.zip"
    stored.write_bytes(flip(stored.read_bytes()))
    result = cli(archive, "export", "evidence", MEETING, "-o", str(out))
    assert result.exit_code == 1
    assert f"media file {path} no longer matches its SHA-256" in result.output
    stored.unlink()
    result = cli(archive, "export", "evidence", MEETING, "-o", str(out))
    assert result.exit_code == 1
    assert f"media file {path} is missing from the media store" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_the_bundle_cites_the_post_in_every_style_with_the_logged_version_hash(archive, tmp_path):
    from monitor.citations import STYLES

    bundle = export(archive, MEETING, tmp_path / "meeting.zip")
    with zipfile.ZipFile(bundle) as zf:
        cited = {
            n.split("/")[1].rsplit(".", 1)[0]: zf.read(n).decode()
            for n in zf.namelist()
            if n.startswith("citations/")
        }
        version = json.loads(zf.read("messages/125/versions/1.json"))
        manifest = json.loads(zf.read("manifest.json"))
        html = zf.read("post.html").decode()
    assert set(cited) == set(STYLES)
    assert cited["short"] == "Telegram, May 13, 2024."
    # The citation's hash is the capture log's content hash of the same version.
    [entry] = next(f for f in manifest["files"] if f["path"] == "messages/125/versions/1.json")[
        "capture_log"
    ]
    assert entry["content_sha256"] == version["version_sha256"]
    assert f"SHA-256 {version['version_sha256'][:16]}" in cited["full"]
    assert json.loads(cited["csl-json"])[0]["URL"] == MEETING
    assert cited["bibtex"].startswith("@misc{")
    assert "Telegram, May 13, 2024." in html
