"""`monitor match` on hostile input: each bad line is one error naming its line, no traceback;
the run stops there, after printing what matched before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

WATCHLIST = "entities:\n  - id: khazali\n    name: Qais al-Khazali\n"
GOOD = '{"id": 1, "text": "Qais al-Khazali spoke"}\n'
runner = CliRunner()


def run(tmp_path: Path, stdin: str | bytes, *more: str) -> tuple[int, str, str]:
    watchlist = tmp_path / "watch.yaml"
    watchlist.write_text(WATCHLIST, encoding="utf-8")
    result = runner.invoke(app, ["match", "--watchlist", str(watchlist), *more], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("bad_line", "says"),
    [
        (
            '{"id": 2, "text": "\\ud800 Qais al-Khazali"}',
            "the text holds a lone surrogate (\\ud800",
        ),
        ('{"id": "\\udc00", "text": "Qais al-Khazali"}', "the id holds a lone surrogate (\\udc00"),
        ('{"id": 2, "text": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
        ('{"id": NaN, "text": "Qais al-Khazali"}', "NaN is not a JSON value"),
        ('{"id": -Infinity, "text": "Qais al-Khazali"}', "-Infinity is not a JSON value"),
        (b'{"id": 2, "text": "Qais \xff al-Khazali"}', "not UTF-8 text (byte 25)"),
    ],
    ids=["surrogate-text", "surrogate-id", "deep-json", "nan-id", "infinity-id", "bad-utf8"],
)
def test_a_bad_line_is_one_error_naming_it_after_the_good_lines_output(
    tmp_path: Path, bad_line: str | bytes, says: str
) -> None:
    stdin = (
        GOOD.encode() + bad_line + b"\n" + GOOD.encode()
        if isinstance(bad_line, bytes)
        else GOOD + bad_line + "\n" + GOOD
    )
    code, out, err = run(tmp_path, stdin, "--json")
    assert code == 1
    assert err.startswith(f"error: stdin line 2: {says}"), err
    assert len(err.splitlines()) <= 2  # the message and its hint
    rows = [json.loads(line) for line in out.splitlines()]  # valid JSON, every line
    assert [row["id"] for row in rows] == [1]  # line 1 printed, line 3 never read
