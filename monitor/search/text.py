"""The indexed form of a text and of a query word: the matcher's normalisation, article-free.

Both sides go through :func:`monitor.matching.normalize.normalize` (case, diacritics, tashkeel,
tatweel, alef/ya/kaf variants, digits), so ``Khazali`` meets ``KHAZALI`` and ``قيس`` meets
``قیس``. Two more folds make a person's spellings meet:

- the Arabic article and its proclitic forms (ال، وال، بال، فال، كال، لل) are dropped from a
  word when at least three letters remain, so ``الخزعلي`` (Arabic) and ``خزعلی`` (Persian,
  without the article) are one word, while ``الله`` or ``الي`` stay as they are;
- ZWNJ both joins and separates (it is typed inside Persian compounds and to dodge filters): a
  text holding one is indexed in both forms, so ``عصائب‌اهل‌حق`` is found by the joined word and
  by ``"عصائب اهل حق"``.
"""

from __future__ import annotations

from monitor.matching.normalize import ZWNJ, normalize

__all__ = ["ARTICLES", "index_text", "search_words", "strip_article"]

# Longest first: "وال" before "ال".
ARTICLES = ("وال", "فال", "بال", "كال", "لل", "ال")
_MIN_STEM = 3


def strip_article(word: str) -> str:
    """``word`` without a leading Arabic article (or proclitic + article) if 3+ letters remain."""
    for article in ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= _MIN_STEM:
            return word[len(article) :]
    return word


def _words(normalised: str) -> list[str]:
    return [strip_article(w) for w in normalised.split()]


def search_words(text: str) -> list[str]:
    """The indexed words of a query word or phrase (ZWNJ joins, as a person types it)."""
    return _words(normalize(text))


def index_text(text: str) -> str:
    """What the search index holds for a post version's ``text``."""
    joined = " ".join(_words(normalize(text)))
    if ZWNJ not in text:
        return joined
    split = " ".join(_words(normalize(text, zwnj_as_space=True)))
    return joined if split == joined else f"{joined}\n{split}"
