"""Settings and the CLI boundary: secrets masked, options applied, errors as one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.settings import load_settings

SECRET_HASH = "0123456789abcdef0123456789abcdef"
SECRET_SESSION = "1BVtsOK4Bu3tY0uR-secret-session-string"


def run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(app, list(args), env=env or {})


def test_config_show_masks_every_secret():
    env = {
        "MONITOR_TELEGRAM_API_ID": "12345",
        "MONITOR_TELEGRAM_API_HASH": SECRET_HASH,
        "MONITOR_TELEGRAM_SESSION": SECRET_SESSION,
        "MONITOR_DATABASE_URL": "postgresql+asyncpg://monitor:hunter2@db.example.org/monitor",
    }
    for args in (["config", "show"], ["config", "show", "--json"], ["--debug", "config", "show"]):
        result = run(*args, env=env)
        assert result.exit_code == 0, result.output
        for secret in (SECRET_HASH, SECRET_SESSION, "hunter2"):
            assert secret not in result.output
    values = json.loads(run("config", "show", "--json", env=env).output)
    assert values["telegram_api_hash"] == "**********"
    assert values["telegram_api_id"] == 12345
    assert values["database_url"] == "postgresql+asyncpg://monitor:***@db.example.org/monitor"


def test_settings_repr_never_shows_secrets():
    settings = load_settings(telegram_api_hash=SECRET_HASH, telegram_session=SECRET_SESSION)
    assert SECRET_HASH not in repr(settings) and SECRET_SESSION not in repr(settings)


def test_paths_derive_from_the_data_dir_and_options_win(tmp_path: Path):
    before = json.loads(run("--data-dir", str(tmp_path / "a"), "config", "show", "--json").output)
    assert before["data_dir"] == str(tmp_path / "a")
    assert before["media_dir"] == str(tmp_path / "a" / "media")
    assert before["database_url"].endswith(f"{tmp_path / 'a'}/monitor.db")
    after = json.loads(
        run(
            "--data-dir",
            str(tmp_path / "a"),
            "config",
            "show",
            "--json",
            "--data-dir",
            str(tmp_path / "b"),
            "--channels",
            str(tmp_path / "w.yaml"),
        ).output
    )
    assert after["data_dir"] == str(tmp_path / "b")  # the option after the command wins
    assert after["channels_file"] == str(tmp_path / "w.yaml")


def test_a_bad_setting_is_one_line_naming_the_variable():
    result = run("config", "show", env={"MONITOR_LOG_FORMAT": "xml"})
    assert result.exit_code != 0
    assert "MONITOR_LOG_FORMAT" in result.output
    assert "Traceback" not in result.output


def test_config_show_masks_a_password_given_as_a_query_parameter():
    env = {"MONITOR_DATABASE_URL": "postgresql+asyncpg://db.example.org/m?password=hunter2&ssl=on"}
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = run(*args, env=env)
        assert result.exit_code == 0, result.output
        assert "hunter2" not in result.output
    values = json.loads(run("config", "show", "--json", env=env).output)
    assert values["database_url"] == "postgresql+asyncpg://db.example.org/m?password=***&ssl=on"


def test_a_secret_variable_in_the_wrong_field_is_named_not_printed(tmp_path: Path):
    watchlist = tmp_path / "channels.yaml"
    watchlist.write_text(
        'defaults: {poll_every: "${DESK_WEBHOOK_URL}"}\n'
        "channels:\n"
        '  - handle: "@alpha_sim"\n'
        "alerts:\n"
        '  timezone: "${DESK_WEBHOOK_URL}"\n'
    )
    secret = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"

    result = run("channels", "check", str(watchlist), env={"DESK_WEBHOOK_URL": secret})

    assert result.exit_code != 0
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in result.output and "T1JJ3T3L2" not in result.output
    assert "bad duration '${DESK_WEBHOOK_URL}' in defaults" in result.output
    assert "unknown time zone '${DESK_WEBHOOK_URL}'" in result.output


def test_variables_fill_what_options_leave_and_names_ignore_case(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("monitor_log_level", "WARNING")  # pydantic-settings matched any case
    monkeypatch.setenv("MONITOR_MEDIA_RETRY_DAYS", " 7 ")
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("MONITOR_NOT_A_SETTING", "ignored")
    settings = load_settings(data_dir=tmp_path / "option", telegram_api_id=None)
    assert settings.log_level == "WARNING" and settings.media_retry_days == 7
    assert settings.data_dir == tmp_path / "option"  # the option wins
    assert settings.session_file == tmp_path / "option" / "telegram.session"
    assert settings.telegram_api_id is None and not settings.has_telegram_credentials


def test_every_bad_value_is_named_at_once(monkeypatch):
    from monitor.errors import ConfigError

    monkeypatch.setenv("MONITOR_TELEGRAM_API_ID", "12a")
    monkeypatch.setenv("MONITOR_MEDIA_RETRY_DAYS", "-1")
    monkeypatch.setenv("MONITOR_LANGUAGE_DETECTOR", "cld3")
    try:
        load_settings()
    except ConfigError as exc:
        message = str(exc)
    else:
        raise AssertionError("bad settings were accepted")
    assert message == (
        "invalid settings: MONITOR_TELEGRAM_API_ID: Input should be a valid integer, unable to "
        "parse string as an integer; MONITOR_LANGUAGE_DETECTOR: Input should be 'fast' or "
        "'langdetect'; MONITOR_MEDIA_RETRY_DAYS: Input should be greater than or equal to 0"
    )


def test_settings_are_frozen_and_survive_pickling_with_their_secrets():
    import pickle

    import pytest

    settings = load_settings(telegram_api_id="42", telegram_api_hash=SECRET_HASH)
    with pytest.raises(AttributeError, match="frozen"):
        settings.data_dir = Path("elsewhere")  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(settings))
    assert again == settings and again.telegram_api_id == 42
    assert again.telegram_api_hash is not None
    assert again.telegram_api_hash.get_secret_value() == SECRET_HASH
    assert SECRET_HASH not in repr(again) and SECRET_HASH not in str(again.telegram_api_hash)
    assert again.masked()["telegram_api_hash"] == "**********"


def test_the_demo_reads_photos_with_a_tesseract_per_core_unless_told(monkeypatch, tmp_path: Path):
    from monitor.demo import DEMO_OCR_WORKERS, demo_settings

    monkeypatch.delenv("MONITOR_OCR_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    base = load_settings(data_dir=tmp_path)
    assert base.ocr_workers == 1  # the daemon's default leaves the other cores to collection
    assert demo_settings(base).ocr_workers == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)), raising=False)
    assert demo_settings(base).ocr_workers == DEMO_OCR_WORKERS  # not 64 Tesseracts at once

    monkeypatch.setenv("monitor_ocr_workers", "1")  # set, in any case: it wins
    told = load_settings(data_dir=tmp_path)
    assert demo_settings(told).ocr_workers == 1
