"""``accounts:`` in channels.yaml: several Telegram accounts, secrets from the environment,
mistakes reported with their place; no list means the settings' single account."""

from __future__ import annotations

from pathlib import Path

from monitor.accounts import account_named, account_settings, accounts_of
from monitor.errors import ConfigError
from monitor.settings import load_settings

TWO = """\
channels:
  - handle: "@alpha_news"
accounts:
  - name: desk_one
    api_id: 111
    api_hash: "${HASH_ONE}"
    session: "${SESSION_ONE}"
    history_per_30s: 20
  - name: desk_two
    session_file: /srv/monitor/two.session
"""


def test_accounts_read_with_secrets_from_the_environment(parse):
    watchlist = parse(TWO, env={"HASH_ONE": "h" * 32, "SESSION_ONE": "1AbCd"})

    one, two = accounts_of(watchlist)

    assert (one.name, one.api_id, one.history_per_30s, one.join_limit) == ("desk_one", 111, 20, 500)
    assert one.api_hash is not None and one.api_hash.get_secret_value() == "h" * 32
    assert "h" * 32 not in repr(one)  # a secret never shows in logs or errors
    assert two.session_file == Path("/srv/monitor/two.session") and two.history_per_30s == 30


def test_no_accounts_list_means_the_settings_account_named_default(parse):
    watchlist = parse('channels:\n  - handle: "@alpha_news"\n')
    assert [a.name for a in accounts_of(watchlist)] == ["default"]


def test_each_account_gets_its_own_credentials_and_session(parse, tmp_path: Path, monkeypatch):
    for key in ("MONITOR_TELEGRAM_SESSION", "MONITOR_SESSION_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MONITOR_TELEGRAM_API_ID", "999")
    monkeypatch.setenv("MONITOR_TELEGRAM_API_HASH", "d" * 32)
    watchlist = parse(TWO, env={"HASH_ONE": "h" * 32, "SESSION_ONE": "1AbCd"})
    settings = load_settings(data_dir=tmp_path)

    one = account_settings(settings, account_named(watchlist, "desk_one"))
    two = account_settings(settings, account_named(watchlist, "desk_two"))

    assert one.telegram_api_id == 111 and one.telegram_api_hash is not None
    assert one.telegram_api_hash.get_secret_value() == "h" * 32
    assert one.telegram_session is not None and one.telegram_session.get_secret_value() == "1AbCd"
    # Unset credentials fall back to the settings'; never the default account's session.
    assert two.telegram_api_id == 999 and two.telegram_session is None
    assert two.session_file == Path("/srv/monitor/two.session")
    assert settings.session_file != two.session_file


def test_unknown_account_name_lists_the_known_ones(parse):
    watchlist = parse(TWO, env={"HASH_ONE": "x", "SESSION_ONE": "y"})
    try:
        account_named(watchlist, "desk_three")
    except ConfigError as exc:
        assert "no account named 'desk_three'" in str(exc)
        assert exc.hint is not None and "desk_one, desk_two" in exc.hint
    else:
        raise AssertionError("an unknown account was accepted")


def test_account_mistakes_are_reported_with_their_place(problems):
    lines = problems(
        """\
        accounts:
          - name: one
          - name: two
            api_hsah: "x"
          - name: "bad name!"
          - name: one
        """
    )
    assert any("4:5" in line and "unknown key 'api_hsah' in account #2" in line for line in lines)
    assert any("did you mean 'api_hash'" in line for line in lines), lines
    assert any(line.startswith("channels.yaml:5:") and "account #3" in line for line in lines)
    assert any("account 'one' is named twice" in line for line in lines), lines
