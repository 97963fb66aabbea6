"""The Telegram accounts a worker may collect with: channels.yaml's ``accounts:``, or the one
account of the settings. Each account's credentials become a copy of the settings, so the
client code (monitor.telegram) serves every account unchanged."""

from __future__ import annotations

from monitor.config import Watchlist
from monitor.config.accounts import DEFAULT_ACCOUNT, AccountSpec
from monitor.errors import ConfigError
from monitor.settings import Settings

__all__ = ["account_named", "account_settings", "accounts_of"]


def accounts_of(watchlist: Watchlist) -> list[AccountSpec]:
    """The configured accounts, or the settings' single account named "default"."""
    return list(watchlist.accounts) or [AccountSpec(name=DEFAULT_ACCOUNT)]


def account_named(watchlist: Watchlist, name: str) -> AccountSpec:
    for spec in accounts_of(watchlist):
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in accounts_of(watchlist))
    raise ConfigError(
        f"no account named '{name}' in {watchlist.source}",
        hint=f"accounts: {known}; add it under `accounts:`",
    )


def account_settings(settings: Settings, spec: AccountSpec) -> Settings:
    """The settings with ``spec``'s credentials and session in place of the default ones."""
    update: dict[str, object] = {}
    if spec.api_id is not None:
        update["telegram_api_id"] = spec.api_id
    if spec.api_hash is not None:
        update["telegram_api_hash"] = spec.api_hash
    if spec.name != DEFAULT_ACCOUNT or spec.session is not None or spec.session_file:
        update["telegram_session"] = spec.session  # never the default account's login
        update["session_file"] = spec.session_file or settings.data_dir / f"{spec.name}.session"
    return settings.replace(**update) if update else settings
