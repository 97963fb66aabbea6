"""Each filter keeps exactly the hits that satisfy it: never none, never all (so a filter that
were ignored, or inverted, fails here). The truth comes from the database, not from the hits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from storage import create_engine
from storage.models import flag, post_media
from tests.search.conftest import search

BROAD = "khazali OR خزعلي OR عصائب OR چین OR الصيني OR china OR baghdad OR بغداد"


def _post_ids(env: dict[str, str], query: Any) -> set[int]:
    async def run() -> set[int]:
        engine = create_engine(env["MONITOR_DATABASE_URL"])
        try:
            async with engine.connect() as conn:
                return set((await conn.execute(query)).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _photo_posts(env):
    return _post_ids(env, select(post_media.c.post_id).where(post_media.c.kind == "photo"))


def _flagged(env, entity):
    return _post_ids(env, select(flag.c.post_id).where(flag.c.entity_id == entity))


Predicate = Callable[[dict[str, Any], dict[str, str]], bool]
CASES: dict[str, tuple[list[str], Predicate]] = {
    "channel tag": (["--channel", "english"], lambda h, env: h["channel"] == "iraq_news_en_sim"),
    "channel handle": (
        ["--channel", "https://t.me/iran_akhbar_fa_sim"],
        lambda h, env: h["channel"] == "iran_akhbar_fa_sim",
    ),
    "entity": (["--entity", "cui-wei"], lambda h, env: h["post_id"] in _flagged(env, "cui-wei")),
    "language": (["--language", "fa"], lambda h, env: h["language"] == "fa"),
    "since": (["--since", "2024-05-13"], lambda h, env: h["posted_at"] >= "2024-05-13"),
    "until": (["--until", "2024-05-13"], lambda h, env: h["posted_at"] < "2024-05-14"),
    "has photo": (["--has-photo"], lambda h, env: h["post_id"] in _photo_posts(env)),
    "no photo": (["--no-photo"], lambda h, env: h["post_id"] not in _photo_posts(env)),
    "edited": (["--edited"], lambda h, env: h["edited"]),
    "not edited": (["--not-edited"], lambda h, env: not h["edited"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_filter_keeps_exactly_the_hits_that_satisfy_it(seed_archive, case):
    args, holds = CASES[case]
    everything = search(seed_archive, BROAD)
    wanted = {h["post_id"] for h in everything if holds(h, seed_archive)}
    assert wanted and len(wanted) < len(everything), "the case must tell filtered from not"
    assert {h["post_id"] for h in search(seed_archive, BROAD, *args)} == wanted


def test_filters_combine(seed_archive):
    both = search(
        seed_archive, BROAD, "--language", "en", "--since", "2024-05-13", "--until", "2024-05-15"
    )
    assert both and all(h["language"] == "en" for h in both)
    assert all("2024-05-13" <= h["posted_at"] < "2024-05-16" for h in both)


def test_a_duration_counts_back_from_now(seed_archive):
    assert search(seed_archive, BROAD, "--since", "7d") == []  # the seed ends in 2024
    assert len(search(seed_archive, BROAD, "--until", "7d")) == len(search(seed_archive, BROAD))


def test_deleted_filter(crafted):
    everything = {h["message_id"] for h in search(crafted.env, "ambassador")}
    assert everything == {crafted.ids["apart"], crafted.ids["ambassador"], crafted.ids["rumour"]}
    deleted = {h["message_id"] for h in search(crafted.env, "ambassador", "--deleted")}
    assert deleted == {crafted.ids["rumour"]}
    kept = {h["message_id"] for h in search(crafted.env, "ambassador", "--not-deleted")}
    assert kept == everything - deleted


def test_an_unknown_channel_or_tag_is_an_error_naming_it(seed_archive):
    from tests.search.conftest import cli

    result = cli(seed_archive, "search", "khazali", "--channel", "no such tag")
    assert result.exit_code == 2
    assert "--channel 'no such tag' is neither a channel nor a tag" in result.output
    assert "english" in result.output  # the tags it knows
