"""Map indexes of normalised text back to the original text, cheaply.

Normalisation keeps one character per input character except where it drops a character
(held as NUL), deletes an apostrophe, collapses a run of spaces, or (rarely) expands a
character (ß, ligatures). An :class:`IndexMap` records only those breakpoints, so building it
costs a couple of regex scans and each lookup is a binary search; ``fold_with_map`` is the
simple per-character reference it is tested against.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from monitor.matching.normalize import _HELD_TABLE

__all__ = ["IndexMap"]

_DELETED = re.compile("[\x00']+")
_EXTRA_SPACES = re.compile("^ +| {2,}")


def _breakpoints(
    s: str, pattern: re.Pattern[str], keep_first: bool
) -> tuple[str, list[int], list[int]]:
    """Delete ``pattern`` runs from ``s``; return the result and (position, shift) breakpoints:
    an index ``i >= position`` of the result is index ``i + shift`` of ``s``."""
    keys: list[int] = []
    shifts: list[int] = []
    deleted = 0
    for m in pattern.finditer(s):
        a, b = m.span()
        if keep_first and a > 0:
            a += 1  # a run of spaces between words keeps one space
        deleted += b - a
        keys.append(b - deleted)
        shifts.append(deleted)
    if not keys:
        return s, keys, shifts
    return pattern.sub(lambda m: " " if keep_first and m.start() > 0 else "", s), keys, shifts


class IndexMap:
    """Built from the original text and its prefolded form (ZWNJ already resolved)."""

    __slots__ = ("_keys1", "_keys2", "_shifts1", "_shifts2", "_where", "text")

    def __init__(self, text: str, prefolded: str) -> None:
        self._where: list[int] | None = None
        if len(prefolded) != len(text):
            table = _HELD_TABLE
            self._where = [i for i, ch in enumerate(text) for _ in range(len(table[ord(ch)]))]
        # Most texts have nothing to delete and no run of spaces: looking for a character or
        # two is far cheaper than a regex scan that finds nothing.
        s1, self._keys1, self._shifts1 = (
            _breakpoints(prefolded, _DELETED, keep_first=False)
            if "\x00" in prefolded or "'" in prefolded
            else (prefolded, [], [])
        )
        s2, self._keys2, self._shifts2 = (
            _breakpoints(s1, _EXTRA_SPACES, keep_first=True)
            if "  " in s1 or s1.startswith(" ")
            else (s1, [], [])
        )
        self.text = s2.rstrip(" ")  # == finish(prefolded)

    def __getitem__(self, i: int) -> int:
        """The original index of character ``i`` of the normalised text (a non-space one)."""
        k = bisect_right(self._keys2, i)
        if k:
            i += self._shifts2[k - 1]
        k = bisect_right(self._keys1, i)
        if k:
            i += self._shifts1[k - 1]
        return self._where[i] if self._where is not None else i
