"""Logging: structlog key-value events on stderr, as console lines or JSON.

Importing structlog costs a CLI command about 0.15 s (it loads Rich's tracebacks and Pygments),
so it is imported by :func:`configure_logging`, and :func:`configure_logging_on_demand` defers
even that until something logs or imports structlog.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from types import ModuleType
from typing import Any

from alerts.redact import install_apprise_filter, redact

SECRET_KEYS = frozenset({"api_hash", "session", "password", "telegram_api_hash", "token"})


def _drop_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in SECRET_KEYS & event.keys():
        event[key] = "**********"
    return event


def _redact_values(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Redact URLs (credentials, webhook tokens, secret query values) in every text value,
    the formatted traceback included."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact(value)
        elif isinstance(value, BaseException):
            event[key] = redact(f"{type(value).__name__}: {value}")
    return event


def configure_logging(*, fmt: str = "console", level: str = "INFO") -> None:
    """Send structlog and stdlib logging (Telethon, APScheduler) to stderr in one format."""
    import structlog

    # Tracebacks become plain text (never with local variables, which hold route URLs and
    # settings) and are redacted like every other value before either renderer sees them.
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact_values,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Telethon is chatty at INFO (connection notices); keep it to warnings unless debugging.
    logging.getLogger("telethon").setLevel("DEBUG" if level == "DEBUG" else "WARNING")
    install_apprise_filter()  # Apprise logs service URLs itself; redacted before any handler
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel("DEBUG" if level == "DEBUG" else "WARNING")


def get_logger(name: str) -> Any:
    """``structlog.get_logger(name)`` for a module that the CLI loads but that rarely logs:
    structlog is imported at the first call on it, not with the module."""
    return _LazyLogger(name)


class _LazyLogger:
    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._logger is None:
            import structlog

            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def configure_logging_on_demand(*, fmt: str = "console", level: str = "INFO") -> None:
    """:func:`configure_logging`, run only when first needed: at once if structlog is loaded,
    otherwise when a stdlib record reaches the root logger or when structlog is first imported.

    A command that never logs (``monitor flags list``) then never loads structlog; one that does
    logs exactly as if :func:`configure_logging` had run first.
    """
    if "structlog" in sys.modules:
        configure_logging(fmt=fmt, level=level)
        return
    for finder in [f for f in sys.meta_path if isinstance(f, _ConfigureOnImport)]:
        sys.meta_path.remove(finder)
    pending = _Pending(fmt, level)
    sys.meta_path.insert(0, _ConfigureOnImport(pending))
    root = logging.getLogger()
    root.handlers[:] = [_ConfigureOnRecord(pending)]
    root.setLevel(level)
    install_apprise_filter()  # before Apprise's first record, which may be the one that configures


class _Pending:
    """The configuration to apply once; the hook and the handler share it."""

    def __init__(self, fmt: str, level: str) -> None:
        self.fmt, self.level, self.done = fmt, level, False

    def apply(self) -> None:
        if self.done:
            return
        self.done = True
        for finder in [f for f in sys.meta_path if isinstance(f, _ConfigureOnImport)]:
            sys.meta_path.remove(finder)
        configure_logging(fmt=self.fmt, level=self.level)


class _ConfigureOnRecord(logging.Handler):
    """Stands in for the real handler until the first record, then configures and passes it on."""

    def __init__(self, pending: _Pending) -> None:
        super().__init__()
        self.pending = pending

    def emit(self, record: logging.LogRecord) -> None:
        self.pending.apply()  # replaces this handler and sets the per-library levels
        if logging.getLogger(record.name).isEnabledFor(record.levelno):
            for handler in logging.getLogger().handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)


class _ConfigureOnImport(importlib.abc.MetaPathFinder):
    """Configures logging right after structlog is imported, before any structlog logger runs."""

    def __init__(self, pending: _Pending) -> None:
        self.pending = pending

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "structlog":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenConfigure(spec.loader, self.pending)
        return spec


class _ThenConfigure(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, pending: _Pending) -> None:
        self.loader, self.pending = loader, pending

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _rich_tracebacks_hidden():
            self.loader.exec_module(module)
        self.pending.apply()


#: Rich modules structlog imports when it can, for features we never use: Rich tracebacks (and
#: Pygments) as the console's exception formatter (:func:`configure_logging` passes
#: ``plain_traceback``), and Rich's pretty-printer (and attrs) for the locals of a structured
#: traceback, which we never show. About 5 MB and 35 ms.
_RICH_UNUSED = ("rich.traceback", "rich.pretty")


@contextlib.contextmanager
def _rich_tracebacks_hidden() -> Iterator[None]:
    """While structlog imports, the modules of :data:`_RICH_UNUSED` read as missing (structlog
    then does without them); they stay importable for anything that wants them later."""
    hidden = [name for name in _RICH_UNUSED if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import finds "missing"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]

    def __getattr__(self, name: str) -> Any:  # get_source, get_resource_reader, ...
        return getattr(self.loader, name)
