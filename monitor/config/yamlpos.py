"""Load YAML with ruamel's round-trip loader and keep the position of every key and item.

Problems found anywhere while loading a watchlist are :class:`Problem` values that point at a
``file:line:column`` (1-based) and are reported all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.config.handles import canonical_handle
from monitor.config.yamllimits import EventBudget, YamlLimitError, check_size

__all__ = ["Loc", "Problem", "YamlDoc", "describe_loc", "parse_yaml"]

Loc = tuple[str | int, ...]

#: A key a model accepts under another name (``url:`` is folded into ``urls``).
KEY_ALIASES = {"urls": "url"}

_SLUG = re.compile(r"[a-z0-9-]+")
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, with the position it was found at (1-based)."""

    order: int  # which file (0 = the main file, then includes in order), for sorting
    line: int
    column: int
    source: str = field(compare=False)
    message: str = field(compare=False)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


@dataclass
class YamlDoc:
    """A parsed file: the round-trip tree (for positions) and where it came from."""

    source: str
    root: Any
    order: int = 0
    #: Locations of string values that used ``${VAR}`` (secrets may be inside).
    env_locs: set[Loc] = field(default_factory=set)

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``loc``, or of its key when ``key``.

        Walks as deep as the tree allows; a missing key (say a required field) stops at its
        parent, so the position still points at the right mapping.
        """
        node = self.root
        line, col = _lc_start(node)
        for index, part in enumerate(loc):
            data = getattr(getattr(node, "lc", None), "data", None)
            last = index == len(loc) - 1
            if isinstance(node, Mapping):
                name = part if part in node else KEY_ALIASES.get(str(part))
                if name is None or name not in node or data is None or name not in data:
                    break
                key_line, key_col, value_line, value_col = data[name]
                line, col = (key_line, key_col) if key and last else (value_line, value_col)
                node = node[name]
            elif isinstance(node, Sequence) and isinstance(part, int) and not isinstance(node, str):
                if data is None or part not in data:
                    break
                line, col = data[part][0], data[part][1]
                node = node[part]
            else:
                break
        return line + 1, col + 1

    def problem(self, loc: Loc, message: str, *, key: bool = False) -> Problem:
        line, column = self.position(loc, key=key)
        return Problem(self.order, line, column, self.source, message)

    def plain(self, loc: Loc, env: Mapping[str, str], problems: list[Problem]) -> Any:
        """The value at ``loc`` as plain Python, ``${VAR}`` expanded in strings."""
        node: Any = self.root
        for part in loc:
            node = node[part]
        return self._plain(node, loc, env, problems)

    def _plain(self, node: Any, loc: Loc, env: Mapping[str, str], problems: list[Problem]) -> Any:
        if type(node) is str:  # most values: checked first, and no copy without a `$`
            return self._expand(node, loc, env, problems) if "$" in node else node
        if isinstance(node, Mapping):
            return {
                str(key): self._plain(value, (*loc, str(key)), env, problems)
                for key, value in node.items()
            }
        if isinstance(node, list | tuple):
            return [self._plain(item, (*loc, i), env, problems) for i, item in enumerate(node)]
        if isinstance(node, str):
            return self._expand(str(node), loc, env, problems)
        if isinstance(node, bool) or node is None:
            return node
        if type(node).__name__ == "ScalarBoolean":
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node

    def _expand(self, text: str, loc: Loc, env: Mapping[str, str], problems: list[Problem]) -> str:
        if "$" not in text:
            return text
        used = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal used
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            if name is None:
                problems.append(
                    self.problem(
                        loc,
                        f"malformed variable reference in {describe_loc(self.root, loc)}; write "
                        "${NAME} (letters, digits, _), or $${ for a literal ${",
                    )
                )
                return match.group(0)
            used = True
            value = env.get(name)
            if not value:
                problems.append(
                    self.problem(
                        loc,
                        f"environment variable {name} is not set (or is empty), used in "
                        f"{describe_loc(self.root, loc)}; export {name}=... before running, "
                        "or remove the reference",
                    )
                )
                return ""
            return value

        expanded = _VAR.sub(substitute, text)
        if used:
            self.env_locs.add(loc)
        return expanded


def parse_yaml(text: str, source: str, order: int = 0) -> YamlDoc | Problem:
    """Parse YAML text; a syntax error, or a file too costly to read (size, depth, aliases: see
    :mod:`monitor.config.yamllimits`), becomes a :class:`Problem` at its position."""
    from ruamel.yaml import YAML  # here: a watchlist that the fast loader reads needs no ruamel
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    budget = EventBudget()

    class BoundedParser(yaml.Parser):  # type: ignore[name-defined,misc]
        def get_event(self) -> Any:
            event = super().get_event()
            budget.see(event)  # raises YamlLimitError before the composer goes on
            return event

    yaml.Parser = BoundedParser
    try:
        check_size(text)
        root = yaml.load(text)
    except YamlLimitError as exc:
        return Problem(order, exc.line, exc.column, source, exc.message)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        what = " ".join(what.split()) or "invalid YAML"
        fix = (
            "remove one of the two keys"
            if "duplicate key" in what
            else "check the indentation and quoting here"
        )
        return Problem(order, line, column, source, f"YAML syntax error: {what}; {fix}")
    except YAMLError as exc:
        return Problem(order, 1, 1, source, f"YAML error: {exc}")
    return YamlDoc(source=source, root=root, order=order)


def describe_loc(root: Any, loc: Loc) -> str:
    """Name the thing at ``loc`` for a message: ``channel '@foo'``, ``entity 'x'``, ``route 'desk'``."""
    if not loc:
        return "the top level"
    section = loc[0]
    if section in ("channels", "entities") and len(loc) > 1 and isinstance(loc[1], int):
        item = _get(root, loc[:2])
        kind = "channel" if section == "channels" else "entity"
        if isinstance(item, Mapping):
            label = item.get("handle" if kind == "channel" else "id")
        else:  # a bare string is a channel handle (shorthand), never an entity
            label = item if kind == "channel" else None
        if _valid_label(kind, label):
            return f"{kind} '{str(label).strip()}'"
        return f"{kind} #{loc[1] + 1}"
    if section == "alerts" and len(loc) > 2 and loc[1] == "routes" and isinstance(loc[2], int):
        item = _get(root, loc[:3])
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            return f"route #{loc[2] + 1}"
        return f"route '{name.strip()[:40]}{'…' if len(name.strip()) > 40 else ''}'"
    if section == "accounts" and len(loc) > 1 and isinstance(loc[1], int):
        return f"account #{loc[1] + 1}"
    return str(section) if section in ("defaults", "alerts", "include") else "the top level"


def _valid_label(kind: str, label: Any) -> bool:
    if not isinstance(label, str | int) or isinstance(label, bool):
        return False
    if kind == "entity":
        return bool(_SLUG.fullmatch(str(label).strip()))
    try:
        canonical_handle(label)
    except ValueError:
        return False
    return True


def _get(root: Any, loc: Loc) -> Any:
    node = root
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _lc_start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return lc.line, lc.col or 0
