"""Snippets mark where the query matched, on the original text (pure)."""

from __future__ import annotations

from monitor.search import marked_snippet, parse_query
from monitor.search.highlight import mark


def _marked(text: str, query: str, width: int = 160) -> str:
    cut, spans = marked_snippet(text, parse_query(query).marked_terms, width=width)
    return mark(cut, spans)


def test_every_spelling_of_the_query_is_marked_in_the_original_text():
    text = "لقاء الشيخ قيس الخزعلي مع السفير، ودیدار قیس خزعلی"
    assert (
        _marked(text, "قیس خزعلی") == "لقاء الشيخ «قيس» «الخزعلي» مع السفير، ودیدار «قیس» «خزعلی»"
    )


def test_a_phrase_is_marked_whole_and_a_prefix_marks_the_word():
    assert _marked("Cui Wei met al-Khazali", '"cui wei" khaz*') == "«Cui Wei» met al-«Khazali»"


def test_the_snippet_is_cut_around_the_first_hit():
    text = "filler " * 60 + "Najaf delegation arrived " + "more " * 60
    cut = _marked(text, "najaf", width=40)
    assert "«Najaf»" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) < 80


def test_a_word_inside_a_zwnj_compound_is_marked():
    assert _marked("بیانیه عصائب\u200cاهل\u200cحق امروز", '"عصائب اهل حق"') == (
        "بیانیه «عصائب\u200cاهل\u200cحق» امروز"
    )


def test_excluded_words_are_not_marked():
    assert _marked("Khazali in Basra", "khazali -baghdad") == "«Khazali» in Basra"
