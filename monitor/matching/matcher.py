"""One Aho-Corasick automaton over normalised, space-padded text: whole-word, leftmost-longest."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import ahocorasick

from monitor.errors import MatchingError
from monitor.matching.aliases import RULES, AliasForm, acronym_text, alias_keys
from monitor.matching.infer import phonetic_text
from monitor.matching.normalize import ZWNJ, finish, is_ignorable, prefold, resolve_zwnj
from monitor.matching.spans import IndexMap

__all__ = ["Match", "Matcher"]

_RANK = {rule: i for i, rule in enumerate(RULES)}
#: Bump when the compiled state changes shape (a cached matcher of another format is refused).
_FORMAT = "matcher-2"
_ARTICLE_TOKEN = "al"  # an article's phonetic key: need not be capitalised


@dataclass(frozen=True, slots=True)
class Match:
    """One mention: which entity, through which alias and rule, where in the original text."""

    entity_id: str
    alias: str
    rule: str  # exact | acronym | article | hashtag | clitic | inflection | phonetic
    start: int
    end: int
    matched: str  # == text[start:end]


# A candidate before selection: original span, normalised length, the forms found there.
_Candidate = tuple[int, int, tuple[AliasForm, ...]]


class Matcher:
    """Compiled watchlist. Build with :meth:`compile`; :meth:`match` is pure and thread-safe.

    The automaton stores an int per padded key: the index into ``lengths`` (the padded key's
    length) and ``entries`` (the ``(entity_id, alias, rule)`` forms behind that key). Ints
    keep the automaton a flat C structure, so it builds fast and :meth:`dumps` and
    :meth:`loads` are quick; :class:`AliasForm` values are made only for keys that match.
    ``phonetic`` is a second automaton, of the ``phonetic`` keys, searched in a post's
    phonetic text (its indexes follow the first automaton's in the same tables).
    """

    def __init__(
        self,
        automaton: Any,
        n_aliases: int,
        lengths: Sequence[int] = (),
        entries: Sequence[tuple[tuple[str, str, str], ...]] = (),
        phonetic: Any = None,
    ) -> None:
        self._automaton = automaton
        self._phonetic = phonetic
        self._lengths = lengths
        self._entries = entries
        self._forms: dict[int, tuple[AliasForm, ...]] = {}
        self.n_aliases = n_aliases
        self.n_forms = len(entries)

    @classmethod
    def compile(cls, entities: Iterable[Any]) -> Matcher:
        """Entities need ``.id``, ``.name`` and ``.aliases``; the name counts as an alias.
        An entity whose ``.infer`` is false gets no inferred forms (see :data:`INFERRED`)."""
        by_key: dict[str, list[tuple[str, str, str]]] = {}
        by_phonetic: dict[str, list[tuple[str, str, str]]] = {}
        n_aliases = 0
        for entity in entities:
            entity_id = str(entity.id)
            infer = bool(getattr(entity, "infer", True))
            names = [entity.name, *(getattr(entity, "aliases", None) or [])]
            seen: set[str] = set()
            for alias in names:
                if not alias or alias in seen:
                    continue
                seen.add(alias)
                n_aliases += 1
                form = (entity_id, alias)
                for key, rule in alias_keys(alias, infer=infer):
                    table = by_phonetic if rule == "phonetic" else by_key
                    table.setdefault(key, []).append((*form, rule))
        if not by_key:
            return cls(None, n_aliases)
        automata = []
        index = 0
        for table in (by_key, by_phonetic):
            if not table:
                automata.append(None)
                continue
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            add_word = automaton.add_word
            for key in table:
                add_word(f" {key} ", index)
                index += 1
            automaton.make_automaton()
            automata.append(automaton)
        tables = (*by_key.items(), *by_phonetic.items())
        lengths = [len(key) + 2 for key, _ in tables]
        entries = [tuple(forms) for _, forms in tables]
        return cls(automata[0], n_aliases, lengths, entries, automata[1])

    def dumps(self) -> bytes:
        """The compiled matcher as bytes for :meth:`loads` (a cache; same library versions)."""
        return pickle.dumps(self._state(), protocol=pickle.HIGHEST_PROTOCOL)

    def dump(self, file: Any) -> None:
        """:meth:`dumps` into a binary file (or anything with ``write``), without a copy in
        memory of the whole (the automaton of 50,000 aliases is 180 MB)."""
        pickle.dump(self._state(), file, protocol=pickle.HIGHEST_PROTOCOL)

    def _state(self) -> tuple[Any, ...]:
        return (
            _FORMAT,
            self._automaton,
            self._lengths,
            self._entries,
            self.n_aliases,
            self._phonetic,
        )

    @classmethod
    def loads(cls, data: bytes | memoryview | BinaryIO) -> Matcher:
        """A matcher from :meth:`dumps` (bytes, or a binary file positioned at them);
        ``ValueError`` if they are not one."""
        try:
            if isinstance(data, bytes | memoryview):
                state = pickle.loads(data)
            else:
                state = pickle.load(data)
        except Exception as exc:  # a truncated or foreign file: any unpickling error
            raise ValueError(f"not a compiled matcher: {type(exc).__name__}") from None
        if not (isinstance(state, tuple) and len(state) == 6 and state[0] == _FORMAT):
            raise ValueError("not a compiled matcher of this version")
        _, automaton, lengths, entries, n_aliases, phonetic = state
        for value in (automaton, phonetic):
            if value is not None and not isinstance(value, ahocorasick.Automaton):
                raise ValueError("not a compiled matcher: no automaton")
        if len(lengths) != len(entries):
            raise ValueError("not a compiled matcher: tables out of step")
        return cls(automaton, n_aliases, lengths, entries, phonetic)

    def match(self, text: str) -> list[Match]:
        """Matches ordered by start, leftmost-longest, never overlapping.

        Entities that share an alias are all reported for that one span (same start and end).
        """
        if self._automaton is None or not text:
            return []
        if not isinstance(text, str):
            raise MatchingError(f"can only match text, got {type(text).__name__}")
        folded = prefold(text)
        candidates = self._candidates(text, resolve_zwnj(folded, zwnj_as_space=False))
        if ZWNJ in folded:  # ZWNJ both glues (evasion) and separates (Persian) words
            candidates += self._candidates(text, resolve_zwnj(folded, zwnj_as_space=True))
        if not candidates:
            return []
        return _select(text, candidates)

    def _forms_of(self, index: int, key: str) -> tuple[AliasForm, ...]:
        """The forms behind automaton value ``index`` (whose normalised key is ``key``)."""
        forms = self._forms.get(index)
        if forms is None:
            forms = tuple(AliasForm(key, *entry) for entry in self._entries[index])
            self._forms[index] = forms
        return forms

    def _candidates(self, text: str, folded: str) -> list[_Candidate]:
        norm = finish(folded)
        if not norm:
            return []
        hits = list(self._automaton.iter(f" {norm} "))
        out: list[_Candidate] = []
        # Phonetic matches are names, so capitalised: a post without capitals has none.
        if self._phonetic is not None and text.lower() != text:
            out = self._phonetic_candidates(text, folded, norm)
        if not hits:
            return out
        where = IndexMap(text, folded)
        if where.text != norm:  # pragma: no cover - guarded by property tests
            raise MatchingError("normalisation map out of step with normalize()")
        for end, index in hits:
            # padded[end - length + 1 .. end] is " key "; the key in ``norm`` is [s, e).
            s = end - self._lengths[index] + 1
            e = end - 1
            forms = self._forms_of(index, norm[s:e])
            start = where[s]
            stop = where[e - 1] + 1
            while stop < len(text) and is_ignorable(text[stop]) and text[stop] != ZWNJ:
                stop += 1
            out.append((start, stop, forms))
        return out

    def _phonetic_candidates(self, text: str, folded: str, norm: str) -> list[_Candidate]:
        """Matches of phonetic keys: whole words of ``norm`` whose keys are an alias's, each
        (but articles) capitalised in ``text``."""
        phonetic = f" {phonetic_text(norm)} "
        hits = list(self._phonetic.iter(phonetic))
        if not hits:
            return []
        where = IndexMap(text, folded)
        starts = [0, *(i + 1 for i, c in enumerate(norm) if c == " ")]
        ends = [i - 1 for i in starts[1:]] + [len(norm)]
        keys = phonetic[1:-1].split(" ")
        out: list[_Candidate] = []
        for end, index in hits:
            # phonetic[s] and phonetic[end] are the spaces around the key's words.
            s = end - self._lengths[index] + 1
            first = phonetic.count(" ", 0, s + 1) - 1
            last = first + phonetic.count(" ", s + 1, end)
            words = range(first, last + 1)
            if not all(
                keys[j] == _ARTICLE_TOKEN or text[where[starts[j]]].isupper() for j in words
            ):
                continue
            a, b = starts[first], ends[last]
            start = where[a]
            stop = where[b - 1] + 1
            while stop < len(text) and is_ignorable(text[stop]) and text[stop] != ZWNJ:
                stop += 1
            out.append((start, stop, self._forms_of(index, norm[a:b])))
        return out


def _select(text: str, candidates: list[_Candidate]) -> list[Match]:
    # Acronyms are case-sensitive: drop forms whose original text is not the alias verbatim.
    spans: dict[tuple[int, int], list[AliasForm]] = {}
    for start, stop, forms in candidates:
        kept = [
            f
            for f in forms
            if f.rule != "acronym" or acronym_text(text[start:stop]) == acronym_text(f.alias)
        ]
        if kept:
            spans.setdefault((start, stop), []).extend(kept)
    matches: list[Match] = []
    last_stop = -1
    for (start, stop), found in sorted(spans.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        if start < last_stop:
            continue
        last_stop = stop
        best: dict[str, AliasForm] = {}
        for f in found:
            current = best.get(f.entity_id)
            if current is None or _RANK[f.rule] < _RANK[current.rule]:
                best[f.entity_id] = f
        matched = text[start:stop]
        for f in best.values():
            rule = f.rule
            if rule == "exact" and ("_" in matched or (start and text[start - 1] == "#")):
                rule = "hashtag"
            matches.append(Match(f.entity_id, f.alias, rule, start, stop, matched))
    return matches
