"""CLI start-up: ``python bench/cli.py [--runs N] [--against DIR]``.

Times ``monitor --help``, ``monitor flags list --help`` and three reading commands on a small
archive (the demo's, made once in a temporary directory), each as a fresh process, N times
(default 10), round-robin so that a busy machine slows every command alike. Beside them, in the
same run: ``python -c pass`` (the interpreter alone) and a naive CLI that imports everything up
front (``import telethon, sqlalchemy.ext.asyncio, apprise, alembic``).

``--against DIR`` also runs every command from another source tree of the project (e.g.
``git archive 1afa225 | tar -x -C /tmp/base``) through ``PYTHONPATH``, in the same round-robin,
for a before/after comparison under the same load; that tree makes its own demo archive, since
an older version refuses a newer schema.

Prints a Markdown table: min and median wall time, the target and whether the median meets it,
the median's ratio to the naive import, median CPU time (user + system: steadier than wall time
on a shared machine) and median peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAIVE = "import telethon, sqlalchemy.ext.asyncio, apprise, alembic"


@dataclass
class Case:
    name: str
    argv: list[str]
    target: float | None = None
    pythonpath: str | None = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def monitor() -> list[str]:
    """The CLI as installed next to this interpreter (or through its entry function)."""
    script = Path(sys.executable).parent / "monitor"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from monitor.cli import main; main()"]


def environment(data_dir: Path, pythonpath: str | None = None) -> dict[str, str]:
    # As installed: the project's modules get cached bytecode like site-packages has (the
    # uncounted warm-up run writes it), even where PYTHONDONTWRITEBYTECODE is set.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MONITOR_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        MONITOR_DATA_DIR=str(data_dir),
        MONITOR_CHANNELS_FILE=str(ROOT / "channels.yaml"),
        COLUMNS="120",
    )
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def run_once(case: Case, data_dir: Path) -> None:
    """One run (which must succeed): record wall seconds, CPU seconds and peak RSS in MB."""
    env = environment(data_dir, case.pythonpath)
    start = time.perf_counter()
    proc = subprocess.Popen(
        case.argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        again = subprocess.run(case.argv, cwd=ROOT, env=env, capture_output=True, text=True)
        raise SystemExit(f"{case.argv} exited {proc.returncode}:\n{again.stderr}")
    case.wall.append(elapsed)
    case.cpu.append(usage.ru_utime + usage.ru_stime)
    case.rss.append(usage.ru_maxrss / 1024)


def cases(against: Path | None) -> list[Case]:
    found = [
        Case("`python -c pass`", [sys.executable, "-c", "pass"]),
        Case(f"`python -c '{NAIVE}'`", [sys.executable, "-c", NAIVE]),
    ]
    commands = [
        (["--help"], 0.3),
        (["flags", "list", "--help"], 0.3),
        (["flags", "list"], 0.6),
        (["status"], 0.6),
        (["channels", "check"], 0.6),
    ]
    for args, target in commands:
        found.append(Case(f"`monitor {' '.join(args)}`", [*monitor(), *args], target))
        if against is not None:
            name = f"`monitor {' '.join(args)}` ({against.name})"
            found.append(Case(name, [*monitor(), *args], target, pythonpath=str(against)))
    return found


def table(all_cases: list[Case]) -> str:
    naive = statistics.median(all_cases[1].wall)
    lines = [
        "| command | min s | median s | target s | within target | vs import-all | CPU s | RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in all_cases:
        median = statistics.median(case.wall)
        target = "—" if case.target is None else f"{case.target:.1f}"
        within = "—" if case.target is None else ("yes" if median <= case.target else "no")
        lines.append(
            f"| {case.name} | {min(case.wall):.3f} | {median:.3f} | {target} | {within} | "
            f"{median / naive:.2f}× | {statistics.median(case.cpu):.3f} | "
            f"{statistics.median(case.rss):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--against", type=Path, help="another source tree of the project")
    args = parser.parse_args()
    all_cases = cases(args.against.resolve() if args.against else None)
    trees = sorted({case.pythonpath for case in all_cases}, key=lambda tree: tree or "")
    archives = {tree: Path(tempfile.mkdtemp(prefix="monitor-bench-cli-")) for tree in trees}
    try:
        for tree, data_dir in archives.items():
            print(f"making the demo archive of {tree or ROOT} in {data_dir} ...", file=sys.stderr)
            subprocess.run(
                [*monitor(), "demo"],
                cwd=ROOT,
                env=environment(data_dir, tree),
                check=True,
                capture_output=True,
            )
        for case in all_cases:  # warm the file cache and the bytecode, not counted
            run_once(case, archives[case.pythonpath])
            for values in (case.wall, case.cpu, case.rss):
                values.clear()
        for _ in range(args.runs):
            for case in all_cases:
                run_once(case, archives[case.pythonpath])
    finally:
        for data_dir in archives.values():
            shutil.rmtree(data_dir, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"\n{args.runs} runs each, {os.cpu_count()} CPUs, load average {load:.2f} at the end\n")
    print(table(all_cases))


if __name__ == "__main__":
    main()
