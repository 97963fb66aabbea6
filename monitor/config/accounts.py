"""``accounts:`` in channels.yaml: the Telegram accounts workers collect with.

Secrets (API hash, a string session) come from the environment through ``${VAR}``; without an
``accounts:`` list the single account of the settings (MONITOR_TELEGRAM_*) is the only one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, SecretStr

__all__ = ["DEFAULT_ACCOUNT", "AccountSpec"]

DEFAULT_ACCOUNT = "default"


class AccountSpec(BaseModel):
    """One Telegram account. Unset credentials fall back to the settings' (MONITOR_TELEGRAM_*)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    #: Telethon session file; default ``<data_dir>/<name>.session`` (the settings' file for
    #: an account named "default").
    session_file: Path | None = None
    #: A Telethon StringSession, from the environment: ``session: "${TG_SESSION_2}"``.
    session: SecretStr | None = None
    api_id: PositiveInt | None = None
    api_hash: SecretStr | None = None
    #: messages.getHistory calls this account may make per 30 seconds (the workers keep the
    #: channels they give it within this budget at each channel's poll interval).
    history_per_30s: PositiveInt = 30
    #: Channels this account may join for live updates; 0: it never joins (every channel is
    #: polled, and channel admins never see the account among their subscribers).
    join_limit: NonNegativeInt = 500
