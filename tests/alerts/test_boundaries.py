"""``alerts`` never imports ``monitor`` (arrows point one way)."""

from __future__ import annotations

import ast
from pathlib import Path

ALERTS = Path(__file__).resolve().parents[2] / "alerts"


def test_alerts_does_not_import_monitor():
    offenders = []
    for path in ALERTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "monitor"]
    assert offenders == []
