"""Every version is indexed: a word only an earlier version said still finds the post, and the
hit says which version matched."""

from __future__ import annotations

from tests.search.conftest import cli, search


def test_a_word_only_in_the_first_version_finds_the_post_and_names_that_version(crafted):
    hits = search(crafted.env, "sanctions")
    assert [h["message_id"] for h in hits] == [crafted.ids["sanctions"]]
    hit = hits[0]
    assert hit["matched_version"]["number"] == 1
    assert hit["matched_version"]["of"] == 2
    assert hit["matched_version"]["current"] is False
    assert hit["edited"] is True
    assert hit["snippet"] == "Sanctions on the ministry announced today."
    text = cli(crafted.env, "search", "sanctions").stdout
    assert "edited" in text and "matched version 1 of 2" in text and "not the current text" in text


def test_a_word_of_the_current_version_names_the_current_version(crafted):
    hit = search(crafted.env, "responded")[0]
    assert hit["message_id"] == crafted.ids["sanctions"]
    assert hit["matched_version"] | {"captured_at": None} == {
        "number": 2,
        "of": 2,
        "current": True,
        "captured_at": None,
    }
    assert "matched version" not in cli(crafted.env, "search", "responded").stdout


def test_a_word_in_both_versions_finds_the_post_once_by_its_current_text(crafted):
    hits = search(crafted.env, "ministry")
    assert [h["message_id"] for h in hits] == [crafted.ids["sanctions"]]
    assert hits[0]["matched_version"]["current"] is True
    assert hits[0]["snippet"] == "The ministry responded today."


def test_a_deleted_post_is_still_found_and_marked(crafted):
    hit = search(crafted.env, "rumour")[0]
    assert hit["deleted"] is True and hit["deleted_at"] is not None
    assert "deleted" in cli(crafted.env, "search", "rumour").stdout
