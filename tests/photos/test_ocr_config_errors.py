"""`ocr:` in channels.yaml: off by default; a bad value is an error naming the file, line and
channel (and, for a language Tesseract lacks, what is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import parse_watchlist
from monitor.config.loader import WatchlistError

GOOD = """\
channels:
  - handle: "@office"
    ocr: [ara, fas]
  - handle: "@wire_service"
"""


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["channels", "check", str(path)], env={"COLUMNS": "250"})
    return result.exit_code, " ".join(result.output.split())


def test_ocr_is_off_unless_a_channel_asks_for_it():
    watchlist = parse_watchlist(GOOD.replace("ocr: [ara, fas]", "ocr: [eng]"))
    assert [c.ocr for c in watchlist.channels] == [("eng",), ()]


def test_a_malformed_language_is_a_line_numbered_error(tmp_path):
    code, output = check(tmp_path, GOOD.replace("[ara, fas]", "[ara, Persian]"))
    assert code != 0
    assert f"{tmp_path / 'channels.yaml'}:3:" in output
    assert "'Persian' is not a Tesseract language code" in output and "@office" in output
    with pytest.raises(WatchlistError):
        parse_watchlist(GOOD.replace("[ara, fas]", "ara"))  # a list, not one word


def test_a_language_tesseract_lacks_names_channel_line_and_what_is_installed(tmp_path, tesseract):
    code, output = check(tmp_path, GOOD.replace("[ara, fas]", "[ara, kur]"))
    assert code != 0
    assert f"{tmp_path / 'channels.yaml'}:3:" in output
    assert "channel '@office' asks OCR for 'kur'" in output
    assert "installed: ara, eng, fas" in output
    assert check(tmp_path, GOOD)[0] == 0
