"""``storage``, ``alerts`` and ``monitor.config`` export their public API lazily (PEP 562)
and completely.

``from storage import X`` imports only the submodule that defines X, so a command pays for what it
uses. The packages still behave as if they imported everything: each name in ``__all__`` is the
object its submodule defines, ``from pkg import *`` gives all of them, and the ``TYPE_CHECKING``
imports that type checkers read name the same objects as the runtime table.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["storage", "alerts", "monitor.config"]


def folder(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def type_checking_imports(package: str) -> dict[str, str]:
    """``{name: module}`` from the package's ``if TYPE_CHECKING:`` block."""
    tree = ast.parse((folder(package) / "__init__.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                found.update({alias.name: stmt.module for alias in stmt.names})
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_its_submodules_object(package):
    pkg = importlib.import_module(package)
    table = pkg._MODULE_OF
    assert sorted(pkg.__all__) == sorted(table), "__all__ and _EXPORTS disagree"
    assert type_checking_imports(package) == table, "TYPE_CHECKING imports and _EXPORTS disagree"
    for name, module in table.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name), name
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)
    assert set(pkg.__all__) <= set(namespace)
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = pkg.nope


@pytest.mark.parametrize("package", PACKAGES)
def test_a_name_from_a_submodule_is_not_shadowed_by_it(package):
    """Importing a submodule binds it on the package: no public name may share its name."""
    submodules = {path.stem for path in folder(package).iterdir() if path.suffix == ".py"}
    submodules |= {path.name for path in folder(package).iterdir() if path.is_dir()}
    assert not submodules & set(importlib.import_module(package).__all__)


@pytest.mark.parametrize(
    ("statement", "loaded", "not_loaded"),
    [
        ("from storage import StorageError", "storage.errors", "sqlalchemy"),
        ("from alerts import AlertError", "alerts.errors", "sqlalchemy"),
        ("from alerts import outbox_counts", "alerts.admin", "apprise"),
        ("from storage import check_schema", "storage.engine", "alembic"),
        ("from monitor.config import compile_matcher", "monitor.config.compiled", "pydantic"),
        ("import monitor.config.watchcache", "monitor.config.watchcache", "yaml"),
    ],
)
def test_importing_one_name_loads_only_its_module(statement, loaded, not_loaded):
    code = (
        f"import sys; {statement}; print({loaded!r} in sys.modules, {not_loaded!r} in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["True", "False"]
