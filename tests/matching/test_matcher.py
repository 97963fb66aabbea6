"""Matcher rules, each with Arabic, Persian and English examples and the negative cases."""

from dataclasses import dataclass, field

import pytest

from monitor.matching import Match, Matcher


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)


WATCHLIST = [
    Entity("khazali", "Qais al-Khazali", ["قيس الخزعلي", "قیس خزعلی"]),
    Entity("aah", "Asa'ib Ahl al-Haq", ["عصائب أهل الحق", "AAH"]),
    Entity("hezbollah", "Hezbollah", ["حزب الله"]),
    Entity("kataib-hezbollah", "Kataib Hezbollah", ["كتائب حزب الله"]),
    Entity("ambassador", "Cui Wei", ["السفير الصيني"]),
    Entity("qays", "قيس"),
    Entity("khamenei", "Ali Khamenei", ["علی خامنه‌ای", "خامنه‌ای"]),
    Entity("irgc", "IRGC", ["سپاه پاسداران"]),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(WATCHLIST)


def found(matcher: Matcher, text: str) -> list[tuple[str, str, str]]:
    matches = matcher.match(text)
    for m in matches:
        assert text[m.start : m.end] == m.matched
    return [(m.entity_id, m.rule, m.matched) for m in matches]


@pytest.mark.parametrize(
    ("text", "entity", "rule", "matched"),
    [
        # exact, through case, diacritics, letter variants, digits-free noise
        ("QAIS AL-KHAZALI spoke today", "khazali", "exact", "QAIS AL-KHAZALI"),
        ("Qais al-Khazālī spoke", "khazali", "exact", "Qais al-Khazālī"),
        ("قال قَيْسٌ الخَزْعَلِيُّ اليوم", "khazali", "exact", "قَيْسٌ الخَزْعَلِيُّ"),
        ("قال قيـــس الخزعـــلي", "khazali", "exact", "قيـــس الخزعـــلي"),
        ("ﻗﻴﺲ ﺍﻟﺨﺰﻋﻠﻲ", "khazali", "exact", "ﻗﻴﺲ ﺍﻟﺨﺰﻋﻠﻲ"),
        ("گفت قيس خزعلي", "khazali", "exact", "قيس خزعلي"),  # Persian alias, Arabic letters
        ("دیدار با علي خامنه اي", "khamenei", "exact", "علي خامنه اي"),
        ("سپاه پاسداران اعلام کرد", "irgc", "exact", "سپاه پاسداران"),
        # apostrophes and transliteration marks
        ("Asa’ib Ahl al-Haq", "aah", "exact", "Asa’ib Ahl al-Haq"),
        ("Asaib Ahl al Haq", "aah", "exact", "Asaib Ahl al Haq"),
        ("Asa`ib Ahl al-Haq", "aah", "exact", "Asa`ib Ahl al-Haq"),
        # punctuation separates words; line breaks are spaces
        ("Qais\nal-Khazali", "khazali", "exact", "Qais\nal-Khazali"),
        ("«قيس الخزعلي»", "khazali", "exact", "قيس الخزعلي"),
        # possessive
        ("Qais al-Khazali's speech", "khazali", "exact", "Qais al-Khazali"),
        ("Khazali’s men and Qais Khazali's", "khazali", "article", "Qais Khazali"),
        # article missing or glued
        ("Qais Khazali spoke", "khazali", "article", "Qais Khazali"),
        ("Qais Alkhazali spoke", "khazali", "article", "Qais Alkhazali"),
        ("Asa'ib Ahl Haq", "aah", "article", "Asa'ib Ahl Haq"),
        # hashtags
        ("#QaisAlKhazali", "khazali", "hashtag", "QaisAlKhazali"),
        ("#Qais_al_Khazali", "khazali", "hashtag", "Qais_al_Khazali"),
        ("#قيس_الخزعلي", "khazali", "hashtag", "قيس_الخزعلي"),
        ("#حزبالله", "hezbollah", "hashtag", "حزبالله"),
        ("#سپاه_پاسداران", "irgc", "hashtag", "سپاه_پاسداران"),
        # proclitics
        ("وقيس الخزعلي قال", "khazali", "clitic", "وقيس الخزعلي"),
        ("للسفير الصيني", "ambassador", "clitic", "للسفير الصيني"),
        ("فعصائب أهل الحق", "aah", "clitic", "فعصائب أهل الحق"),
        ("وبحزب الله", "hezbollah", "clitic", "وبحزب الله"),
        ("ولسپاه پاسداران", "irgc", "clitic", "ولسپاه پاسداران"),
        # acronyms
        ("AAH fighters", "aah", "acronym", "AAH"),
        ("statement by the IRGC.", "irgc", "acronym", "IRGC"),
        ("#AAH", "aah", "acronym", "AAH"),
    ],
)
def test_rule(matcher: Matcher, text: str, entity: str, rule: str, matched: str) -> None:
    assert (entity, rule, matched) in found(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "Cui Weiming arrived",  # whole words only
        "قيسون",  # قيس inside a longer word
        "وقيس",  # a short single-word alias takes no proclitic
        "Aah, it's hot",  # an acronym is case-sensitive
        "aah irgc Irgc",
        "AAHA",
        "Qais",  # half of an alias
        "الخزعلي",
        "حزب",
        "Hezbollahs",
        "سپاه",
        "السفير الصينيين",
        "unrelated post about the weather",
        "",
    ],
)
def test_no_match(matcher: Matcher, text: str) -> None:
    assert found(matcher, text) == []


