"""Pure helpers of the post page: highlighted spans, a word diff, a small SVG chart.

Data in, plain values out; the templates escape every piece of text they print.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Bar", "Chart", "bar_chart", "highlight", "metric_chart", "word_diff"]

_WORDS = re.compile(r"\s+|\w+|[^\w\s]")  # spaces, words, each other sign


def highlight(text: str, spans: Iterable[dict[str, Any]]) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, matched)`` segments; overlapping spans merge, spans that do not
    fit the text (an edit moved it) are ignored."""
    ranges = sorted(
        (int(s["start"]), int(s["end"]))
        for s in spans
        if 0 <= int(s["start"]) < int(s["end"]) <= len(text)
    )
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in merged:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text) or not pieces:
        pieces.append((text[at:], False))
    return pieces


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``(op, text)`` segments turning ``before`` into ``after`` word by word; ``op`` is
    ``"same"``, ``"del"`` or ``"ins"`` (whitespace kept, so the pieces join back)."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("same", "".join(old[a1:a2])))
            continue
        if a2 > a1:
            out.append(("del", "".join(old[a1:a2])))
        if b2 > b1:
            out.append(("ins", "".join(new[b1:b2])))
    return out


@dataclass(frozen=True)
class Chart:
    """An inline SVG line chart: ``lines`` maps a series name to its polyline points."""

    width: int
    height: int
    lines: dict[str, str]
    maxima: dict[str, int]
    first: datetime
    last: datetime
    observations: int


def metric_chart(
    metrics: Sequence[dict[str, Any]],
    series: Sequence[str] = ("views", "forwards"),
    *,
    width: int = 320,
    height: int = 80,
) -> Chart | None:
    """Each series over capture time, scaled to the box (each series to its own maximum); None
    with fewer than two observations."""
    points = [m for m in metrics if m.get("captured_at") is not None]
    if len(points) < 2:
        return None
    start, end = points[0]["captured_at"], points[-1]["captured_at"]
    span = (end - start).total_seconds() or 1.0
    lines: dict[str, str] = {}
    maxima: dict[str, int] = {}
    pad = 4
    for name in series:
        values: list[tuple[datetime, int]] = [
            (m["captured_at"], int(m[name])) for m in points if m.get(name) is not None
        ]
        if not values:
            continue
        top = max(v for _, v in values) or 1
        maxima[name] = int(top)
        lines[name] = " ".join(
            f"{pad + (at - start).total_seconds() / span * (width - 2 * pad):.1f},"
            f"{height - pad - v / top * (height - 2 * pad):.1f}"
            for at, v in values
        )
    return Chart(width, height, lines, maxima, start, end, len(points))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def bar_chart(
    counts: Sequence[tuple[Any, int]], *, width: int = 320, height: int = 60
) -> list[Bar]:
    """One bar per ``(label, value)``, left to right, scaled to the largest value (a sparkline
    when small); an empty list when there is nothing to draw."""
    if not counts:
        return []
    top = max(value for _, value in counts) or 1
    step = width / len(counts)
    bars = []
    for index, (label, value) in enumerate(counts):
        tall = value / top * (height - 2)
        bars.append(
            Bar(
                round(index * step, 2),
                round(height - tall, 2),
                round(max(step - 1, 1), 2),
                round(tall, 2),
                str(label),
                int(value),
            )
        )
    return bars
