"""OCR benchmark: photos read per second by Tesseract on this machine, pool of 1 vs 2 workers.

A measurement, not a timed test; prints a Markdown table for the README.

    python bench/photos_ocr.py                 # the seed's posters, 3 rounds, langs ara+fas
    python bench/photos_ocr.py --photos 24 --langs ara

The photos are the seed scenario's posters (``monitor.simulator.photos.generate_jpeg`` with
the seed's texts) and variants of them with other seeds: ``--photos`` distinct 1280x960 JPEGs.
Each is read through :meth:`monitor.photos.ocr.OcrEngine.read` (the path the collector takes:
one ``tesseract`` process a photo, in the engine's thread pool, from the event loop), with a
pool of 1 and of 2 workers, in turns, ``--rounds`` times; the table gives the median photos/s
and the ratio. Each photo's text is checked to name the poster's person, so a fast run that
reads nothing is not counted as fast.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.matching import normalize  # noqa: E402
from monitor.photos.ocr import OcrEngine  # noqa: E402
from monitor.simulator.photos import generate_jpeg  # noqa: E402

# The seed scenario's posters (monitor/simulator/scenarios/seed.yaml) and what each names.
POSTERS = [
    ("بيان صادر عن\nالشيخ قيس الخزعلي\nالأمين العام", "قيس الخزعلي"),
    ("نشست خبری\nقیس خزعلی\nدبیرکل عصائب اهل حق", "قيس خزعلي"),
]


def photos(n: int) -> list[tuple[bytes, str]]:
    out = []
    for i in range(n):
        text, name = POSTERS[i % len(POSTERS)]
        out.append((generate_jpeg(20240208 + i, label=f"poster {i}", text=text), name))
    return out


async def rate(workers: int, batch: list[tuple[bytes, str]], langs: list[str]) -> float:
    engine = OcrEngine.discover(os.environ.get("MONITOR_OCR_TESSERACT"), workers=workers)
    if not engine.available:
        raise SystemExit(f"OCR is off: {engine.reason}")
    try:
        started = time.perf_counter()
        texts = await asyncio.gather(*(engine.read(data, langs) for data, _ in batch))
        elapsed = time.perf_counter() - started
    finally:
        engine.close()
    misread = [
        i
        for i, (text, (_, name)) in enumerate(zip(texts, batch, strict=True))
        if normalize(name) not in normalize(text)
    ]
    if misread:
        print(
            f"warning: {len(misread)} of {len(batch)} photos did not name their person",
            file=sys.stderr,
        )
    return len(batch) / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--langs", default="ara+fas")
    args = parser.parse_args(argv)
    langs = args.langs.split("+")
    batch = photos(args.photos)
    version = OcrEngine.discover(os.environ.get("MONITOR_OCR_TESSERACT")).version
    asyncio.run(rate(1, batch[:2], langs))  # warm the page cache with the language data
    results: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for workers in (1, 2):
            results[workers].append(asyncio.run(rate(workers, batch, langs)))
    one, two = statistics.median(results[1]), statistics.median(results[2])
    print(
        f"{args.photos} posters 1280x960, -l {args.langs}, {version}, "
        f"{os.cpu_count()} cores, median of {args.rounds} rounds\n"
    )
    print("| pool | photos/s | vs 1 worker |")
    print("|---|---|---|")
    print(f"| 1 worker | {one:.2f} | 1.00 |")
    print(f"| 2 workers | {two:.2f} | {two / one:.2f} |")


if __name__ == "__main__":
    main()
