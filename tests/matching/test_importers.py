"""Watchlist import from CSV and FollowTheMoney JSON lines (the pure readers)."""

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.matching.importers import entities_from_csv, entities_from_ftm, slugify

DATA = Path(__file__).parent / "data"


def test_csv_rows_become_entities() -> None:
    with (DATA / "watchlist.csv").open(encoding="utf-8", newline="") as fh:
        entities = entities_from_csv(fh)
    assert entities[0] == {
        "id": "khazali",
        "name": "Qais al-Khazali",
        "kind": "person",
        "aliases": ["قيس الخزعلي", "Qais Khazali"],  # blanks and repeats dropped
    }
    assert entities[1]["id"] == "asaib-ahl-al-haq"
    assert entities[1]["aliases"] == ["عصائب أهل الحق", "AAH"]  # "..." can never match
    assert entities[3] == {"id": "baghdad", "name": "Baghdad", "kind": "place", "aliases": []}


def test_csv_errors_name_the_line() -> None:
    with pytest.raises(ConfigError, match="line 3: duplicate entity id 'a'"):
        entities_from_csv(["id,name\n", "a,Alpha\n", "a,Again\n"])
    with pytest.raises(ConfigError, match="line 2: unknown kind 'militia'"):
        entities_from_csv(["id,name,kind\n", "a,Alpha,militia\n"])
    with pytest.raises(ConfigError, match="lacks column"):
        entities_from_csv(["ident,title\n", "a,Alpha\n"])


def test_ftm_people_and_organisations() -> None:
    with (DATA / "opensanctions.ftm.json").open(encoding="utf-8") as fh:
        entities = entities_from_ftm(fh)
    assert [e["id"] for e in entities] == ["nk-khazali-qais", "q2357155", "ofac-1234"]
    khazali = entities[0]
    assert khazali["name"] == "Qais al-Khazali"
    assert khazali["kind"] == "person"
    assert khazali["aliases"] == ["قيس الخزعلي", "Qais Khazali", "Qays al-Khazali", "Abu Ali"]
    assert entities[1]["aliases"] == ["عصائب أهل الحق", "AAH"]
    assert entities[2]["kind"] == "organization"
    assert entities[2]["aliases"] == ["Al-Muhandis Company"]


def test_ftm_bad_line_is_named() -> None:
    with pytest.raises(ConfigError, match="line 2: not valid JSON"):
        entities_from_ftm(['{"id": "x", "schema": "Person"}\n', "{oops\n"])


def test_slugify() -> None:
    assert slugify("NK-3bDZ_Qais al-Khazālī") == "nk-3bdz-qais-al-khazali"
