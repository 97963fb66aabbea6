"""A short window of text around the first match, cut only between words (safe for RTL text)."""

from __future__ import annotations

from monitor.matching.matcher import Match

__all__ = ["snippet"]

ELLIPSIS = "…"
# Bidi embeddings/overrides (closed by PDF) and isolates (closed by PDI).
_EMBED_OPEN = frozenset("\u202a\u202b\u202d\u202e")
_PDF = "\u202c"
_ISOLATE_OPEN = frozenset("\u2066\u2067\u2068")
_PDI = "\u2069"


def _balance_bidi(text: str) -> str:
    """Drop unmatched closers and close unmatched openers, so a cut never leaks direction."""
    out: list[str] = []
    stack: list[str] = []
    for c in text:
        if c in _EMBED_OPEN or c in _ISOLATE_OPEN:
            stack.append(c)
        elif c in (_PDF, _PDI):
            want = _PDF if c == _PDF else _PDI
            opener_ok = bool(stack) and ((stack[-1] in _EMBED_OPEN) == (want == _PDF))
            if not opener_ok:
                continue
            stack.pop()
        out.append(c)
    for opener in reversed(stack):
        out.append(_PDF if opener in _EMBED_OPEN else _PDI)
    return "".join(out)


def snippet(text: str, matches: list[Match], *, width: int = 160) -> str:
    """About ``width`` characters around the first match, whitespace-collapsed.

    The window grows to whole words (never cuts a word, its marks or a ZWNJ-joined compound),
    ``…`` marks a cut, and unbalanced bidi controls are closed.
    """
    if not text:
        return ""
    if matches:
        first = min(matches, key=lambda m: m.start)
        start, end = first.start, first.end
    else:
        start, end = 0, 0
    room = max(width - (end - start), 0)
    lo = max(start - room // 2, 0)
    hi = min(end + (room - (start - lo)), len(text))
    lo = max(min(lo, hi - width), 0)
    # Move the cut points outwards to the nearest whitespace so no word is split.
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    body = " ".join(text[lo:hi].split())
    body = _balance_bidi(body)
    prefix = ELLIPSIS if lo > 0 else ""
    suffix = ELLIPSIS if hi < len(text) else ""
    return f"{prefix}{body}{suffix}"