def test_whole_word_on_both_sides(matcher: Matcher) -> None:
    assert found(matcher, "XCui Wei") == []
    assert found(matcher, "Cui Wei.") == [("ambassador", "exact", "Cui Wei")]


def test_leftmost_longest_does_not_also_flag_the_inner_alias(matcher: Matcher) -> None:
    assert found(matcher, "بيان كتائب حزب الله") == [
        ("kataib-hezbollah", "exact", "كتائب حزب الله")
    ]
    # ...but a separate mention of the inner alias still counts.
    assert found(matcher, "كتائب حزب الله و حزب الله") == [
        ("kataib-hezbollah", "exact", "كتائب حزب الله"),
        ("hezbollah", "exact", "حزب الله"),
    ]
    # The militia leader's name beats the single-word entity قيس at the same start.
    assert found(matcher, "قيس الخزعلي") == [("khazali", "exact", "قيس الخزعلي")]


def test_zwnj_between_words_of_a_multi_word_alias(matcher: Matcher) -> None:
    assert found(matcher, "بيان قيس\u200cالخزعلي") == [("khazali", "exact", "قيس\u200cالخزعلي")]
    assert found(matcher, "سپاه\u200cپاسداران") == [("irgc", "exact", "سپاه\u200cپاسداران")]


def test_zwnj_inside_a_word_and_alias_with_zwnj(matcher: Matcher) -> None:
    assert found(matcher, "ق\u200cيس الخز\u200cعلي") == [
        ("khazali", "exact", "ق\u200cيس الخز\u200cعلي")
    ]
    # The alias is written with a ZWNJ; posts often leave it out or use a space.
    assert ("khamenei", "exact", "خامنه‌ای") in found(matcher, "پیام خامنه‌ای")
    assert ("khamenei", "exact", "خامنهای") in found(matcher, "پیام خامنهای")


@pytest.mark.parametrize(
    "control", ["\u200b", "\u200d", "\u200e", "\u200f", "\u061c", "\ufeff", "\u00ad", "\u202e"]
)
def test_controls_never_stop_a_match(matcher: Matcher, control: str) -> None:
    text = f"Qa{control}is al-Kha{control}zali قي{control}س الخزع{control}لي"
    assert [e for e, _, _ in found(matcher, text)] == ["khazali", "khazali"]


def test_span_maps_back_and_covers_trailing_marks(matcher: Matcher) -> None:
    text = "«وقيس الخزعليُّ» said"
    (m,) = matcher.match(text)
    assert m == Match("khazali", "قيس الخزعلي", "clitic", 1, 15, "وقيس الخزعليُّ")


def test_matches_are_ordered_and_do_not_overlap(matcher: Matcher) -> None:
    text = "AAH and حزب الله met Cui Wei; #QaisAlKhazali"
    matches = matcher.match(text)
    assert [m.entity_id for m in matches] == ["aah", "hezbollah", "ambassador", "khazali"]
    for a, b in zip(matches, matches[1:], strict=False):
        assert a.end <= b.start


def test_two_entities_sharing_an_alias_are_both_reported() -> None:
    matcher = Matcher.compile([Entity("a", "Ali Hassan"), Entity("b", "Ali Hasan", ["Ali Hassan"])])
    assert sorted(e for e, _, _ in found(matcher, "Ali Hassan")) == ["a", "b"]


def test_acronym_entity_also_matches_a_lowercase_alias_of_another_entity() -> None:
    matcher = Matcher.compile([Entity("aah", "AAH"), Entity("sound", "aah sound")])
    assert found(matcher, "aah sound") == [("sound", "exact", "aah sound")]
    assert found(matcher, "AAH") == [("aah", "acronym", "AAH")]


def test_empty_watchlist_matches_nothing() -> None:
    assert Matcher.compile([]).match("anything at all") == []
    assert Matcher.compile([Entity("x", "!!!")]).match("!!!") == []
