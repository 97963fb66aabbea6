"""Bounds on what a YAML file may cost to read: size, nesting depth, aliases and their expansion.

A watchlist is a few levels deep and a few megabytes at most. A hostile or broken file can
cost far more than its size: nine anchors of nine aliases each ("billion laughs") expand to a
billion values when turned into plain Python, and 5,000 nested brackets exhaust Python's
recursion. Both readers check these bounds before building anything:

- the fast reader (:mod:`monitor.config.yamlfast`) on libyaml's node graph, where an alias is
  the same node object seen again;
- the round-trip reader (:mod:`monitor.config.yamlpos`) on ruamel's events as its composer
  takes them, so a level too deep is refused before the composer recurses into it.

Expansion is counted, never done: each anchor's expanded size and height are recorded once, and
an alias adds them. A refusal is a :class:`YamlLimitError` at the line that crossed the bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_VALUES",
    "EventBudget",
    "YamlLimitError",
    "check_nodes",
    "check_size",
    "size_problem",
]

MAX_BYTES = 16 * 1024 * 1024  # per file; a 50,000-alias entities file is about 2 MB
MAX_DEPTH = 64  # a watchlist needs 5 levels
MAX_ALIASES = 10_000  # `*name` references in one file
MAX_VALUES = 2_000_000  # keys, values and items once every alias is expanded


class YamlLimitError(Exception):
    """The file crosses one of the bounds; ``line``/``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


def size_problem(size: int) -> str:
    return (
        f"the file is {size / 1_048_576:.1f} MiB, over the {MAX_BYTES // 1_048_576} MiB limit "
        "for a watchlist file; split the entities into several files listed under `include:`"
    )


def check_size(text: str) -> None:
    """Refuse text longer than :data:`MAX_BYTES` characters (a cheap bound on bytes)."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(1, 1, size_problem(len(text)))


def _too_deep() -> str:
    return (
        f"values nested more than {MAX_DEPTH} levels deep (a watchlist needs 5); "
        "check for unclosed brackets, or flatten the structure"
    )


def _too_many_aliases() -> str:
    return (
        f"more than {MAX_ALIASES:,} alias references (`*name`) in one file; "
        "write the values out instead of referring to an anchor"
    )


def _too_large() -> str:
    return (
        f"aliases here expand to more than {MAX_VALUES:,} values (an alias bomb?); "
        "write the values out, or refer to anchors less often"
    )


def _recursive() -> str:
    return "an alias used inside its own anchor (a loop); point the alias at another anchor"


class _Budget:
    def __init__(self) -> None:
        self.values = 0
        self.aliases = 0

    def add(self, values: int, mark: Any) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            _refuse(mark, _too_large())

    def alias(self, mark: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            _refuse(mark, _too_many_aliases())


def _refuse(mark: Any, message: str) -> None:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    raise YamlLimitError(line, column, message)


def check_nodes(root: Any) -> None:
    """Check libyaml's composed node graph (an alias is the same node object again)."""
    from yaml.nodes import MappingNode, SequenceNode

    budget = _Budget()
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, height)
    open_: set[int] = set()

    def visit(node: Any, depth: int) -> tuple[int, int]:
        key = id(node)
        seen = done.get(key)
        if seen is not None or key in open_:
            budget.alias(node.start_mark)
            if seen is None:
                _refuse(node.start_mark, _recursive())
            size, height = seen  # type: ignore[misc]
            if depth + height > MAX_DEPTH:
                _refuse(node.start_mark, _too_deep())
            budget.add(size, node.start_mark)
            return size, height
        if depth > MAX_DEPTH:
            _refuse(node.start_mark, _too_deep())
        budget.add(1, node.start_mark)
        if isinstance(node, MappingNode):
            children: Iterable[Any] = (part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            children = node.value
        else:
            done[key] = (1, 0)
            return 1, 0
        open_.add(key)
        size, height = 1, 0
        for child in children:
            child_size, child_height = visit(child, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
        open_.discard(key)
        done[key] = (size, height)
        return size, height

    visit(root, 1)


class EventBudget:
    """Checks ruamel's events one by one, as its composer takes them (its composer recurses
    per level, so depth must be refused before it goes deeper)."""

    def __init__(self) -> None:
        self.budget = _Budget()
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (expanded values, height)
        # Open collections: [values so far, height so far, anchor]
        self.stack: list[list[Any]] = []

    def see(self, event: Any) -> None:
        budget, anchors, stack = self.budget, self.anchors, self.stack
        name = type(event).__name__
        mark = event.start_mark
        if name == "ScalarEvent":
            size, height = 1, 0
            budget.add(1, mark)
            if event.anchor:
                anchors[event.anchor] = (1, 0)
        elif name == "AliasEvent":
            budget.alias(mark)
            found = anchors.get(event.anchor)
            if found is None:
                if any(frame[2] == event.anchor for frame in stack):
                    _refuse(mark, _recursive())
                return  # an undefined alias: the composer reports it
            size, height = found
            if len(stack) + 1 + height > MAX_DEPTH:
                _refuse(mark, _too_deep())
            budget.add(size, mark)
        elif name in ("MappingStartEvent", "SequenceStartEvent"):
            budget.add(1, mark)
            stack.append([1, 0, event.anchor])
            if len(stack) > MAX_DEPTH:
                _refuse(mark, _too_deep())
            return
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            if not stack:
                return
            size, height, anchor = stack.pop()
            if anchor:
                anchors[anchor] = (size, height)
        else:
            return
        if stack:
            frame = stack[-1]
            frame[0] += size
            frame[1] = max(frame[1], height + 1)
