"""`monitor channels add|remove|enable|disable` edit channels.yaml in place: every comment
line stays byte for byte, nothing else moves, the result validates, and a refused edit leaves
the file's bytes as they were."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_watchlist
from tests.watchlist.conftest import comment_lines, only_deletions, only_insertions


def run(runner: CliRunner, channels_file: Path, *args: str):
    return runner.invoke(app, [*args, "--channels", str(channels_file)])


def test_add_keeps_every_comment_line_and_the_result_validates(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_text(encoding="utf-8")
    result = run(
        runner,
        channels_file,
        "channels",
        "add",
        "@new_source_sim",
        "--label",
        'Office "B", Basra',
        "--tags",
        "militia, basra",
        "--poll-every",
        "3m",
    )
    assert result.exit_code == 0, result.output
    assert "added @new_source_sim" in result.output
    assert "not checked with Telegram: no session" in result.output
    after = channels_file.read_text(encoding="utf-8")
    assert comment_lines(after) == comment_lines(before)
    assert len(comment_lines(before)) > 40  # the example file really is commented
    added = only_insertions(before, after)
    assert added == [
        '  - handle: "@new_source_sim"',
        '    label: "Office \\"B\\", Basra"',
        "    poll_every: 3m",
        "    tags: [militia, basra]",
    ]
    # Added under the last channel, above the comment block that opens `entities:`.
    lines = after.splitlines()
    at = lines.index('  - handle: "@new_source_sim"')
    assert lines[at - 1].lstrip().startswith("enabled: true")
    assert lines[at + 5].startswith("# Watched entities.")
    watchlist = load_watchlist(channels_file)
    channel = watchlist.channel("new_source_sim")
    assert channel.label == 'Office "B", Basra'
    assert channel.tags == ("militia", "basra")
    assert channel.poll_every.total_seconds() == 180
    assert channel.enabled


def test_adding_a_watched_channel_again_is_refused_and_the_file_is_untouched(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_bytes()
    # The same channel written another way (link, other case) is still a duplicate.
    result = run(runner, channels_file, "channels", "add", "https://t.me/KHAZALI_media_sim")
    assert result.exit_code != 0
    assert "@khazali_media_sim is already in the watchlist" in result.output
    assert f"{channels_file}:26" in result.output
    assert channels_file.read_bytes() == before


def test_an_add_that_would_not_validate_names_file_line_and_column_and_writes_nothing(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_bytes()
    # The position the new entry would have had: where a valid add of it puts its poll_every.
    valid = channels_file.with_name("valid.yaml")
    valid.write_bytes(before)
    assert run(runner, valid, "channels", "add", "@fast_sim", "--poll-every", "10s").exit_code == 0
    line = valid.read_text(encoding="utf-8").splitlines().index("    poll_every: 10s") + 1
    valid.unlink()
    result = run(runner, channels_file, "channels", "add", "@fast_sim", "--poll-every", "5s")
    assert result.exit_code != 0
    assert f"{channels_file}:{line}:17: poll_every '5s' is too short" in result.output
    assert "is unchanged" in result.output
    assert channels_file.read_bytes() == before
    assert [p.name for p in channels_file.parent.iterdir() if p.name != "data"] == [
        "channels.yaml"
    ]  # no temporary file left behind


def test_write_is_atomic_and_keeps_the_files_mode(runner: CliRunner, channels_file: Path) -> None:
    os.chmod(channels_file, 0o640)
    inode = channels_file.stat().st_ino
    result = run(runner, channels_file, "channels", "add", "@mode_sim")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(channels_file.stat().st_mode) == 0o640
    assert channels_file.stat().st_ino != inode  # a new file renamed over the old one
    assert [p.name for p in channels_file.parent.iterdir() if p.name != "data"] == ["channels.yaml"]


def test_removing_the_last_channel_keeps_the_comments_that_followed_it(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_text(encoding="utf-8")
    result = run(runner, channels_file, "channels", "remove", "@iran_akhbar_fa_sim")
    assert result.exit_code == 0, result.output
    after = channels_file.read_text(encoding="utf-8")
    assert only_deletions(before, after) == [
        '  - handle: "https://t.me/iran_akhbar_fa_sim"',
        '    label: "Akhbar, Persian (simulated)"',
        '    title_en: "Iran and Region News (simulation)"',
        "    tags: [news, iran, persian]",
        "    enabled: true         # set false to stop collecting a channel but keep its archive",
    ]
    assert [c.key for c in load_watchlist(channels_file).channels] == [
        "khazali_media_sim",
        "iraq_news_en_sim",
    ]


def test_removing_the_first_channel_keeps_the_comment_above_the_list(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_text(encoding="utf-8")
    result = run(runner, channels_file, "channels", "remove", "khazali_media_sim")
    assert result.exit_code == 0, result.output
    after = channels_file.read_text(encoding="utf-8")
    assert comment_lines(after) == comment_lines(before)
    assert len(only_deletions(before, after)) == 6  # handle, label, title_en, poll_every, tags, ocr


def test_removing_an_unknown_channel_suggests_the_nearest_and_writes_nothing(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_bytes()
    result = run(runner, channels_file, "channels", "remove", "@iraq_news_sim")
    assert result.exit_code != 0
    assert "no channel @iraq_news_sim" in result.output
    assert "did you mean @iraq_news_en_sim?" in result.output
    assert channels_file.read_bytes() == before


def test_disable_and_enable_touch_only_the_enabled_line(
    runner: CliRunner, channels_file: Path
) -> None:
    before = channels_file.read_text(encoding="utf-8")
    # A channel without `enabled:` gets one line, after its other keys.
    result = run(runner, channels_file, "channels", "disable", "@iraq_news_en_sim")
    assert result.exit_code == 0, result.output
    disabled = channels_file.read_text(encoding="utf-8")
    assert only_insertions(before, disabled) == ["    enabled: false"]
    assert not load_watchlist(channels_file).channel("iraq_news_en_sim").enabled
    # A channel with `enabled: true  # comment`: the value changes, its comment stays.
    result = run(runner, channels_file, "channels", "disable", "iran_akhbar_fa_sim")
    assert result.exit_code == 0, result.output
    text = channels_file.read_text(encoding="utf-8")
    assert (
        "    enabled: false        # set false to stop collecting a channel but keep its archive"
        in text.splitlines()
    )
    assert comment_lines(text) == comment_lines(before)
    result = run(runner, channels_file, "channels", "enable", "iran_akhbar_fa_sim")
    assert result.exit_code == 0, result.output
    assert load_watchlist(channels_file).channel("iran_akhbar_fa_sim").enabled
    # Nothing to change: said so, file untouched.
    unchanged = channels_file.read_bytes()
    result = run(runner, channels_file, "channels", "enable", "@khazali_media_sim")
    assert result.exit_code == 0
    assert "already enabled" in result.output
    assert channels_file.read_bytes() == unchanged


def test_add_disabled_writes_enabled_false(runner: CliRunner, channels_file: Path) -> None:
    result = run(runner, channels_file, "channels", "add", "@later_sim", "--disabled")
    assert result.exit_code == 0, result.output
    assert "added @later_sim (disabled)" in result.output
    assert not load_watchlist(channels_file).channel("later_sim").enabled


def test_add_with_no_resolve_says_it_did_not_check(runner: CliRunner, channels_file: Path) -> None:
    result = run(runner, channels_file, "channels", "add", "@unchecked_sim", "--no-resolve")
    assert result.exit_code == 0, result.output
    assert "not checked with Telegram (--no-resolve)" in result.output


def test_an_unset_variable_of_a_route_refuses_the_edit(
    runner: CliRunner, channels_file: Path, monkeypatch
) -> None:
    text = channels_file.read_text(encoding="utf-8").replace(
        '      url: "console://stderr"', '      url: "${DESK_HOOK_FOR_TEST}"'
    )
    channels_file.write_text(text, encoding="utf-8")
    monkeypatch.delenv("DESK_HOOK_FOR_TEST", raising=False)
    result = run(runner, channels_file, "channels", "add", "@later_sim", "--no-resolve")
    assert result.exit_code != 0
    assert "environment variable DESK_HOOK_FOR_TEST is not set" in result.output
    assert channels_file.read_text(encoding="utf-8") == text
    monkeypatch.setenv("DESK_HOOK_FOR_TEST", "json://127.0.0.1:9/hook")
    result = run(runner, channels_file, "channels", "add", "@later_sim", "--no-resolve")
    assert result.exit_code == 0, result.output
    assert "${DESK_HOOK_FOR_TEST}" in channels_file.read_text(encoding="utf-8")  # not expanded
