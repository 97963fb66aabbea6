"""Stored text (channel titles, post text, snippets, notes, entity names, rule names) prints
literally in `flags list` and `flags show`: never as Rich markup, never as terminal controls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.flagging.desk import Flagged, flags_json, run, small_archive

LINK_TITLE = "[link=https://evil.example/login]Official news[/link]"
BOLD_CLOSE = "[/bold] closing"
CONTROLS = ("\x1b", "\x9b", "\x07", "\r")
TEXT = (
    "Qais al-Khazali met [red]nobody[/red] \x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
    " \x9b31m [/bold] end"
)


@pytest.fixture
def env(migrated_url, tmp_path):
    return small_archive(
        migrated_url,
        tmp_path,
        [Flagged(TEXT, datetime(2024, 5, 13, 9, tzinfo=UTC))],
        channel={"title": f"{LINK_TITLE} {BOLD_CLOSE}\x1b[31m\r"},
        entities=[("qais", "[bold]Qais[/] al-Khazali", "person", [], ["Qais al-Khazali"])],
    )


def test_flags_show_prints_stored_text_literally(env):
    [flag] = flags_json(env)
    run(env, "flags", "set", str(flag["id"]), "--status", "confirmed", "--note", "[/] see [i]x")

    shown = run({**env, "COLUMNS": "300"}, "flags", "show", str(flag["id"]))

    assert f"channel: {LINK_TITLE} {BOLD_CLOSE}[31m ·" in shown
    assert "[bold]Qais[/] al-Khazali (qais)" in shown
    assert "Qais al-Khazali [exact] @0" in shown  # the rule name, not swallowed as markup
    assert "note: [/] see [i]x" in shown
    assert "met [red]nobody[/red] [2J]8;;https://evil.example" in shown
    assert "[/bold] end" in shown
    for control in CONTROLS:
        assert control not in shown


@pytest.mark.parametrize("by_post", [False, True])
def test_flags_list_prints_stored_text_literally(env, by_post):
    options = ["--by-post"] if by_post else []

    listed = run({**env, "COLUMNS": "300"}, "flags", "list", *options)

    assert f"{LINK_TITLE} {BOLD_CLOSE}[31m" in listed  # the channel title, whole at this width
    assert "met [red]nobody[/red]" in listed
    for control in CONTROLS:
        assert control not in listed
