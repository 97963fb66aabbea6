"""Alias expansion: every normalised form an alias may take in a post, and the rule behind it.

Rules (names appear in every match so the desk can see *why* something matched):

- ``exact``: the normalised alias itself (case, diacritics, letter variants already folded);
- ``article``: a Latin alias with its Arabic article (al-, el-) missing or glued on;
- ``hashtag``: a multi-word alias written as one word (``#QaisAlKhazali``);
- ``clitic``: an Arabic-script alias with a proclitic (و ف ب ل ك, or a pair) glued to its first
  word; only for multi-word aliases or single words of at least ``MIN_CLITIC_WORD`` letters, so
  that قيس never fires inside قيسون;
- ``acronym``: an alias in capitals of at most five letters; matches only case-sensitively.

Inferred forms (issue 16; off for an entity with ``infer: false``), see
:mod:`monitor.matching.infer`: ``article`` also names the Persian forms of an Arabic-script
alias (article dropped, ة as ت, ezafe), ``inflection`` the Russian case endings of a Cyrillic
alias, ``phonetic`` the transliteration variants of a Latin alias (keys of another automaton).
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from monitor.matching.infer import (
    arabic_script_forms,
    cyrillic_forms,
    is_cyrillic,
    phonetic_forms,
)
from monitor.matching.normalize import is_ignorable, normalize

__all__ = [
    "INFERRED",
    "RULES",
    "AliasForm",
    "alias_keys",
    "expand_alias",
    "is_acronym",
    "is_arabic_script",
]

#: Rules in order of preference when one normalised form arises in several ways.
RULES = ("exact", "acronym", "article", "hashtag", "clitic", "inflection", "phonetic")
#: Rules of inferred forms (``infer: false`` turns them off; ``article`` only for Arabic script).
INFERRED = ("article", "inflection", "phonetic")

MIN_CLITIC_WORD = 5
MAX_ACRONYM = 5
_ARTICLES = frozenset({"al", "el"})
_MAX_ARTICLES = 3
# Single proclitics and pairs, already in normalised letters.
_PROCLITICS = ("و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك")
_PROCLITIC_SET = frozenset(_PROCLITICS)
#: Proclitics that end in ل: glued to ال they absorb its alef (ل + الخزعلي = للخزعلي).
LAM_PROCLITICS = frozenset(p for p in _PROCLITICS if p.endswith("ل"))
_DEFINITE = "ال"


@dataclass(frozen=True, slots=True)
class AliasForm:
    """One searchable form of an alias: the normalised ``key`` and how it was derived."""

    key: str
    entity_id: str
    alias: str
    rule: str


def is_arabic_script(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" for c in text)


def is_acronym(alias: str) -> bool:
    """``AAH``, ``PMF``, ``IRGC``: one word of 2-5 capital letters."""
    letters = "".join(c for c in alias.strip() if not is_ignorable(c))
    return 2 <= len(letters) <= MAX_ACRONYM and letters.isalpha() and letters.isupper()


def acronym_text(text: str) -> str:
    """The text an acronym is compared against: ignorable characters dropped, NFKC."""
    return unicodedata.normalize("NFKC", "".join(c for c in text if not is_ignorable(c)))


def _article_variants(key: str) -> list[str]:
    """``al khazali`` -> ``alkhazali``, ``khazali`` (the original spacing is ``exact``)."""
    words = key.split(" ")
    slots = [i for i, w in enumerate(words[:-1]) if w in _ARTICLES][:_MAX_ARTICLES]
    if not slots:
        return []
    variants = []
    for choice in itertools.product(("keep", "glue", "drop"), repeat=len(slots)):
        if all(c == "keep" for c in choice):
            continue
        out: list[str] = []
        glue_next = False
        for i, w in enumerate(words):
            action = choice[slots.index(i)] if i in slots else None
            if action == "drop":
                continue
            if glue_next:
                out[-1] += w
                glue_next = False
            else:
                out.append(w)
            if action == "glue":
                glue_next = True
        variant = " ".join(out)
        if len(out) >= 2 or len(variant) >= MIN_CLITIC_WORD:
            variants.append(variant)
    return variants


def takes_proclitics(key: str) -> bool:
    """Whether a normalised Arabic-script form may have a proclitic glued to it."""
    return " " in key or len(key) >= MIN_CLITIC_WORD


def proclitic_fits(proclitic: str, key: str) -> bool:
    """Whether ``proclitic`` glued to ``key`` is how Arabic writes it (ل + ال is لل, so
    a ل proclitic never precedes an ال written in full)."""
    return proclitic in _PROCLITIC_SET and not (
        proclitic.endswith("ل") and key.startswith(_DEFINITE)
    )


def _clitic_variants(key: str) -> list[str]:
    words = key.split(" ")
    first = words[0]
    if not takes_proclitics(key):
        return []
    rest = words[1:]
    out = []
    for p in _PROCLITICS:
        if p.endswith("ل") and first.startswith(_DEFINITE):
            glued = p + first[1:]  # ل + الخزعلي is written للخزعلي
        else:
            glued = p + first
        out.append(" ".join([glued, *rest]))
    return out


def expand_alias(entity_id: str, alias: str, *, infer: bool = True) -> list[AliasForm]:
    """All forms of ``alias``; an empty list when nothing word-like remains."""
    return [AliasForm(k, entity_id, alias, rule) for k, rule in alias_keys(alias, infer=infer)]


def alias_keys(alias: str, *, infer: bool = True) -> list[tuple[str, str]]:
    """``(key, rule)`` for every form of ``alias``: :func:`expand_alias` without the objects.

    A ``phonetic`` key is in the words of :func:`monitor.matching.infer.phonetic_text`, to be
    searched in a post's phonetic text; every other key in normalised text.
    """
    key = normalize(alias)
    if not key:
        return []
    if is_acronym(alias):
        return [(key, "acronym")]
    # An alias written with a ZWNJ (خامنه‌ای) is also written with a space or nothing.
    keys = [key]
    spaced = normalize(alias, zwnj_as_space=True)
    if spaced != key:
        keys.append(spaced)
    forms: dict[str, str] = dict.fromkeys(keys, "exact")

    def add(k: str, rule: str) -> None:
        if k and k not in forms:
            forms[k] = rule

    phonetic: dict[str, None] = {}
    for n, base in enumerate(keys):
        if is_arabic_script(base):
            for v in _clitic_variants(base):
                add(v, "clitic")
            if " " in base:
                add(base.replace(" ", ""), "hashtag")
            if infer:
                ta = normalize(alias.replace("\u0629", "\u062a"), zwnj_as_space=n > 0)
                for v in arabic_script_forms(base, ta):
                    add(v, "article")
        else:
            article = _article_variants(base)
            for v in article:
                add(v, "article")
            for v in [base, *article]:
                if " " in v:
                    add(v.replace(" ", ""), "hashtag")
            if infer and is_cyrillic(base):
                for v in cyrillic_forms(base):
                    add(v, "inflection")
            elif infer:
                phonetic.update(dict.fromkeys(phonetic_forms([base, *article])))
    return [*forms.items(), *((k, "phonetic") for k in phonetic)]
