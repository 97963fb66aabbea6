"""Script-aware text normalisation with an index map back to the original text.

One function folds posts and aliases alike (see DESIGN.md, "Matching: facts"): casefold, NFKD,
drop combining marks, format characters (ZWNJ, ZWJ, LRM/RLM, ALM, BOM, soft hyphen, bidi
embeddings and isolates) and tatweel; fold Arabic letter variants and Persian letters; digits of
every script become ASCII; apostrophes and transliteration marks vanish (an English possessive
``'s`` becomes its own word); everything else that is not a letter or digit separates words.

The fast path is ``str.translate`` over a lazily filled table; the slow path (only needed when
something matched) walks the text once more and records where each output character came from.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ZWNJ",
    "finish",
    "fold_with_map",
    "is_ignorable",
    "normalize",
    "prefold",
    "resolve_zwnj",
    "translate",
]

_APOS = "'"  # the sentinel every apostrophe-like character folds to before it is deleted

#: Apostrophes and transliteration marks (ʿayn, hamza, primes, acute/grave accents used as such).
APOSTROPHES = frozenset("'\u2019\u2018`\u00b4\u02bf\u02be\u02bc\u02bb\u02b9\u2032\u055a\uff07")

#: Arabic-script letters that are folded onto one representative before anything else.
_LETTER_FOLDS = {
    "\u0671": "\u0627",  # ٱ alef wasla -> ا
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0622": "\u0627",  # آ
    "\u0672": "\u0627",  # ٲ
    "\u0673": "\u0627",  # ٳ
    "\u0649": "\u064a",  # ى alef maksura -> ي
    "\u06cc": "\u064a",  # ی Persian yeh -> ي
    "\u06d0": "\u064a",  # ې
    "\u06a9": "\u0643",  # ک Persian kaf -> ك
    "\u06aa": "\u0643",  # ڪ swash kaf
    "\u0629": "\u0647",  # ة ta marbuta -> ه
    "\u06c0": "\u0647",  # ۀ heh with yeh above -> ه
    "\u06c1": "\u0647",  # ہ heh goal
    "\u06be": "\u0647",  # ھ heh doachashmee
    "\u0640": "",  # tatweel
}

# An apostrophe followed by "s" and a word end is an English possessive: it separates words.
# Dropped characters (held as NUL in the mapped path) and ZWNJ may sit in between.
_POSSESSIVE = re.compile("'(?=[\x00\u200c]*s[\x00\u200c]*(?: |$))")
_HELD = "\x00"  # stands in for a dropped character so that indexes stay put
_RUN = re.compile("[^ ]+")
ZWNJ = "\u200c"


def _fold_char(ch: str) -> str:
    """The normalised form of one character: letters/digits, spaces, or ``_APOS``."""
    if ch in APOSTROPHES:
        return _APOS
    if ch in _LETTER_FOLDS:
        return _LETTER_FOLDS[ch]
    out = []
    for c in unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold()):
        if c in _LETTER_FOLDS:
            out.append(_LETTER_FOLDS[c])
            continue
        cat = unicodedata.category(c)
        if cat in ("Mn", "Me", "Cf") or c == "\u0640":
            continue  # combining marks (tashkeel, accents), format characters, tatweel
        if cat == "Nd":
            out.append(str(unicodedata.decimal(c)))
        elif cat[0] in "LN":
            out.append(c)
        elif c in APOSTROPHES:
            out.append(_APOS)
        else:
            out.append(" ")  # punctuation, symbols, separators, controls
    result = "".join(out)
    if len(result) == 1 and result == ch:
        return result
    # The output must be a fixed point so that normalize() is idempotent.
    return "".join(_fold_char(c) if c != ch else c for c in result)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that computes missing entries on first use.

    ZWNJ is kept (callers decide whether it joins or separates); with ``held`` a dropped
    character becomes NUL instead of vanishing, so the output keeps the input's indexes.
    """

    def __init__(self, *, held: bool) -> None:
        super().__init__()
        self._held = held
        self[ord(ZWNJ)] = ZWNJ

    def __missing__(self, cp: int) -> str:
        value = _fold_char(chr(cp))
        if self._held and not value:
            value = _HELD
        self[cp] = value
        return value


_TABLE = _FoldTable(held=False)
_HELD_TABLE = _FoldTable(held=True)


def is_ignorable(ch: str) -> bool:
    """True for characters that vanish without separating words (marks, format chars, tatweel)."""
    return _HELD_TABLE[ord(ch)] in (_HELD, ZWNJ)


