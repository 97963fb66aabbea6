"""`monitor verify` recomputes the capture log over a collected archive: it passes on a fresh
one and names the post or the file that was changed behind the collector's back."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from monitor.cli import app
from tests.evidence.conftest import media_root, sql

MEETING = "SELECT p.id FROM post p JOIN channel c ON c.id = p.channel_id " + (
    "WHERE c.username = 'khazali_media_sim' AND p.message_id = 125"
)


def verify(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["verify", *args], env=env)


def test_a_fresh_archive_verifies_and_every_version_and_file_is_logged(archive):
    result = verify(archive)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")
    summary = json.loads(verify(archive, "--json").output)
    versions = sql(archive, "SELECT count(*) FROM post_version")[0][0]
    files = sql(archive, "SELECT count(*) FROM media")[0][0]
    assert versions > 300 and files > 10
    assert summary["ok"] is True
    assert (summary["versions"], summary["media_files"]) == (versions, files)
    assert summary["entries"] == versions + files
    # The chain is one line: every entry follows the one before it.
    rows = sql(archive, "SELECT prev_hash, entry_hash FROM capture_log ORDER BY seq")
    assert rows[0][0] == "0" * 64
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))
    assert summary["head"] == rows[-1][1]


def test_changed_text_in_the_database_names_the_post(archive):
    sql(
        archive,
        f"UPDATE post_version SET text = 'nothing to see here' WHERE post_id = ({MEETING})",
    )
    result = verify(archive)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    # The version no longer matches its log entry, and the post's current text (the same
    # text) is no longer one that was captured: both name this post and nothing else.
    assert len(lines) == 2
    assert all(line.startswith("MISMATCH post @khazali_media_sim/125 (") for line in lines)
    assert "message 125) version 1: " in lines[0]
    assert result.output.splitlines()[-1].startswith("FAILED: 2 mismatches in ")
    found = json.loads(verify(archive, "--json").output)
    assert not found["ok"]
    assert [
        (m["kind"], m["channel"], m["message_id"], m["version"]) for m in found["mismatches"]
    ] == [("version", "khazali_media_sim", 125, 1), ("post", "khazali_media_sim", 125, None)]


def test_a_changed_edit_date_is_found_too(archive):
    sql(
        archive,
        f"UPDATE post_version SET edited_at = posted_at FROM post "
        f"WHERE post.id = post_version.post_id AND post_version.post_id = ({MEETING})",
    )
    result = verify(archive)
    assert result.exit_code == 1
    assert "post @khazali_media_sim/125" in result.output


def test_changed_photo_bytes_name_the_file(archive):
    [(sha, path)] = sql(
        archive,
        f"SELECT m.sha256, m.path FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 "
        f"WHERE pm.post_id = ({MEETING})",
    )
    stored = media_root(archive) / path
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    result = verify(archive)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert len(lines) == 1
    assert f"file {path}" in lines[0]
    assert f"captured as {sha} (a photo of " in lines[0]
    assert "@khazali_media_sim/125" in lines[0].split("(a photo of ")[1]


def test_changed_current_text_of_a_post_is_found(archive):
    sql(archive, f"UPDATE post SET text = 'nothing to see here' WHERE id = ({MEETING})")
    found = json.loads(verify(archive, "--json").output)
    assert [(m["kind"], m["channel"], m["message_id"]) for m in found["mismatches"]] == [
        ("post", "khazali_media_sim", 125)
    ]


def test_a_deleted_photo_file_is_named(archive):
    [(path,)] = sql(archive, "SELECT path FROM media ORDER BY sha256 LIMIT 1")
    (media_root(archive) / path).unlink()
    result = verify(archive)
    assert result.exit_code == 1
    assert f"file {path}: the file is missing" in result.output


def test_a_rewritten_log_entry_breaks_the_chain_where_it_was_rewritten(archive):
    [(seq,)] = sql(archive, "SELECT seq FROM capture_log ORDER BY seq LIMIT 1 OFFSET 20")
    sql(archive, f"UPDATE capture_log SET content_sha256 = entry_hash WHERE seq = {seq}")
    found = json.loads(verify(archive, "--json").output)
    assert not found["ok"]
    assert {"kind": "chain", "seq": seq} == {k: found["mismatches"][0][k] for k in ("kind", "seq")}


def test_a_version_stored_outside_the_log_is_reported(archive):
    sql(archive, "DELETE FROM capture_log WHERE seq = (SELECT max(seq) FROM capture_log)")
    found = json.loads(verify(archive, "--json").output)
    assert [m["kind"] for m in found["mismatches"]] in (["unlogged-version"], ["unlogged-media"])
