"""`flags list` fits the terminal: at 80 columns every link is whole on a line of its own and a
flag takes three lines at most, however long the post."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.flagging.desk import Flagged, flags_json, run, small_archive

USERNAME = "iraq_news_wire_english_simulated"  # 32 characters, Telegram's longest
LONG_TEXT = "Qais al-Khazali " + " ".join(["said the talks went on through the night"] * 20)
START = datetime(2024, 5, 13, 9, tzinfo=UTC)
POSTS = [
    Flagged(LONG_TEXT, START + timedelta(hours=i), message_id=1_000_000 + i) for i in range(5)
] + [
    Flagged(
        "Asa'ib Ahl al-Haq\n\n" + LONG_TEXT,
        START,
        message_id=1_000_100,
        entity="a-rather-long-entity-identifier-for-testing",
        alias="Asa'ib Ahl al-Haq",
    )
]
ENTITIES = [
    ("qais", "Qais al-Khazali", "person", [], ["Qais al-Khazali"]),
    ("a-rather-long-entity-identifier-for-testing", "AAH", "organization", [], ["AAH"]),
]


@pytest.fixture
def env(migrated_url, tmp_path):
    archive = small_archive(
        migrated_url,
        tmp_path,
        POSTS,
        channel={"username": USERNAME, "title": "Iraq News Wire " * 6},
        entities=ENTITIES,
    )
    return {**archive, "COLUMNS": "80"}


def rows(output: str) -> list[list[str]]:
    """The table's rows: each starts at the line holding a post's link."""
    found: list[list[str]] = []
    for line in output.splitlines()[2:]:  # below the header and its rule
        if "https://t.me/" in line:
            found.append([])
        if found:
            found[-1].append(line)
    return found


@pytest.mark.parametrize("by_post", [False, True])
def test_every_link_is_whole_and_a_row_takes_three_lines_at_most(env, by_post):
    links = {f["link"] for f in flags_json(env)}
    assert len(links) == 6 and all(len(link) > 40 for link in links)

    output = run(env, "flags", "list", *(["--by-post"] if by_post else []))

    assert all(len(line) <= 80 for line in output.splitlines())
    printed = [re.search(r"https://t\.me/\S+", line) for line in output.splitlines()]
    assert {m.group() for m in printed if m} == links  # every link once per row, never cut
    table = rows(output)
    assert len(table) == 6
    assert all(len(row) <= 3 for row in table), "\n".join("\n".join(r) for r in table)
    assert all("…" in "".join(row) for row in table)  # the snippet is cut, and says so