def _unchanged_class() -> str:
    """A regex class of the characters of :data:`_KNOWN_BLOCKS` that fold to themselves."""
    table = _HELD_TABLE
    runs: list[str] = []
    for first, stop in _KNOWN_BLOCKS:
        start = None
        for cp in range(first, stop + 1):
            if cp < stop and table[cp] == chr(cp):
                start = cp if start is None else start
            elif start is not None:
                runs.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
                start = None
    return "".join(runs)


#: Where the fast path of :func:`translate` knows the characters that stay as they are: Basic
#: Latin and Latin-1 (controls excepted), Latin Extended, Greek, Cyrillic, Arabic, Arabic
#: Supplement, and ZWNJ. Other characters are simply looked up.
_KNOWN_BLOCKS = ((0x20, 0x7F), (0xA0, 0x250), (0x370, 0x530), (0x600, 0x700), (0x750, 0x780),
                 (0x200C, 0x200D))  # fmt: skip
_changed: re.Pattern[str] | None = None  # [^unchanged characters], compiled on first use
#: Above this many different characters to change, one full translation is cheaper.
_FEW = 12


def translate(text: str) -> str:
    """``text.translate`` by the held table (dropped characters as NUL), faster on most posts.

    ``str.translate`` looks every character up; in a post of Arabic script only a few kinds of
    characters change (ة ی ک أ, marks, punctuation), so each of those is replaced throughout
    instead, which gives the same string: a character's fold depends on it alone, and what a
    character folds to is folded already (but NUL, which holds a dropped character and is
    itself folded to a space: a text with NUL is translated the full way).
    """
    if text.isascii():  # str.translate has a fast path of its own for ASCII
        return text.translate(_HELD_TABLE)
    global _changed
    if _changed is None:
        _changed = re.compile(f"[^{_unchanged_class()}]")
    changed = _changed.findall(text)
    if not changed:
        return text
    kinds = dict.fromkeys(changed)  # in the order they come (a set's would vary by run)
    if len(kinds) > _FEW or _HELD in kinds or 4 * len(changed) > len(text):
        return text.translate(_HELD_TABLE)
    table = _HELD_TABLE
    for ch in kinds:
        text = text.replace(ch, table[ord(ch)])
    return text


def prefold(text: str) -> str:
    """Translate with dropped characters held as NUL (same length as ``text`` unless a character
    expands), possessives split; apostrophes, NULs and ZWNJ are still there."""
    s = translate(text)
    if _APOS in s:
        s = _POSSESSIVE.sub(" ", s)
    return s


def finish(s: str) -> str:
    """The normalised text of a prefolded string (after ZWNJ has been decided)."""
    if _HELD in s:
        s = s.replace(_HELD, "")
    if _APOS in s:
        s = s.replace(_APOS, "")
    # Folded text has no whitespace but spaces: words already single-spaced need no re-join.
    if "  " in s or s[:1] == " " or s[-1:] == " ":
        return " ".join(s.split())
    return s


def resolve_zwnj(s: str, *, zwnj_as_space: bool) -> str:
    return s.replace(ZWNJ, " " if zwnj_as_space else _HELD) if ZWNJ in s else s


def normalize(text: str, *, zwnj_as_space: bool = False) -> str:
    """Fold ``text`` for matching; words joined by single spaces, no padding ("" if no words).

    ZWNJ is dropped (it is inserted inside words to dodge filters) unless ``zwnj_as_space``.
    """
    return finish(resolve_zwnj(prefold(text), zwnj_as_space=zwnj_as_space))


def fold_with_map(text: str, *, zwnj_as_space: bool = False) -> tuple[str, list[int]]:
    """``normalize(text)`` plus, for every output character, the index of its source character."""
    s = text.translate(_HELD_TABLE)
    # Usually one output character per input character; expansions (ß, ligatures) need a map.
    where: list[int] | None = None
    if len(s) != len(text):
        table = _HELD_TABLE
        where = [i for i, ch in enumerate(text) for _ in range(len(table[ord(ch)]))]
    if _APOS in s:
        s = _POSSESSIVE.sub(" ", s)
    if ZWNJ in s:
        s = s.replace(ZWNJ, " " if zwnj_as_space else _HELD)
    words: list[str] = []
    origin: list[int] = []
    for m in _RUN.finditer(s):
        word, start = m.group(), m.start()
        if _HELD in word or _APOS in word:
            idx: list[int] | range = [
                start + j for j, c in enumerate(word) if c != _HELD and c != _APOS
            ]
            if not idx:
                continue
            word = "".join(s[i] for i in idx)
        else:
            idx = range(start, m.end())
        if words:
            origin.append(start - 1)  # the separator before this word
        words.append(word)
        origin.extend(idx)
    if where is not None:
        origin = [where[i] for i in origin]
    return " ".join(words), origin
