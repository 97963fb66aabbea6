"""The search query language, parsed into normalised terms (pure: no I/O).

- ``word word``: every word must appear (in any version of the post);
- ``"exact phrase"``: these words next to each other, in this order;
- ``-word`` / ``-"a phrase"``: versions saying it are left out;
- ``a OR b``: either (binds tighter than the implicit AND: ``a OR b c`` is ``(a OR b) c``);
- ``khaz*``: a word that starts so (on a phrase: its last word).

Each word goes through :func:`monitor.search.text.search_words`, so a spelling in any script
variant, case or with diacritics finds the others; a word that folds to several (``al-Khazali``)
is a phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import MonitorError
from monitor.search.text import search_words
from storage.search import Term, TextQuery

__all__ = ["ParsedQuery", "QueryError", "parse_query"]


class QueryError(MonitorError):
    """A search query cannot be understood."""

    exit_code = 2


# A token: optional "-", then a quoted phrase (maybe unterminated) or a bare word; optional "*".
_TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)("?)|([^\s"]+))')


@dataclass(frozen=True, slots=True)
class _Item:
    negative: bool
    raw: str
    term: Term | None  # None: the text folds to no words at all
    is_or: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A parsed query: ``text_query`` for :func:`storage.search.search_posts`, and the terms to
    mark in snippets."""

    source: str
    text_query: TextQuery

    @property
    def marked_terms(self) -> tuple[Term, ...]:
        return tuple(t for group in self.text_query.groups for t in group)


def _term(raw: str, *, prefix: bool) -> Term | None:
    words = search_words(raw)
    return Term(tuple(words), prefix=prefix) if words else None


def _tokens(source: str) -> list[_Item]:
    items: list[_Item] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if m is None:  # pragma: no cover - the pattern matches any non-blank rest
            raise QueryError(f"cannot read the query from character {pos + 1}")
        negative, phrase, closed, word = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        pos = m.end()
        if phrase is not None:
            if not closed:
                raise QueryError(
                    f"unterminated phrase in {source!r}: a '\"' opened at character "
                    f"{m.start(2)} is never closed",
                    hint='close the phrase: "exact words"',
                )
            prefix = source.startswith("*", pos)
            pos += 1 if prefix else 0
            raw = phrase
        else:
            if word == "OR" and not negative:
                items.append(_Item(False, "OR", None, is_or=True))
                continue
            prefix = word.endswith("*")
            raw = word.rstrip("*")
            if negative and not raw:
                raise QueryError(f"'{m.group(0).strip()}' in {source!r} has no word after '-'")
        items.append(_Item(negative, raw, _term(raw, prefix=prefix)))
    return items


def parse_query(source: str) -> ParsedQuery:
    """Parse what a person typed; :class:`QueryError` says what is wrong and where."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for item in _tokens(source):
        if item.is_or:
            if not groups or pending_or:
                raise QueryError(
                    f"OR in {source!r} needs a word on each side", hint="write: word1 OR word2"
                )
            pending_or = True
            continue
        if item.term is None:  # punctuation only: nothing to look for
            if pending_or:
                raise QueryError(f"OR in {source!r} is followed by {item.raw!r}, not a word")
            continue
        if item.negative:
            if pending_or:
                raise QueryError(
                    f"OR in {source!r} cannot join an excluded word (-{item.raw})",
                    hint="put the excluded word outside the OR: a OR b -c",
                )
            excluded.append(item.term)
        elif pending_or:
            groups[-1].append(item.term)
            pending_or = False
        else:
            groups.append([item.term])
    if pending_or:
        raise QueryError(f"OR at the end of {source!r} needs a word after it")
    if not groups:
        raise QueryError(
            f"the query {source!r} has no word to look for"
            + (" (only excluded words)" if excluded else ""),
            hint='search for words, a "phrase", or word* (an excluded -word only narrows)',
        )
    return ParsedQuery(
        source=source,
        text_query=TextQuery(tuple(tuple(g) for g in groups), tuple(excluded)),
    )
