"""On the collected seed scenario: one spelling finds the others (Persian/Arabic letters, the
Arabic article, case), and the snippet marks the words that matched."""

from __future__ import annotations

from tests.search.conftest import search

# The 2024-05-13 meeting: the media office's Arabic caption, the Persian channel's report.
ARABIC_POST = ("khazali_media_sim", 125)
PERSIAN_POST = ("iran_akhbar_fa_sim", 90)


def _keys(hits):
    return {(h["channel"], h["message_id"]) for h in hits}


def test_the_arabic_spelling_finds_the_persian_post(seed_archive):
    hits = search(seed_archive, "قيس الخزعلي")
    assert {ARABIC_POST, PERSIAN_POST} <= _keys(hits)
    persian = next(h for h in hits if (h["channel"], h["message_id"]) == PERSIAN_POST)
    assert "قیس خزعلی" in persian["snippet"]  # found with Persian ya, without the article
    marked = [persian["snippet"][s:e] for s, e in persian["marks"]]
    assert marked == ["قیس", "خزعلی"]


def test_the_persian_spelling_finds_the_arabic_post(seed_archive):
    hits = search(seed_archive, "قیس خزعلی")
    assert {ARABIC_POST, PERSIAN_POST} <= _keys(hits)
    arabic = next(h for h in hits if (h["channel"], h["message_id"]) == ARABIC_POST)
    assert [arabic["snippet"][s:e] for s, e in arabic["marks"]] == ["قيس", "الخزعلي"]


def test_a_persian_phrase_finds_the_arabic_phrase(seed_archive):
    assert ARABIC_POST in _keys(search(seed_archive, '"قیس خزعلی"'))


def test_case_does_not_matter(seed_archive):
    lower = _keys(search(seed_archive, "khazali"))
    assert lower == _keys(search(seed_archive, "KHAZALI"))
    assert ("iraq_news_en_sim", 137) in lower  # "Qais al-Khazali hosted Chinese ambassador"


def test_hits_are_newest_first_and_rank_orders_differently(seed_archive):
    hits = search(seed_archive, "khazali OR خزعلي")
    dates = [h["posted_at"] for h in hits]
    assert dates == sorted(dates, reverse=True) and len(hits) > 10
    ranked = search(seed_archive, "khazali OR خزعلي", "--sort", "rank")
    assert _keys(ranked) == _keys(hits)
    scores = [h["score"] for h in ranked]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_limit_caps_the_hits_and_says_there_are_more(seed_archive):
    from tests.search.conftest import cli

    assert len(search(seed_archive, "khazali", "--limit", "3")) == 3
    assert (
        "(first 3 shown; more with --limit)"
        in cli(seed_archive, "search", "khazali", "--limit", "3").stdout
    )
