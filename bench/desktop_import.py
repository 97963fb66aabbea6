"""Memory and speed of ``monitor import desktop``: ``python bench/desktop_import.py [MB ...]``.

Writes Telegram Desktop exports of one channel (text posts with entities, every twentieth edited,
no photos) of the given sizes (default 25 and 100 MB), then, each in a fresh process, imports it
into a new SQLite archive (``monitor import desktop --json``) and, as the baseline, reads it with
``json.load`` (what a non-streaming importer starts with). Prints one table: peak RSS of each
process, and the import's wall time and messages/s. Flat memory means the import's peak RSS does
not grow with the file while the baseline's does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNEL_ID = 1351196199
_TEXT = (
    "وفد من المكتب الإعلامي يزور محافظة البصرة للاطلاع على مشاريع الكهرباء والاستماع إلى "
    "مطالب الأهالي. A delegation visited Basra to review power projects. "
)


def write_export(folder: Path, megabytes: int) -> int:
    """A one-channel export of about ``megabytes``; returns the number of messages."""
    folder.mkdir(parents=True, exist_ok=True)
    target = megabytes * 1_000_000
    written = 0
    n = 0
    with (folder / "result.json").open("w", encoding="utf-8") as out:
        head = f'{{\n "name": "Bench channel",\n "type": "public_channel",\n "id": {CHANNEL_ID},\n "messages": ['
        out.write(head)
        while written < target:
            n += 1
            when = 1_500_000_000 + n * 60
            message: dict[str, object] = {
                "id": n,
                "type": "message",
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when + 3 * 3600)),
                "date_unixtime": str(when),
                "from": "Bench channel",
                "from_id": f"channel{CHANNEL_ID}",
                "text": [f"{n}: {_TEXT}", {"type": "hashtag", "text": "#العراق"}],
                "text_entities": [
                    {"type": "plain", "text": f"{n}: {_TEXT}"},
                    {"type": "hashtag", "text": "#العراق"},
                ],
            }
            if n % 20 == 0:
                message["edited"] = message["date"]
                message["edited_unixtime"] = str(when + 600)
            chunk = ("\n" if n == 1 else ",\n") + json.dumps(message, ensure_ascii=False, indent=1)
            out.write(chunk)
            written += len(chunk.encode())
        out.write("\n ]\n}\n")
    return n


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall time of ``args`` in a fresh interpreter (GNU time style)."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, w, file=sys.stderr); "
        "sys.exit(r.returncode)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{result.stderr}")
    rss, wall = result.stderr.strip().splitlines()[-1].split()
    return float(rss), float(wall)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [25, 100]
    monitor = str(Path(sys.executable).with_name("monitor"))
    print(
        "| export | messages | import peak RSS MB | json.load peak RSS MB | import wall s | messages/s |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for megabytes in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ChatExport"
            n = write_export(folder, megabytes)
            size = (folder / "result.json").stat().st_size
            env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
            env |= {"MONITOR_DATA_DIR": str(Path(tmp) / "data"), "PYTHONPATH": str(ROOT)}
            subprocess.run([monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
            rss, wall = measure([monitor, "import", "desktop", str(folder), "--json"], env)
            load = [
                sys.executable,
                "-c",
                f"import json; json.load(open({str(folder / 'result.json')!r}, 'rb'))",
            ]
            base_rss, _ = measure(load, env)
            print(
                f"| {size / 1e6:.0f} MB | {n:,} | {rss:.0f} | {base_rss:.0f} | {wall:.1f} | {n / wall:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
