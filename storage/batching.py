"""Splitting id lists so ``IN (...)`` stays within every backend's parameter limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

__all__ = ["CHUNK", "chunked", "id_runs"]

CHUNK = 500
SPAN = 4 * CHUNK  # widest range of ids one run covers
T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def id_runs(ids: Iterable[int], size: int = CHUNK, span: int = SPAN) -> Iterator[list[int]]:
    """``ids`` sorted, in runs of at most ``size`` ids whose values lie within ``span`` of the
    run's first: a run can be looked up as ``id BETWEEN first AND last AND id IN (...)``,
    reading at most ``span`` index entries (a first pass's batch is one run)."""
    run: list[int] = []
    for value in sorted(set(ids)):
        if run and (len(run) == size or value - run[0] >= span):
            yield run
            run = []
        run.append(value)
    if run:
        yield run
