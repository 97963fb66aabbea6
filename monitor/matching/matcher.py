"""One Aho-Corasick automaton over normalised, space-padded text: whole-word, leftmost-longest."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, BinaryIO

import ahocorasick

from monitor.errors import MatchingError
from monitor.matching.aliases import (
    _DEFINITE,
    LAM_PROCLITICS,
    RULES,
    AliasForm,
    acronym_text,
    alias_keys,
    is_arabic_script,
    proclitic_fits,
    takes_proclitics,
)
from monitor.matching.infer import key_of
from monitor.matching.normalize import ZWNJ, finish, is_ignorable, prefold, resolve_zwnj
from monitor.matching.spans import IndexMap

__all__ = ["Match", "Matcher"]

_RANK = {rule: i for i, rule in enumerate(RULES)}
#: Bump when the compiled state changes shape (a cached matcher of another format is refused).
_FORMAT = "matcher-3"
_LAM = "lam"  # internal: a form with ال stored without its alef, valid only after a ل proclitic
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

    The automaton stores an int per key: the index into ``lengths`` and ``entries`` (the
    ``(entity_id, alias, rule)`` forms behind that key). Ints keep the automaton a flat C
    structure, so it builds fast and :meth:`dumps` and :meth:`loads` are quick;
    :class:`AliasForm` values are made only for keys that match.

    A key is stored padded, `` key `` (whole words), with ``lengths`` holding its length; or,
    for an Arabic-script alias that takes proclitics, as ``key `` with the length negated: a
    hit is then a whole word, or has a proclitic glued in front, checked where it matched
    (instead of eleven more keys per alias: a third of the automaton). A form with ال is also
    stored without its alef, for ل + ال = لل (rule ``_LAM``, valid only after a ل proclitic).
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
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        self._automaton = automaton
        self._phonetic = phonetic
        self._vocabulary = vocabulary  # the words of phonetic keys, but articles
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
                for key, rule in alias_keys(alias, infer=infer):
                    entry = (entity_id, alias, rule)
                    if rule == "clitic":
                        continue  # checked where the form it is glued to matches (below)
                    if rule == "phonetic":
                        by_phonetic.setdefault(f" {key} ", []).append(entry)
                    elif rule == "exact" and is_arabic_script(key) and takes_proclitics(key):
                        by_key.setdefault(f"{key} ", []).append(entry)
                        if key.startswith(_DEFINITE):
                            by_key.setdefault(f"{key[1:]} ", []).append((entity_id, alias, _LAM))
                    else:
                        by_key.setdefault(f" {key} ", []).append(entry)
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
            for stored in table:
                add_word(stored, index)
                index += 1
            automaton.make_automaton()
            automata.append(automaton)
        tables = (*by_key.items(), *by_phonetic.items())
        lengths = [len(w) if w[0] == " " else -len(w) - 1 for w, _ in tables]
        entries = [tuple(forms) for _, forms in tables]
        vocabulary = frozenset(
            word for key in by_phonetic for word in key.split() if word != _ARTICLE_TOKEN
        )
        return cls(automata[0], n_aliases, lengths, entries, automata[1], vocabulary)

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
            self._vocabulary,
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
        if not (isinstance(state, tuple) and len(state) == 7 and state[0] == _FORMAT):
            raise ValueError("not a compiled matcher of this version")
        _, automaton, lengths, entries, n_aliases, phonetic, vocabulary = state
        for value in (automaton, phonetic):
            if value is not None and not isinstance(value, ahocorasick.Automaton):
                raise ValueError("not a compiled matcher: no automaton")
        if len(lengths) != len(entries):
            raise ValueError("not a compiled matcher: tables out of step")
        if not isinstance(vocabulary, frozenset):
            raise ValueError("not a compiled matcher: no phonetic vocabulary")
        return cls(automaton, n_aliases, lengths, entries, phonetic, vocabulary)

    def match(self, text: str) -> list[Match]:
        """Matches ordered by start, leftmost-longest, never overlapping.

        Entities that share an alias are all reported for that one span (same start and end).
        """
        if self._automaton is None or not text:
            return []
        if not isinstance(text, str):
            raise MatchingError(f"can only match text, got {type(text).__name__}")
        folded = prefold(text)
        # Phonetic matches are names, so capitalised: a post without capitals has none.
        names = self._phonetic is not None and text.lower() != text
        candidates = self._candidates(text, resolve_zwnj(folded, zwnj_as_space=False), names)
        if ZWNJ in folded:  # ZWNJ both glues (evasion) and separates (Persian) words
            candidates += self._candidates(text, resolve_zwnj(folded, zwnj_as_space=True), False)
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

    def _candidates(self, text: str, folded: str, names: bool) -> list[_Candidate]:
        """Candidates in ``folded`` (ZWNJ resolved); with ``names``, phonetic ones too."""
        norm = finish(folded)
        if not norm:
            return []
        hits = list(self._automaton.iter(f" {norm} "))
        phonetic = ""
        phonetic_hits: list[tuple[int, int]] = []
        if names:
            keys = list(map(key_of, norm.split(" ")))
            # No word of a phonetic key in the post: no key can match, skip the search.
            if not self._vocabulary.isdisjoint(keys):
                phonetic = f" {' '.join(keys)} "
                phonetic_hits = list(self._phonetic.iter(phonetic))
        if not hits and not phonetic_hits:
            return []
        where = _LazyIndexMap(text, folded, norm)  # built only if something matched
        out: list[_Candidate] = []
        found: dict[tuple[int, int], set[str]] = {}  # (first, last word): entities found
        for end, index in hits:
            # " key " ends at ``end`` of the padded text: the key in ``norm`` is [s, e).
            length = self._lengths[index]
            e = end - 1
            if length > 0:
                s = end - length + 1
                forms = self._forms_of(index, norm[s:e])
            else:
                s = end + length + 1
                s, forms = self._glued(index, norm, s, e)
                if not forms:
                    continue
            out.append(self._span(text, where, s, e, forms))
            if phonetic_hits:
                first = norm.count(" ", 0, s)
                words = (first, first + norm.count(" ", s, e))
                found.setdefault(words, set()).update(f.entity_id for f in forms)
        if phonetic_hits:
            out += self._phonetic_candidates(text, where, norm, phonetic, phonetic_hits, found)
        return out

    def _glued(self, index: int, norm: str, s: int, e: int) -> tuple[int, tuple[AliasForm, ...]]:
        """The forms of a key that may take a proclitic, found at ``norm[s:e]``: as a whole
        word, or (rule ``clitic``, from the word's start) after a proclitic that fits."""
        forms = self._forms_of(index, norm[s:e])
        if s == 0 or norm[s - 1] == " ":
            return s, tuple(f for f in forms if f.rule != _LAM)
        word = norm.rfind(" ", 0, s) + 1
        proclitic = norm[word:s]
        glued = tuple(
            AliasForm(norm[word:e], f.entity_id, f.alias, "clitic")
            for f in forms
            if (proclitic in LAM_PROCLITICS if f.rule == _LAM else proclitic_fits(proclitic, f.key))
        )
        return word, glued

    @staticmethod
    def _span(
        text: str, where: _LazyIndexMap, s: int, e: int, forms: tuple[AliasForm, ...]
    ) -> _Candidate:
        """``norm[s:e]`` as a span of the original text (with the marks after its end)."""
        start = where[s]
        stop = where[e - 1] + 1
        while stop < len(text) and is_ignorable(text[stop]) and text[stop] != ZWNJ:
            stop += 1
        return start, stop, forms

    def _phonetic_candidates(
        self,
        text: str,
        where: _LazyIndexMap,
        norm: str,
        phonetic: str,
        hits: list[tuple[int, int]],
        found: dict[tuple[int, int], set[str]],
    ) -> list[_Candidate]:
        """Matches of phonetic keys: whole words of ``norm`` whose keys are an alias's, each
        (but articles) capitalised in ``text``; none where every entity of the key already
        matched the same words (``found``: an alias written as listed has its own key)."""
        keys: list[str] = []
        starts: list[int] = []
        out: list[_Candidate] = []
        for end, index in hits:
            # phonetic[s] and phonetic[end] are the spaces around the key's words.
            s = end - self._lengths[index] + 1
            first = phonetic.count(" ", 0, s + 1) - 1
            last = first + phonetic.count(" ", s + 1, end)
            already = found.get((first, last))
            if already and all(entity in already for entity, _, _ in self._entries[index]):
                continue
            if not keys:
                keys = phonetic[1:-1].split(" ")
                starts = [0, *accumulate(len(w) + 1 for w in norm.split(" "))]
            a, b = starts[first], starts[last + 1] - 1
            if not all(
                keys[j] == _ARTICLE_TOKEN or text[where[starts[j]]].isupper()
                for j in range(first, last + 1)
            ):
                continue
            out.append(self._span(text, where, a, b, self._forms_of(index, norm[a:b])))
        return out


class _LazyIndexMap:
    """An :class:`IndexMap` made on first lookup (a hit rejected before needs none)."""

    __slots__ = ("_args", "_map")

    def __init__(self, text: str, folded: str, norm: str) -> None:
        self._args = (text, folded, norm)
        self._map: IndexMap | None = None

    def __getitem__(self, i: int) -> int:
        if self._map is None:
            text, folded, norm = self._args
            self._map = IndexMap(text, folded)
            if self._map.text != norm:  # pragma: no cover - guarded by property tests
                raise MatchingError("normalisation map out of step with normalize()")
        return self._map[i]


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
