"""`monitor entities import` on broken or hostile sources: nothing is silently lost, split or
overwritten, and an alias too short to match safely is refused naming its entity."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import WatchlistError, load_entities, parse_watchlist
from monitor.errors import ConfigError
from monitor.matching.importers import entities_from_csv, entities_from_ftm

runner = CliRunner()


def ftm(**properties: object) -> str:
    return json.dumps({"id": "p1", "schema": "Person", "properties": properties}) + "\n"


def test_an_unterminated_quote_is_refused_naming_its_line_not_swallowing_the_rest() -> None:
    rows = ["id,name,aliases\n", "a,Alpha,Al\n", 'b,Beta,"Be;Bet\n', "c,Gamma,Ga\n", "d,Delta,De\n"]
    with pytest.raises(ConfigError, match=r"^CSV line 3: a quote opened in this row is never"):
        entities_from_csv(rows)


def test_a_quote_closed_rows_later_is_refused_naming_both_lines() -> None:
    rows = ["id,name,aliases\n", 'a,Alpha,"Al\n', "b,Beta,Be\n", 'c,Gamma,Ga"\n', "d,Delta,De\n"]
    with pytest.raises(ConfigError, match=r"^CSV line 2: a quoted field runs on to line 4"):
        entities_from_csv(rows)


def test_a_200k_character_field_is_read_whole() -> None:
    aliases = [f"Alias Number {i}" for i in range(15_000)]
    field = ";".join(aliases)
    assert len(field) > 200_000
    limit = csv.field_size_limit()
    (entity,) = entities_from_csv(["id,name,aliases\n", f'a,Alpha,"{field}"\n'])
    assert entity["aliases"] == aliases
    assert csv.field_size_limit() == limit  # the process-wide limit is left as it was


@pytest.mark.parametrize("props", ["[]", '["name", "Qais"]', '"Qais"'])
def test_ftm_properties_that_are_not_an_object_are_refused_naming_the_line(props: str) -> None:
    bad = '{"id": "p2", "schema": "Person", "properties": ' + props + "}\n"
    with pytest.raises(ConfigError, match=r"^JSON lines line 2: `properties` must be an object"):
        entities_from_ftm([ftm(name=["Qais al-Khazali"]), bad])


def test_an_ftm_name_or_alias_given_as_a_string_is_one_name_not_letters() -> None:
    (entity,) = entities_from_ftm([ftm(name="Qais al-Khazali", alias="Abu Ali")])
    assert entity["name"] == "Qais al-Khazali"
    assert entity["aliases"] == ["Abu Ali"]


@pytest.mark.parametrize("short", ["a", "A.", "'ب'", "٣"])
def test_a_one_character_alias_is_refused_naming_the_entity(short: str) -> None:
    with pytest.raises(ConfigError, match=r"^CSV line 3: alias .* of entity 'b' is too short"):
        entities_from_csv(["id,name,aliases\n", "a,Alpha,Al\n", f'b,Beta,"Be;{short}"\n'])
    with pytest.raises(ConfigError, match=r"line 1: alias .* of entity 'p1' is too short"):
        entities_from_ftm([ftm(name=["Qais"], alias=[short])])


def test_a_two_character_alias_is_kept() -> None:
    (entity,) = entities_from_csv(["id,name,aliases\n", "a,Alpha,AA\n"])
    assert entity["aliases"] == ["AA"]


def test_a_one_character_name_is_refused_naming_the_entity() -> None:
    with pytest.raises(ConfigError, match=r"^CSV line 2: name 'X' of entity 'x' is too short"):
        entities_from_csv(["id,name\n", "x,X\n"])
    with pytest.raises(ConfigError, match=r"^JSON lines line 1: name 'X' of entity 'p1' is too"):
        entities_from_ftm([ftm(name=["X", "Xavier"])])


def test_channels_yaml_refuses_a_one_letter_alias_at_its_line() -> None:
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist("entities:\n  - id: a\n    name: Alpha\n    aliases: [Al, a]\n", env={})
    assert [str(p) for p in caught.value.problems] == [
        "channels.yaml:4:19: alias 'a' is too short to match safely (one character once "
        "normalised), it would flag any post with that letter as a word in entity 'a'; "
        "write a longer form"
    ]


@pytest.fixture
def cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("MONITOR_CHANNELS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "first.csv").write_text("id,name,aliases\na,Alpha,Al\n", encoding="utf-8")
    (tmp_path / "second.csv").write_text("id,name,aliases\nb,Beta,Be\n", encoding="utf-8")
    return tmp_path


def test_an_import_never_silently_replaces_the_previous_one(cwd: Path) -> None:
    out = cwd / "entities" / "imported.yaml"
    assert runner.invoke(app, ["entities", "import", "first.csv"]).exit_code == 0
    again = runner.invoke(app, ["entities", "import", "second.csv"])
    assert again.exit_code != 0
    assert again.stderr.startswith("error: entities/imported.yaml already exists"), again.stderr
    assert "--force" in again.stderr and "Traceback" not in again.output
    assert [e.id for e in load_entities(out)] == ["a"]
    forced = runner.invoke(app, ["entities", "import", "second.csv", "--force"])
    assert forced.exit_code == 0, forced.output
    assert [e.id for e in load_entities(out)] == ["b"]


def test_an_import_says_which_include_line_to_add_until_channels_yaml_includes_it(
    cwd: Path,
) -> None:
    channels = cwd / "channels.yaml"
    channels.write_text("channels: []\n", encoding="utf-8")
    result = runner.invoke(app, ["entities", "import", "first.csv"])
    assert result.exit_code == 0, result.output
    assert "add `include: [entities/imported.yaml]` to channels.yaml" in result.stdout

    channels.write_text("channels: []\ninclude: [entities/*.yaml]\n", encoding="utf-8")
    result = runner.invoke(app, ["entities", "import", "second.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert "include" not in result.stdout
    assert [e.id for e in load_entities(channels)] == ["b"]
