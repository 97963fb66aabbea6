"""One Aho-Corasick automaton over normalised, space-padded text: whole-word, leftmost-longest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick

from monitor.errors import MatchingError
from monitor.matching.aliases import RULES, AliasForm, acronym_text, expand_alias
from monitor.matching.normalize import ZWNJ, finish, is_ignorable, prefold, resolve_zwnj
from monitor.matching.spans import IndexMap

__all__ = ["Match", "Matcher"]

_RANK = {rule: i for i, rule in enumerate(RULES)}


@dataclass(frozen=True, slots=True)
class Match:
    """One mention: which entity, through which alias and rule, where in the original text."""

    entity_id: str
    alias: str
    rule: str  # exact | article | clitic | hashtag | acronym
    start: int
    end: int
    matched: str  # == text[start:end]


# A candidate before selection: original span, normalised length, the forms found there.
_Candidate = tuple[int, int, tuple[AliasForm, ...]]


class Matcher:
    """Compiled watchlist. Build with :meth:`compile`; :meth:`match` is pure and thread-safe."""

    def __init__(self, automaton: Any, n_aliases: int, n_forms: int) -> None:
        self._automaton = automaton
        self.n_aliases = n_aliases
        self.n_forms = n_forms

    @classmethod
    def compile(cls, entities: Iterable[Any]) -> Matcher:
        """Entities need ``.id``, ``.name`` and ``.aliases``; the name counts as an alias."""
        by_key: dict[str, list[AliasForm]] = {}
        n_aliases = 0
        for entity in entities:
            entity_id = str(entity.id)
            names = [entity.name, *(getattr(entity, "aliases", None) or [])]
            seen: set[str] = set()
            for alias in names:
                if not alias or alias in seen:
                    continue
                seen.add(alias)
                n_aliases += 1
                for form in expand_alias(entity_id, alias):
                    by_key.setdefault(form.key, []).append(form)
        automaton = ahocorasick.Automaton()
        for key, forms in by_key.items():
            padded = f" {key} "
            automaton.add_word(padded, (len(padded), tuple(forms)))
        if by_key:
            automaton.make_automaton()
        return cls(automaton if by_key else None, n_aliases, len(by_key))

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

    def _candidates(self, text: str, folded: str) -> list[_Candidate]:
        norm = finish(folded)
        if not norm:
            return []
        hits = list(self._automaton.iter(f" {norm} "))
        if not hits:
            return []
        where = IndexMap(text, folded)
        if where.text != norm:  # pragma: no cover - guarded by property tests
            raise MatchingError("normalisation map out of step with normalize()")
        out: list[_Candidate] = []
        for end, (length, forms) in hits:
            # padded[end - length + 1 .. end] is " key "; the key in ``norm`` is [s, e).
            s = end - length + 1
            e = end - 1
            start = where[s]
            stop = where[e - 1] + 1
            while stop < len(text) and is_ignorable(text[stop]) and text[stop] != ZWNJ:
                stop += 1
            out.append((start, stop, forms))
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
