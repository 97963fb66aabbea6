"""normalize(): the fold every post and alias goes through, and its map back to the original."""

import pytest

from monitor.matching import fold_with_map, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case and compatibility forms
        ("QAIS Al-KHAZALI", "qais al khazali"),
        ("ＡＡＨ ﬁle", "aah file"),
        ("Straße", "strasse"),
        # Latin diacritics
        ("Khazālī", "khazali"),
        ("Qaïs Ḫazʿalī", "qais hazali"),
        # Arabic tashkeel, tatweel and presentation forms
        ("قَيْسٌ الخَزْعَلِيُّ", "قيس الخزعلي"),
        ("قيـــــس", "قيس"),
        ("ﻗﻴﺲ", "قيس"),
        # alef / ya / ta marbuta / kaf variants and Persian letters
        ("أإآٱا", "ااااا"),
        ("علی", "علي"),
        ("مصطفى", "مصطفي"),
        ("كتيبة", "كتيبه"),
        ("کتاب", "كتاب"),
        ("خانۀ", "خانه"),
        # Arabic-Indic and Persian digits
        ("٢٠٢٤ ۱۴۰۳", "2024 1403"),
        # apostrophes and transliteration marks vanish; possessive 's is its own word
        ("Asa'ib Asa’ib Asa`ib Asaʿib", "asaib asaib asaib asaib"),
        ("Khazali's men", "khazali s men"),
        # punctuation, hyphens, underscores, # and @ separate words; line breaks are spaces
        ("#قيس_الخزعلي", "قيس الخزعلي"),
        ("@Qais_al-Khazali!!", "qais al khazali"),
        ("one\ntwo\r\n\tthree", "one two three"),
        # nothing word-like
        ("", ""),
        ("... !! \u200c", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "control",
    ["\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\ufeff", "\u00ad", "\u202b", "\u2067"],
)
def test_zero_width_and_bidi_controls_vanish_inside_words(control: str) -> None:
    assert normalize(f"قي{control}س Kha{control}zali") == "قيس khazali"


def test_zwnj_can_instead_separate_words() -> None:
    assert normalize("قیس\u200cالخزعلی") == "قيسالخزعلي"
    assert normalize("قیس\u200cالخزعلی", zwnj_as_space=True) == "قيس الخزعلي"


def test_map_points_every_output_character_at_its_source() -> None:
    text = "  «قَيْسٌ»\u200c Khazālī's\n#AAH"
    folded, origin = fold_with_map(text)
    assert folded == normalize(text)
    assert len(origin) == len(folded)
    assert text[origin[folded.index("khazali")]] == "K"
    assert origin == sorted(origin)
