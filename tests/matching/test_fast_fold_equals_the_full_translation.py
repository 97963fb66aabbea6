"""The fast fold (each kind of changed character replaced throughout) gives exactly the string
``str.translate`` gives, whatever the text: so every match is where it was."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.matching.normalize import _HELD_TABLE, _KNOWN_BLOCKS, translate

#: Characters that change (or are dropped, held as NUL) next to ones that do not, in the
#: scripts of the watchlists: the fast path's cases, and what sends it to the full one.
CHANGING = (
    "ةیکىأإآٱئؤـ"  # Arabic letter folds, tatweel
    "\u064e\u0651\u0652\u0301\u0308"  # tashkeel, Latin accents
    "\u200c\u200d\u200e\u200f\u00ad\ufeff"  # zero-width and bidi controls
    "،؛؟٫٠١٢۳۴۵.,!?-—«»'’_#@"  # punctuation, Arabic-Indic and Persian digits
    "QAÉßﬁİЖΣ"  # capitals, expansions (ß, ﬁ, İ)
    "\x00\t\n\u00a0\u2003"  # NUL, whitespace
    "𝐀😀"  # astral: a math letter, an emoji
)
PLAIN = "ابتثجحخدرزسشصطعغفقلمنهوي پچژگ abcxyz 0189 жзы"

WORDS = ["قال", "الحكومه", "بغداد", "دولت", "تهران", "گفت", "minister", "said", "сказал", "2024"]


@st.composite
def posts(draw: st.DrawFn) -> str:
    """Mostly plain words (as posts are), with a few changed characters put anywhere."""
    text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30)))
    for ch in draw(st.lists(st.sampled_from(CHANGING), max_size=6)):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + ch + text[at:]
    return text


texts = (
    posts()
    | st.text(alphabet=st.sampled_from(CHANGING + PLAIN), max_size=80)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
)


@settings(max_examples=600)
@given(texts)
def test_the_fast_fold_is_the_translation(text: str) -> None:
    assert translate(text) == text.translate(_HELD_TABLE)


def test_a_post_of_many_kinds_of_change_and_a_plain_one() -> None:
    many = "«" + "".join(CHANGING) * 3 + " " + PLAIN + "»"
    plain = PLAIN * 3
    assert translate(many) == many.translate(_HELD_TABLE) != many
    assert translate(plain) == plain
    persian = "سخنان خامنه‌ای در ایران، امروز ۱۲ خرداد، گفت"
    assert translate(persian) == "سخنان خامنه\u200cاي در ايران  امروز 12 خرداد  گفت"
    for held in ("\x00ـ", "ـ\x00"):  # a NUL in the text, and a tatweel held as NUL
        text = f"قال {held} اليوم في بغداد"
        assert translate(text) == text.translate(_HELD_TABLE)
    arabic = "قالَ رئيس الحكومة العراقية ـ اليوم"
    assert translate(arabic) == "قال\x00 رييس الحكومه العراقيه \x00 اليوم"


def test_what_a_character_folds_to_is_folded_already() -> None:
    """Why replacing one kind of character at a time is safe: no replacement brings in a
    character another replacement would change (NUL aside, which takes the full path)."""
    for first, stop in _KNOWN_BLOCKS:
        for cp in range(first, stop):
            for ch in _HELD_TABLE[cp]:
                assert ch == "\x00" or _HELD_TABLE[ord(ch)] == ch, (hex(cp), ch)
    for ch in CHANGING + "".join(map(chr, range(0xFB50, 0xFEFF))):  # Arabic presentation forms
        for out in _HELD_TABLE[ord(ch)]:
            assert out == "\x00" or _HELD_TABLE[ord(out)] == out, (hex(ord(ch)), out)
    assert unicodedata.category("\x00") == "Cc" and _HELD_TABLE[0] == " "
