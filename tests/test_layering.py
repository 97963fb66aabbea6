"""Arrows point one way (STYLE.md 4 and 6), checked by parsing imports with ``ast``.

* ``storage`` and ``alerts`` never import ``monitor``: ``monitor`` uses them, not the reverse.
* ``monitor.matching`` is a pure core: it imports nothing that talks to a database, the network,
  Telegram or an event loop.

Every import is seen, including those inside functions, ``if TYPE_CHECKING:`` blocks and
``importlib.import_module("...")`` / ``__import__("...")`` calls with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Top-level modules that the pure matching core must not import.
MATCHING_FORBIDDEN = frozenset(
    {
        # our own I/O layers
        "storage",
        "alerts",
        # databases
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
        "alembic",
        # Telegram and the network
        "telethon",
        "socket",
        "ssl",
        "urllib",
        "http",
        "httpx",
        "requests",
        "aiohttp",
        "apprise",
        # an event loop means waiting on I/O
        "asyncio",
    }
)


def python_files(package: str) -> list[Path]:
    files = sorted(
        path for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts
    )
    assert files, f"no Python files under {ROOT / package}: has the package moved?"
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve_relative(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative ones resolved against ``path``)."""
    if node.level == 0:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line, dotted module name)`` for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = resolve_relative(path, node)
            yield node.lineno, module
            # ``from . import x`` / ``from monitor import x`` import submodules too.
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{module}.{alias.name}" if module else alias.name
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            if node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    yield node.lineno, node.args[0].value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def offenders(package: str, forbidden: frozenset[str]) -> list[str]:
    found = set()
    for path in python_files(package):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in forbidden:
                found.add(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    return sorted(found)


@pytest.mark.parametrize("package", ["storage", "alerts"])
def test_package_does_not_import_monitor(package):
    bad = offenders(package, frozenset({"monitor"}))
    assert not bad, (
        f"`{package}` must not import `monitor` (arrows point monitor -> {package}); "
        "pass the values in instead:\n" + "\n".join(bad)
    )


def test_matching_does_no_io():
    bad = offenders("monitor/matching", MATCHING_FORBIDDEN)
    assert not bad, (
        "monitor.matching is the pure core and must not import I/O modules "
        f"({', '.join(sorted(MATCHING_FORBIDDEN))}):\n" + "\n".join(bad)
    )


# The checker itself must catch every form, or the tests above could never fail.
CHECKER_CASES = {
    "import monitor\n": "monitor",
    "import monitor.settings as s\n": "monitor.settings",
    "from monitor.errors import MonitorError\n": "monitor.errors",
    "from monitor import cli\n": "monitor.cli",
    "def f():\n    from monitor.log import get_logger\n": "monitor.log",
    "if TYPE_CHECKING:\n    import monitor.settings\n": "monitor.settings",
    "import importlib\nimportlib.import_module('monitor.cli')\n": "monitor.cli",
    "__import__('monitor')\n": "monitor",
}


@pytest.mark.parametrize("source", CHECKER_CASES)
def test_checker_sees_every_form_of_import(tmp_path, source):
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    names = {name for _, name in imported_modules(path)}
    assert CHECKER_CASES[source] in names


def test_checker_resolves_relative_imports():
    path = ROOT / "monitor" / "matching" / "matcher.py"
    assert resolve_relative(path, ast.parse("from .. import pipeline").body[0]) == "monitor"
    assert resolve_relative(path, ast.parse("from .spans import x").body[0]) == (
        "monitor.matching.spans"
    )
    init = ROOT / "storage" / "__init__.py"
    assert resolve_relative(init, ast.parse("from .models import x").body[0]) == "storage.models"
