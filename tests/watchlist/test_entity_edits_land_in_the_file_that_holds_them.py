"""`monitor entities add` and `monitor entities alias add|remove` write to the file that holds
the entity: an entity of an included file is edited there, channels.yaml keeps its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_watchlist
from tests.watchlist.conftest import comment_lines, only_deletions, only_insertions

MAIN = """\
# The desk's watchlist.
include: [entities/*.yaml]
channels:
  - handle: "@alpha_sim"   # the only channel
entities:
  - id: cui-wei
    name: Cui Wei
    kind: person
    aliases: ["Cui Wei"]
"""

PEOPLE = """\
# Imported from people.csv, then curated by hand.
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases:
      - "Qais al-Khazali"   # the usual English spelling
      - "قيس الخزعلي"       # Arabic

  # Organisations below.
  - id: asaib-ahl-al-haq
    name: Asa'ib Ahl al-Haq
    kind: organization
    aliases: ['Asa''ib Ahl al-Haq']
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    main = tmp_path / "channels.yaml"
    main.write_text(MAIN, encoding="utf-8")
    (tmp_path / "entities").mkdir()
    people = tmp_path / "entities" / "people.yaml"
    people.write_text(PEOPLE, encoding="utf-8")
    return main, people


def run(runner: CliRunner, main: Path, *args: str):
    return runner.invoke(app, [*args, "--channels", str(main)])


def test_alias_add_and_remove_edit_the_included_file_only(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    main_bytes = main.read_bytes()
    result = run(runner, main, "entities", "alias", "add", "qais-al-khazali", "Qays al-Khazali")
    assert result.exit_code == 0, result.output
    assert f"in {people}" in result.output
    added = people.read_text(encoding="utf-8")
    assert only_insertions(PEOPLE, added) == ['      - "Qays al-Khazali"']
    # After the last alias, before the blank line and the comment that followed it.
    lines = added.splitlines()
    at = lines.index('      - "Qays al-Khazali"')
    assert lines[at - 1].startswith('      - "قيس الخزعلي"')
    assert lines[at + 1 : at + 3] == ["", "  # Organisations below."]
    assert main.read_bytes() == main_bytes
    entity = load_watchlist(main).entity("qais-al-khazali")
    assert "Qays al-Khazali" in entity.aliases

    result = run(runner, main, "entities", "alias", "remove", "qais-al-khazali", "قيس الخزعلي")
    assert result.exit_code == 0, result.output
    removed = people.read_text(encoding="utf-8")
    assert only_deletions(added, removed) == ['      - "قيس الخزعلي"       # Arabic']
    assert comment_lines(removed) == comment_lines(PEOPLE)
    assert main.read_bytes() == main_bytes


def test_flow_lists_and_single_quotes_stay_as_written(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    result = run(runner, main, "entities", "alias", "add", "asaib-ahl-al-haq", "AAH")
    assert result.exit_code == 0, result.output
    old, new = PEOPLE.splitlines(), people.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [
        ("    aliases: ['Asa''ib Ahl al-Haq']", "    aliases: ['Asa''ib Ahl al-Haq', \"AAH\"]")
    ]
    # An entity of channels.yaml itself is edited there.
    result = run(runner, main, "entities", "alias", "add", "cui-wei", "كوي وي")
    assert result.exit_code == 0, result.output
    assert '    aliases: ["Cui Wei", "كوي وي"]' in main.read_text(encoding="utf-8")


def test_an_alias_that_would_flag_every_post_is_refused_at_its_line_in_the_included_file(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    before = people.read_bytes()
    result = run(runner, main, "entities", "alias", "add", "qais-al-khazali", "ق")
    assert result.exit_code != 0
    assert f"{people}:9:9: alias 'ق' is too short to match safely" in result.output
    assert f"{people} is unchanged" in result.output
    assert people.read_bytes() == before


def test_entities_add_writes_the_main_file_or_the_included_one_asked_for(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    people_bytes = people.read_bytes()
    result = run(
        runner,
        main,
        "entities",
        "add",
        "hezbollah",
        "--name",
        "Hezbollah",
        "--kind",
        "organization",
        "--alias",
        "Hizballah",
        "--alias",
        "حزب الله",
    )
    assert result.exit_code == 0, result.output
    assert only_insertions(MAIN, main.read_text(encoding="utf-8")) == [
        "  - id: hezbollah",
        "    name: Hezbollah",
        "    kind: organization",
        "    aliases:",
        '      - "Hizballah"',
        '      - "حزب الله"',
    ]
    assert people.read_bytes() == people_bytes

    result = run(
        runner,
        main,
        "entities",
        "add",
        "kataib-hezbollah",
        "--name",
        "Kataib Hezbollah",
        "--kind",
        "organization",
        "--file",
        str(people),
    )
    assert result.exit_code == 0, result.output
    assert only_insertions(PEOPLE, people.read_text(encoding="utf-8"))[0] == (
        "  - id: kataib-hezbollah"
    )
    assert load_watchlist(main).entity("kataib-hezbollah").kind == "organization"


def test_an_entity_id_used_in_another_file_is_refused(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    before = main.read_bytes(), people.read_bytes()
    result = run(
        runner, main, "entities", "add", "qais-al-khazali", "--name", "Q", "--kind", "person"
    )
    assert result.exit_code != 0
    assert f"entity 'qais-al-khazali' is already in the watchlist ({people}:3)" in result.output
    assert (main.read_bytes(), people.read_bytes()) == before


def test_unknown_entity_and_unknown_alias_say_what_exists(
    runner: CliRunner, files: tuple[Path, Path]
) -> None:
    main, people = files
    before = people.read_bytes()
    result = run(runner, main, "entities", "alias", "add", "qais-khazali", "X Y")
    assert result.exit_code != 0
    assert "no entity 'qais-khazali'" in result.output
    assert "did you mean 'qais-al-khazali'?" in result.output
    result = run(runner, main, "entities", "alias", "remove", "qais-al-khazali", "Qais Khazali")
    assert result.exit_code != 0
    assert "has no alias 'Qais Khazali'; did you mean 'Qais al-Khazali'?" in result.output
    assert people.read_bytes() == before
