"""Partial photo files left by a process killed mid-write are removed when the monitor starts;
stored photos, and partial files a live writer may still own, are kept."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from storage.media import MediaStore
from tests.daemon.conftest import Env, channels_yaml

HOUR = 3600.0


def partial_file(store: MediaStore, data: bytes, *, age: float) -> Path:
    """The temporary file MediaStore.put() writes before its rename, as a kill leaves it."""
    sha256 = hashlib.sha256(data).hexdigest()
    folder = store.root / sha256[:2] / sha256[2:4]
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=f".{sha256[:8]}")
    os.write(fd, data[: len(data) // 2])
    os.close(fd)
    when = time.time() - age
    os.utime(name, (when, when))
    return Path(name)


def stored_file(store: MediaStore, data: bytes, *, age: float) -> Path:
    path = store.path_of(store.put(data, ext="jpg").relpath)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


async def test_collect_removes_partial_media_from_before_it_started(sim, tmp_path: Path):
    sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    store = MediaStore(env.data_dir / "media")
    kept = stored_file(store, b"\xff\xd8 a photo stored a day ago", age=24 * HOUR)
    leftover = partial_file(store, b"\xff\xd8 a photo being written when killed", age=HOUR)
    live = partial_file(store, b"\xff\xd8 a photo another process is writing", age=-HOUR)
    foreign = kept.parent / ".tmp-notes.txt"  # not a name we write
    foreign.write_text("someone else's file")
    os.utime(foreign, (time.time() - HOUR,) * 2)

    code, _, err = await env.monitor("collect")

    assert code == 0, err
    assert not leftover.exists()
    assert kept.read_bytes() == b"\xff\xd8 a photo stored a day ago"
    assert live.exists() and foreign.exists()
    assert store.verify(hashlib.sha256(kept.read_bytes()).hexdigest())


def test_only_partial_files_older_than_the_cutoff_are_removed(tmp_path: Path):
    store = MediaStore(tmp_path / "media")
    kept = stored_file(store, b"old photo", age=48 * HOUR)
    old = partial_file(store, b"partial one", age=2 * HOUR)
    young = partial_file(store, b"partial two", age=10.0)

    removed = store.remove_partial_files(older_than=time.time() - HOUR)

    assert removed == [old]
    assert kept.exists() and young.exists() and not old.exists()
