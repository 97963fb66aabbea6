"""Everything that reads archived photos goes through the media store, so an S3 store works as
well as the data directory: `monitor verify` hashes the object's bytes, an evidence bundle holds
them and the desk's ``/media`` serves them. The same checks run on both stores; the S3 leg
moves the archive's photos into a bucket of moto's S3 server (loopback) and deletes the local
copies, so nothing can be read from a local path by mistake."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.settings import load_settings
from tests.evidence.conftest import media_root, sql
from tests.s3_server import CREDENTIALS, s3_client, s3_endpoint_fixture  # noqa: F401 - a fixture
from tests.web.site import ROOT, add_accounts, log_in, start_desk

MEETING = "https://t.me/khazali_media_sim/125"
PHOTO_OF_MEETING = (
    "SELECT m.sha256, m.path FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 "
    "JOIN post p ON p.id = pm.post_id JOIN channel c ON c.id = p.channel_id "
    "WHERE c.username = 'khazali_media_sim' AND p.message_id = 125"
)


@dataclass
class Stored:
    """An archive whose photos live in one media store, and ways to change them behind the
    collector's back."""

    kind: str
    env: dict[str, str]
    originals: dict[str, bytes]  # relpath -> bytes as captured
    client: Any = None
    bucket: str = ""
    prefix: str = ""

    def put(self, relpath: str, data: bytes) -> None:
        if self.client is None:
            (media_root(self.env) / relpath).write_bytes(data)
        else:
            key = f"{self.prefix}/{relpath}"
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def delete(self, relpath: str) -> None:
        if self.client is None:
            (media_root(self.env) / relpath).unlink()
        else:
            self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{relpath}")

    def where(self, relpath: str) -> str:
        if self.client is None:
            return str(media_root(self.env) / relpath)
        return f"s3://{self.bucket}/{self.prefix}/{relpath}"


@pytest.fixture(params=["directory", "s3"])
def stored(
    request: pytest.FixtureRequest, archive: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stored]:
    root = media_root(archive)
    originals = {
        p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
    assert len(originals) > 10
    if request.param == "directory":
        yield Stored("directory", dict(archive), originals)
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    # moto's server (a thread of this process) logs each request; the CLI's output is JSON.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    client = s3_client(endpoint)
    bucket = f"media-{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"  # noqa: S324
    client.create_bucket(Bucket=bucket)
    prefix = "desk/media"
    for relpath, data in originals.items():
        client.put_object(Bucket=bucket, Key=f"{prefix}/{relpath}", Body=data)
    shutil.rmtree(root)  # only the bucket holds the photos now
    aws = {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS}
    for name, value in aws.items():  # the desk (a thread of this process) reads them too
        monkeypatch.setenv(name, value)
    env = {**archive, **aws, "MONITOR_MEDIA_URL": f"s3://{bucket}/{prefix}"}
    yield Stored("s3", env, originals, client, bucket, prefix)


def cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def test_verify_hashes_the_stored_bytes_and_names_changed_and_missing_files(stored: Stored):
    fresh = cli(stored.env, "verify", "--json")
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.output)["media_files"] == len(stored.originals)

    [(sha, path)] = sql(stored.env, PHOTO_OF_MEETING)
    other = sorted(p for p in stored.originals if p != path)[0]
    changed = bytearray(stored.originals[path])
    changed[len(changed) // 2] ^= 0x01
    stored.put(path, bytes(changed))
    stored.delete(other)

    result = cli(stored.env, "verify", "--json")
    assert result.exit_code == 1, result.output
    found = {m["path"]: m for m in json.loads(result.output)["mismatches"]}
    assert sorted(found) == sorted([path, other])
    altered = found[path]
    assert altered["kind"] == "media" and altered["sha256"] == sha
    assert hashlib.sha256(bytes(changed)).hexdigest() in altered["problem"]
    assert "@khazali_media_sim/125" in altered["problem"]
    assert f"missing from the media store ({stored.where(other)})" in found[other]["problem"]

    stored.put(path, stored.originals[path])  # put back as captured: only the missing one left
    again = json.loads(cli(stored.env, "verify", "--json").output)
    assert [m["path"] for m in again["mismatches"]] == [other]


def test_an_evidence_bundle_holds_the_photo_bytes_from_the_store(stored: Stored, tmp_path):
    [(sha, path)] = sql(stored.env, PHOTO_OF_MEETING)
    result = cli(stored.env, "export", "evidence", MEETING, "-o", str(tmp_path / "m.zip"))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "m.zip") as bundle:
        photos = {n: bundle.read(n) for n in bundle.namelist() if n.startswith("photos/")}
    assert photos[f"photos/{sha}.jpg"] == stored.originals[path]

    stored.delete(path)
    gone = cli(stored.env, "export", "evidence", MEETING, "-o", str(tmp_path / "gone.zip"))
    assert gone.exit_code == 1
    assert f"media file {path} is missing from the media store" in gone.output
    assert not (tmp_path / "gone.zip").exists()


async def test_the_desk_serves_photos_from_the_store(stored: Stored):
    [(sha, path)] = await asyncio.to_thread(sql, stored.env, PHOTO_OF_MEETING)
    await add_accounts(stored.env["MONITOR_DATABASE_URL"], ("amira",))
    settings = load_settings(
        data_dir=Path(stored.env["MONITOR_DATA_DIR"]),
        database_url=stored.env["MONITOR_DATABASE_URL"],
        channels_file=ROOT / "channels.yaml",
        media_url=stored.env.get("MONITOR_MEDIA_URL"),
    )
    running = await asyncio.to_thread(start_desk, settings)
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:
            await log_in(http, "amira")
            photo = await http.get(f"/media/{sha}")
            assert photo.status_code == 200
            assert photo.content == stored.originals[path]
            assert photo.headers["content-type"] == "image/jpeg"
            await asyncio.to_thread(stored.delete, path)
            assert (await http.get(f"/media/{sha}")).status_code == 404
    finally:
        await asyncio.to_thread(running.stop)
