"""The quickstart's demo: ``python bench/demo.py [--runs N]``.

Times ``monitor demo`` (the seed scenario collected, its photos read by Tesseract, alerts sent)
as a fresh process on a fresh data directory, N times (default 3), alternating with the same
command given ``MONITOR_OCR_WORKERS=1`` (the daemon's default: one Tesseract at a time, which
the demo used before it took a process per core). Prints a Markdown table: min and median wall
time and median CPU (the process and its Tesseract children), and whether every run printed the
same summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(extra_env: dict[str, str]) -> tuple[float, float, str]:
    """Wall s, CPU s (with children) and the summary (paths removed) of one demo."""
    with tempfile.TemporaryDirectory(prefix="monitor-bench-demo-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        env |= {"MONITOR_DATA_DIR": tmp, "COLUMNS": "120", **extra_env}
        argv = [sys.executable, "-c", "from monitor.cli import main; main()", "demo"]
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        out, _ = proc.communicate()
        wall = time.perf_counter() - start
        after = os.times()
        if proc.returncode != 0:
            raise SystemExit(f"monitor demo exited {proc.returncode}")
        cpu = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        return wall, cpu, out.replace(tmp, "<data>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    variants = {
        "`monitor demo`": {},
        "`MONITOR_OCR_WORKERS=1 monitor demo`": {"MONITOR_OCR_WORKERS": "1"},
    }
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in variants}
    run_once({})  # untimed: bytecode, the language model and the page cache warm
    for _ in range(args.runs):
        for name, extra in variants.items():
            results[name].append(run_once(extra))
    summaries = {r[2] for runs in results.values() for r in runs}
    load = os.getloadavg()[0]
    print(f"\n{args.runs} runs each, {os.cpu_count()} CPUs, load average {load:.2f} at the end\n")
    print("| command | min wall s | median wall s | CPU s (median, with Tesseract) |")
    print("| --- | --- | --- | --- |")
    for name, runs in results.items():
        walls = [r[0] for r in runs]
        print(
            f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
            f"{statistics.median(r[1] for r in runs):.2f} |"
        )
    print(f"\nevery run printed the same summary: {'yes' if len(summaries) == 1 else 'no'}")


if __name__ == "__main__":
    main()
