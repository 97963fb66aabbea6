"""Inferred spellings: forms of an alias that analysts do not list (issue 16).

Three families, each reported under its own rule so the desk can see why a post was flagged:

- ``article`` (Arabic script): Persian and Kurdish write Arabic names without the article and
  with an ezafe: ``حسن الهاشمي`` as ``حسن هاشمی``, ``جماعة أنصار الدين`` as ``جماعت انصار دین``,
  ``جبهة النصرة`` as ``جبهه‌ی نصرت``, ``حسن نصر الله`` as ``حسن نصرالله``. Only for aliases of two or more words, so a bare surname
  never matches, and an article is dropped only if at least :data:`MIN_STEM` letters remain
  (``الله`` keeps its article);
- ``inflection`` (Cyrillic): Russian case endings from a small table, all inflected words of a
  form in the same case (``с Хасаном аль-Хашими``, ``Ансар ад-Дина``), whole words only;
- ``phonetic`` (Latin): a key per word built for Arabic names written in Latin letters (doubled
  letters single, ``q`` -> ``k``, ``ay``/``ei`` -> ``ai``, ``ou``/``o`` -> ``u``, ``ee``/``e``
  -> ``i``, ``sh``/``th``/``dh``/``kh``/``gh`` kept as digraphs, an assimilated article
  ``ad-``/``ar-``/``ash-`` read as ``al-``), so ``Hassan al-Hashemi`` matches ``Hasan
  al-Hashimi``. Vowels are folded, not dropped, so that ``Hussein`` never matches ``Hasan``. Only for aliases of two or
  more words or of one word of at least :data:`MIN_PHONETIC_WORD` letters, and a post's words
  must be capitalised where the match is (a name, not an ordinary word: ``basher`` never
  matches ``Bashir``), which :class:`~monitor.matching.Matcher` checks.

Everything here is pure and works on text already normalised by
:func:`monitor.matching.normalize.normalize`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

__all__ = [
    "MIN_PHONETIC_WORD",
    "MIN_STEM",
    "arabic_script_forms",
    "cyrillic_forms",
    "key_of",
    "phonetic_forms",
    "phonetic_text",
    "phonetic_word",
    "phonetic_words",
]

#: Letters an Arabic-script word keeps after its article is dropped (الله -> له is refused).
MIN_STEM = 3
#: A one-word Latin alias is matched phonetically only from this many letters on.
MIN_PHONETIC_WORD = 6
#: A one-word Cyrillic alias is inflected only from this many letters on.
MIN_INFLECTED_WORD = 5
#: At most this many forms per family and alias (a long alias cannot blow up the automaton).
MAX_FORMS = 256

_DEFINITE = "ال"
# Letters after which Persian writes the ezafe as a glued ی (after a consonant it is a kasra,
# which normalisation drops anyway); ی is ي once normalised.
_EZAFE_AFTER = ("ا", "و", "ه")
_EZAFE = "ي"
_ALLAH = "الله"


def _product(options: list[list[str]]) -> list[str]:
    """Every way of choosing one option per word, the unchanged choice (first) left out."""
    out = []
    for choice in itertools.islice(itertools.product(*options), 1, MAX_FORMS + 1):
        out.append(" ".join(choice))
    return out


def arabic_script_forms(key: str, ta_key: str | None = None) -> list[str]:
    """Persian forms of a normalised Arabic-script alias of two or more words.

    ``ta_key`` is the same alias normalised with ة written ت (Persian جماعت for جماعة): the
    normaliser folds ة to ه, so the caller passes the other reading word for word.
    """
    words = key.split(" ")
    if len(words) < 2:
        return []
    ta_words = ta_key.split(" ") if ta_key else words
    if len(ta_words) != len(words):
        ta_words = words
    options: list[list[str]] = []
    for i, (word, ta_word) in enumerate(zip(words, ta_words, strict=True)):
        spellings = [word]
        if ta_word != word:
            spellings.append(ta_word)
        if word.startswith(_DEFINITE) and len(word) - len(_DEFINITE) >= MIN_STEM:
            spellings += [w[len(_DEFINITE) :] for w in spellings]
        if i < len(words) - 1:  # the ezafe links a word to the next one
            spellings += [w + _EZAFE for w in spellings if w.endswith(_EZAFE_AFTER)]
        options.append(spellings)
    forms = _product(options)
    # Persian glues الله to the word before it (نصرالله, روح‌الله): also in inferred forms.
    glued = [f.replace(" " + _ALLAH, _ALLAH) for f in [key, *forms] if " " + _ALLAH in f]
    return list(dict.fromkeys(forms + [g for g in glued if " " in g]))[:MAX_FORMS]


# --- Russian inflection ----------------------------------------------------------------------

#: Words of a Cyrillic alias that are never inflected: Arabic articles and name particles.
_PARTICLES = frozenset(
    "аль ал ад ан ар ас аш ат аз эль эд эн эр эс эш эт эз уль ун ур ус уш "
    "ибн бин бен абу абд абу бану бинт умм".split()
)
_CASES = ("gen", "dat", "acc", "ins", "prep", "pl")
# (ending of the dictionary form, minimum word length, {case: endings replacing it}).
# Checked in order; the first that fits decides. Words ending in и, у, ю, е, э (Хашими, Абу)
# are not inflected: foreign names ending in a vowel do not decline in Russian. Written with й,
# folded below.
_ENDINGS: tuple[tuple[str, int, dict[str, tuple[str, ...]]], ...] = (
    # adjectives: Исламское государство -> Исламского государства
    ("ый", 5, {"gen": ("ого",), "dat": ("ому",), "ins": ("ым",), "prep": ("ом",)}),
    ("ий", 5, {"gen": ("ого", "его"), "dat": ("ому", "ему"), "ins": ("им",), "prep": ("ом", "ем")}),
    ("ой", 5, {"gen": ("ого",), "dat": ("ому",), "ins": ("ым", "им"), "prep": ("ом",)}),
    ("ая", 5, {"gen": ("ой",), "dat": ("ой",), "acc": ("ую",), "ins": ("ой", "ою"), "prep": ("ой",)}),
    ("яя", 5, {"gen": ("ей",), "dat": ("ей",), "acc": ("юю",), "ins": ("ей",), "prep": ("ей",)}),
    ("ое", 5, {"gen": ("ого",), "dat": ("ому",), "ins": ("ым",), "prep": ("ом",)}),
    ("ее", 5, {"gen": ("его",), "dat": ("ему",), "ins": ("им",), "prep": ("ем",)}),
    # nouns: Хезболла -> Хезболлы, Фатима -> Фатимой
    ("а", 3, {"gen": ("ы", "и"), "dat": ("е",), "acc": ("у",), "ins": ("ой", "ою"), "prep": ("е",)}),
    ("я", 3, {"gen": ("и",), "dat": ("е", "и"), "acc": ("ю",), "ins": ("ей", "ею"), "prep": ("е", "и")}),
    ("ь", 3, {"gen": ("я", "и"), "dat": ("ю", "и"), "ins": ("ем", "ью"), "prep": ("е", "и")}),
    ("о", 5, {"gen": ("а",), "dat": ("у",), "ins": ("ом",), "prep": ("е",)}),
    ("ы", 5, {"pl": ("ов", "ам", "ами", "ах")}),  # хуситы -> хуситов
)  # fmt: skip


def _folded(table: tuple[tuple[str, int, dict[str, tuple[str, ...]]], ...]) -> Any:
    """The table in normalised letters: й is и once its breve is dropped (so nouns in -й, like
    names in -и, are left alone)."""
    fold = str.maketrans("йё", "ие")
    return tuple(
        (end.translate(fold), n, {c: tuple(e.translate(fold) for e in es) for c, es in t.items()})
        for end, n, t in table
    )


_ENDINGS = _folded(_ENDINGS)
# Masculine nouns ending in a consonant: Хасан -> Хасана, Хасану, Хасаном, Хасане.
_CONSONANT = {"gen": ("а",), "dat": ("у",), "ins": ("ом", "ем"), "prep": ("е",)}
_CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщ")
_CYRILLIC = re.compile("[\u0400-\u04ff]+")


def is_cyrillic(key: str) -> bool:
    return bool(_CYRILLIC.search(key))


def _case_endings(word: str) -> tuple[str, dict[str, tuple[str, ...]]] | None:
    """(stem, {case: endings}) of a word that declines; ``None`` if it does not."""
    if word in _PARTICLES or not _CYRILLIC.fullmatch(word) or len(word) < 3:
        return None
    for ending, min_len, table in _ENDINGS:
        if word.endswith(ending):
            return (word[: -len(ending)], table) if len(word) >= min_len else None
    if word[-1] in _CONSONANTS:
        return word, _CONSONANT
    return None


def cyrillic_forms(key: str) -> list[str]:
    """Inflected forms of a normalised Cyrillic alias: in each case, every declining word
    either takes that case's ending or stays as written (``Ансар ад-Дина``, ``Хасаном
    аль-Хашими``)."""
    words = key.split(" ")
    if len(words) == 1 and len(words[0]) < MIN_INFLECTED_WORD:
        return []
    declines = [_case_endings(w) for w in words]
    if not any(declines):
        return []
    forms: dict[str, None] = {}
    for case in _CASES:
        options = []
        for word, found in zip(words, declines, strict=True):
            spellings = [word]
            if found is not None:
                stem, table = found
                spellings += [stem + e for e in table.get(case, ())]
            options.append(spellings)
        for form in _product(options):
            forms.setdefault(form, None)
    return list(forms)[:MAX_FORMS]


# --- Latin phonetic key ----------------------------------------------------------------------

#: An Arabic article, plain or assimilated (al-, el-, ul-, ad-, ar-, ash-, as-, at-, az-, an-,
#: ath-, adh-, ...): one token ``al`` in the key.
_ARTICLE = re.compile(r"(?:[aeu](?:[lnrstzd]|sh|th|dh))")
_ARTICLE_TOKEN = "al"
# In order. Digraphs become one capital letter (a key is lower case otherwise), so that the
# "s" + "h" of a digraph is never doubled or folded. Vowels are folded into three classes, not
# dropped: Hasan and Hussein, Bashar and Bashir, Mahmoud and Muhammad, Omar and Amr are
# different people whose consonants are the same.
_REWRITES = (
    ("ck", "k"), ("q", "k"), ("dj", "j"),
    ("sh", "S"), ("th", "T"), ("dh", "D"), ("kh", "K"), ("gh", "G"), ("ch", "C"),
    ("ay", "ai"), ("ey", "ai"), ("ei", "ai"),  # Husayn, Hussein -> Husain
    ("ee", "i"), ("ou", "u"), ("oo", "u"),  # Deen -> Din, Youssef -> Yusef
    ("e", "i"), ("o", "u"),  # Hashemi -> Hashimi, Osama -> Usama
)  # fmt: skip
_DOUBLE = re.compile(r"([a-zA-Z])\1+")  # Hassan -> Hasan, Saeed -> Said (after ee -> i)
_FINAL = re.compile(r"(?<=[aiu])h$|(?<=[^aiu])y$")  # Hamzah -> Hamza, Khazaly -> Khazali
_LATIN_WORD = re.compile(r"[a-z0-9]+")


class _Keys(dict[str, str]):
    """Keys of words already seen (a post's vocabulary repeats), computed on first lookup;
    cleared when it grows too large."""

    def __missing__(self, word: str) -> str:
        if len(self) >= _CACHE_MAX:
            self.clear()
        key = self[word] = _phonetic_word(word)
        return key


_CACHE = _Keys()
_CACHE_MAX = 200_000


def _phonetic_word(word: str) -> str:
    if not _LATIN_WORD.fullmatch(word):
        return word  # other scripts, and words with other letters, pass through
    if _ARTICLE.fullmatch(word):
        return _ARTICLE_TOKEN
    for a, b in _REWRITES:
        word = word.replace(a, b)
    word = _DOUBLE.sub(r"\1", word)
    return _FINAL.sub(lambda m: "" if m.group() == "h" else "i", word)


#: The phonetic key of one normalised word, as a bound method (for ``map`` over a post's words).
key_of = _CACHE.__getitem__


def phonetic_word(word: str) -> str:
    """The phonetic key of one normalised word (``hashemi`` -> ``haSimi``)."""
    return _CACHE[word]


def phonetic_words(norm: str) -> list[str]:
    """The phonetic key of every word of normalised text, word for word."""
    return list(map(_CACHE.__getitem__, norm.split(" ")))


def phonetic_text(norm: str) -> str:
    """The phonetic key of every word of normalised text, word for word (same word count)."""
    return " ".join(phonetic_words(norm))


def _eligible(key: str) -> bool:
    """Two or more words besides articles, or one of at least MIN_PHONETIC_WORD letters."""
    words = [w for w in key.split(" ") if not _ARTICLE.fullmatch(w)]
    return len(words) >= 2 or (len(words) == 1 and len(words[0]) >= MIN_PHONETIC_WORD)


def phonetic_forms(keys: list[str]) -> list[str]:
    """Phonetic keys of the normalised Latin forms ``keys`` (an alias and its article
    variants); forms not eligible are left out."""
    out: dict[str, None] = {}
    for key in keys:
        if not all(_LATIN_WORD.fullmatch(w) for w in key.split(" ")) or not _eligible(key):
            continue
        out.setdefault(phonetic_text(key), None)
    return list(out)
