"""Where a query's terms are in a post's text, and a snippet with those places marked (pure).

A term is found the way the index finds it: the text is folded with the matcher's
normalisation (keeping a map back to the original characters), each word compared
article-free, a phrase as consecutive words, a prefix term by its start. The snippet is the
matcher's (:func:`monitor.matching.snippet.snippet`): cut between words only, bidi balanced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from monitor.matching.normalize import ZWNJ, fold_with_map
from monitor.matching.snippet import snippet
from monitor.search.text import strip_article
from storage.search import Term

__all__ = ["Span", "find_terms", "mark", "marked_snippet"]


class Span(NamedTuple):
    start: int
    end: int


def _words(text: str, *, zwnj_as_space: bool) -> list[tuple[str, int, int]]:
    """(article-free word, start, end) in ``text`` for every normalised word."""
    folded, origin = fold_with_map(text, zwnj_as_space=zwnj_as_space)
    found: list[tuple[str, int, int]] = []
    pos = 0
    for word in folded.split(" "):
        if word:
            start, last = origin[pos], origin[pos + len(word) - 1]
            found.append((strip_article(word), start, last + 1))
        pos += len(word) + 1
    return found


def _matches(words: list[tuple[str, int, int]], term: Term) -> list[Span]:
    spans: list[Span] = []
    n = len(term.words)
    for i in range(len(words) - n + 1):
        window = words[i : i + n]
        ok = all(w[0] == t for w, t in zip(window[:-1], term.words[:-1], strict=True))
        last, want = window[-1][0], term.words[-1]
        ok = ok and (last.startswith(want) if term.prefix else last == want)
        if ok:
            spans.append(Span(window[0][1], window[-1][2]))
    return spans


def find_terms(text: str, terms: Sequence[Term]) -> list[Span]:
    """Spans of ``text`` (sorted, not overlapping) where any of ``terms`` appears."""
    variants = [_words(text, zwnj_as_space=False)]
    if ZWNJ in text:
        variants.append(_words(text, zwnj_as_space=True))
    spans = sorted({s for words in variants for t in terms for s in _matches(words, t)})
    merged: list[Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def marked_snippet(text: str, terms: Sequence[Term], *, width: int = 160) -> tuple[str, list[Span]]:
    """About ``width`` characters of ``text`` around the first place a term appears, and where
    the terms are in that snippet (to be shown marked)."""
    spans = find_terms(text, terms)
    cut = snippet(text, spans[:1], width=width)  # type: ignore[arg-type]  # needs .start/.end
    return cut, find_terms(cut, terms)


def mark(text: str, spans: Sequence[Span], *, before: str = "«", after: str = "»") -> str:
    """``text`` with each span wrapped in ``before``/``after`` (for plain-text output)."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out += [text[pos : span.start], before, text[span.start : span.end], after]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
