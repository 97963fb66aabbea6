"""The query parser alone (no database): what each operator becomes, and clear errors."""

from __future__ import annotations

import pytest

from monitor.search import QueryError, parse_query
from monitor.search.text import index_text, search_words, strip_article
from storage.search import Term, TextQuery, fts5_query, tsquery


def _q(source: str) -> TextQuery:
    return parse_query(source).text_query


def test_words_are_all_required_and_normalised():
    assert _q("Khazali  KHAZALI") == TextQuery(((Term(("khazali",)),), (Term(("khazali",)),)))
    assert _q("قیس الخزعلي") == TextQuery(((Term(("قيس",)),), (Term(("خزعلي",)),)))


def test_a_phrase_keeps_its_words_together():
    assert _q('"Cui Wei" visit') == TextQuery(((Term(("cui", "wei")),), (Term(("visit",)),)))


def test_a_word_that_folds_to_several_is_a_phrase():
    assert _q("al-Khazali") == TextQuery(((Term(("al", "khazali")),),))


def test_minus_excludes_and_or_groups():
    assert _q('a OR b c -d -"e f"') == TextQuery(
        ((Term(("a",)), Term(("b",))), (Term(("c",)),)),
        (Term(("d",)), Term(("e", "f"))),
    )


def test_lowercase_or_is_a_word():
    assert _q("war or peace") == TextQuery(
        ((Term(("war",)),), (Term(("or",)),), (Term(("peace",)),))
    )


def test_prefix_on_a_word_and_on_a_phrase():
    assert _q("khaz*") == TextQuery(((Term(("khaz",), prefix=True),),))
    assert _q('"qais al"*') == TextQuery(((Term(("qais", "al"), prefix=True),),))


def test_rendered_for_both_backends():
    query = _q('"cui wei" OR khaz* -visit')
    assert fts5_query(query) == '(("cui wei" OR "khaz" *)) NOT "visit"'
    assert tsquery(query) == "((('cui' <-> 'wei') | ('khaz':*))) & !('visit')"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ('"cui wei', "unterminated phrase"),
        ("-visit", "only excluded words"),
        ("OR a", "needs a word on each side"),
        ("a OR", "needs a word after it"),
        ("a OR OR b", "needs a word on each side"),
        ("a OR -b", "cannot join an excluded word"),
        ("!!! ...", "no word to look for"),
        ("", "no word to look for"),
    ],
)
def test_bad_queries_say_what_is_wrong(source, says):
    with pytest.raises(QueryError, match=says):
        parse_query(source)


def test_the_article_goes_only_when_a_word_remains():
    assert strip_article("الخزعلي") == "خزعلي"
    assert strip_article("والخزعلي") == "خزعلي"
    assert strip_article("للسفير") == "سفير"
    assert strip_article("الله") == "الله"  # two letters would remain
    assert search_words("الخـــزعلي") == ["خزعلي"]  # tatweel too


def test_zwnj_compounds_are_indexed_joined_and_apart():
    indexed = index_text("بیانیه عصائب\u200cاهل\u200cحق").split()
    assert "عصايباهلحق" in indexed
    assert ["عصايب", "اهل", "حق"] == indexed[-3:]
    assert index_text("no zwnj here") == "no zwnj here"
