"""`flags list` filters on when a post was published (--posted-since/--posted-until) or when it
was flagged (--flagged-since, alias --since), and lists an entity's flags newest post first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.flagging.desk import Flagged, fails, flags_json, json_lines, small_archive


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


# Old posts flagged late (a watchlist grew), a recent one flagged early: the two dates disagree.
POSTS = [
    Flagged("Qais al-Khazali in 2019", at("2019-03-01T10:00"), flagged_at=at("2026-01-03")),
    Flagged("Qais al-Khazali in 2023", at("2023-06-01T10:00"), flagged_at=at("2026-01-02")),
    Flagged("Qais al-Khazali in 2024", at("2024-05-13T09:00"), flagged_at=at("2026-01-01")),
    Flagged(
        "Asa'ib Ahl al-Haq in 2022",
        at("2022-01-01T10:00"),
        flagged_at=at("2026-01-04"),
        entity="aah",
        alias="Asa'ib Ahl al-Haq",
    ),
]


@pytest.fixture
def env(migrated_url, tmp_path):
    return small_archive(migrated_url, tmp_path, POSTS)


def years(flags: list[dict]) -> list[str]:
    return [f["posted_at"][:4] for f in flags]


def test_posted_and_flagged_dates_filter_separately(env):
    assert years(flags_json(env)) == ["2022", "2019", "2023", "2024"]  # newest flag first
    assert years(flags_json(env, "--posted-since", "2023-06-01T10:00Z")) == ["2023", "2024"]
    assert years(flags_json(env, "--posted-until", "2023-06-01T10:00Z")) == ["2022", "2019", "2023"]
    assert years(
        flags_json(env, "--posted-since", "2020-01-01", "--posted-until", "2023-12-31")
    ) == [
        "2022",
        "2023",
    ]
    # A date alone means the whole day: the post of 2023-06-01 10:00 is in.
    assert years(flags_json(env, "--posted-until", "2023-06-01")) == ["2022", "2019", "2023"]
    assert years(flags_json(env, "--posted-until", "2023-05-31")) == ["2022", "2019"]
    assert years(flags_json(env, "--flagged-since", "2026-01-03")) == ["2022", "2019"]
    assert years(flags_json(env, "--since", "2026-01-03")) == ["2022", "2019"]  # the alias


def test_an_entitys_flags_are_listed_newest_post_first(env):
    assert years(flags_json(env, "--entity", "qais")) == ["2024", "2023", "2019"]
    assert years(flags_json(env, "--entity", "qais", "--limit", "2")) == ["2024", "2023"]
    by_post = json_lines(env, "flags", "list", "--by-post", "--entity", "qais", "--limit", "2")
    assert years(by_post) == ["2024", "2023"]
    newest_flag_first = json_lines(env, "flags", "list", "--by-post", "--limit", "2")
    assert years(newest_flag_first) == ["2022", "2019"]


def test_a_bad_date_names_the_option(env):
    assert "--posted-since 'soon' is neither a date nor a duration" in fails(
        env, "flags", "list", "--posted-since", "soon"
    )
