"""The queue's filters and counts over the seed archive: each filter keeps exactly the flags the
database holds for it, and the counts per status follow the filters."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.site import PASSWORDS, db_query


@pytest.fixture
def http(seed_desk):
    with httpx.Client(base_url=seed_desk.url) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        client.post(
            "/login", data={"csrf_token": token, "name": "noor", "password": PASSWORDS["noor"][1]}
        )
        yield client


def _shown(http: httpx.Client, query: str) -> tuple[set[int], dict[str, int]]:
    page = http.get(f"/queue?status=all&{query}")
    assert page.status_code == 200
    ids = {int(i) for i in re.findall(r'data-flag="(\d+)"', page.text)}
    counts = {s: int(n) for s, n in re.findall(r'id="count-(\w+)">(\d+)<', page.text)}
    return ids, counts


def _ids(seed_desk, where: str, **params) -> set[int]:
    sql = (
        "SELECT f.id FROM flag f JOIN post p ON p.id = f.post_id "
        "JOIN channel c ON c.id = f.channel_id JOIN entity e ON e.id = f.entity_id WHERE " + where
    )
    return {int(r[0]) for r in db_query(seed_desk.settings, sql, **params)}


def test_each_filter_keeps_what_the_database_holds(http, seed_desk):
    cases = [
        ("entity=cui-wei", "f.entity_id = 'cui-wei'", {}),
        ("channel=@iran_akhbar_fa_sim", "c.username = 'iran_akhbar_fa_sim'", {}),
        ("language=en", "f.language = 'en'", {}),
        ("tag=diplomat", "f.entity_id IN ('cui-wei', 'chinese-embassy-iraq')", {}),
        (
            "since=2024-05-13&until=2024-05-13",
            "p.posted_at >= :a AND p.posted_at < :b",
            {"a": "2024-05-13", "b": "2024-05-14"},
        ),
    ]
    everything = _ids(seed_desk, "1 = 1")
    for query, where, params in cases:
        expected = _ids(seed_desk, where, **params)
        assert expected and expected != everything, query  # the filter means something here
        shown, counts = _shown(http, query)
        assert shown == expected, query
        assert counts["all"] == len(expected), query
        assert sum(v for k, v in counts.items() if k != "all") == len(expected), query


def test_a_bad_date_filter_says_so(http):
    page = http.get("/queue?since=13/05/2024")
    assert (
        page.status_code == 400
        and "since &#39;13/05/2024&#39; is not a date (YYYY-MM-DD)" in page.text
    )
