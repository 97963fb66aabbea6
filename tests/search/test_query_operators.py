"""The query language on posts collected from the simulated Telegram: phrases, -word, OR, prefix*."""

from __future__ import annotations

from tests.search.conftest import search


def _found(crafted, query: str, *args: str) -> set[str]:
    by_id = {v: k for k, v in crafted.ids.items()}
    return {by_id[h["message_id"]] for h in search(crafted.env, query, *args)}


def test_all_words_must_match_in_any_order(crafted):
    assert _found(crafted, "wei cui") == {"together", "apart"}
    assert _found(crafted, "cui baghdad") == {"together"}


def test_a_phrase_does_not_match_its_words_apart(crafted):
    assert _found(crafted, '"Cui Wei"') == {"together"}
    assert _found(crafted, '"wei cui"') == set()  # order counts too


def test_minus_excludes_a_word_or_a_phrase(crafted):
    assert _found(crafted, "khazali") == {"together", "basra", "ambassador"}
    assert _found(crafted, "khazali -basra") == {"together", "ambassador"}
    assert _found(crafted, 'khazali -"in baghdad"') == {"basra", "ambassador"}


def test_or_takes_either(crafted):
    assert _found(crafted, "basra OR baghdad") == {"together", "basra"}
    assert _found(crafted, "basra OR baghdad clinic") == {"basra"}  # (basra OR baghdad) AND clinic


def test_prefix_finds_words_that_start_so(crafted):
    assert _found(crafted, "khazali") == {"together", "basra", "ambassador"}  # not "Khazalist"
    assert _found(crafted, "khazal*") == {"together", "basra", "ambassador", "movement"}
    assert _found(crafted, '"qais al khaz"*') == {"together"}


def test_a_bad_query_is_an_error_that_says_why(crafted):
    from tests.search.conftest import cli

    result = cli(crafted.env, "search", '"cui wei')
    assert result.exit_code == 2
    assert "unterminated phrase" in result.output
    result = cli(crafted.env, "search", "--", "-basra")  # "--": the query is no option
    assert result.exit_code == 2
    assert "no word to look for (only excluded words)" in result.output
