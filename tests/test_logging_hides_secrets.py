"""Log lines, tracebacks included, never show a secret: no local variables in console
tracebacks, and URLs redacted in every value, in our events and in other libraries' records."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from monitor.log import configure_logging

PASSWORD = "R0utePassw0rdSecret"
ROUTE = f"json://desk:{PASSWORD}@hooks.example.org/hook"


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _deliver(route_url: str) -> None:
    raise ConnectionError("the webhook refused the connection")


def _deliver_naming_the_url(route_url: str) -> None:
    raise ConnectionError(f"cannot reach {route_url}")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_traceback_shows_no_local_variable_holding_a_secret(fmt, capsys):
    configure_logging(fmt=fmt, level="DEBUG")
    try:
        _deliver(ROUTE)
    except ConnectionError:
        structlog.get_logger("test").exception("alert_sink_crashed", sink="json://hooks")

    err = capsys.readouterr().err
    assert "ConnectionError: the webhook refused the connection" in err  # the traceback is there
    assert "_deliver" in err
    assert PASSWORD not in err


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_urls_in_events_exceptions_and_other_libraries_records_are_redacted(fmt, capsys):
    configure_logging(fmt=fmt, level="DEBUG")
    log = structlog.get_logger("test")
    log.warning("route_failed", route=ROUTE, error=f"POST {ROUTE} failed")
    try:
        _deliver_naming_the_url(ROUTE)
    except ConnectionError:
        log.exception("alert_pass_failed")
        logging.getLogger("urllib3.connectionpool").exception("retrying %s", ROUTE)
    logging.getLogger("apprise").error("Unparseable URL %s.", ROUTE)

    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert err.count("json://desk:***@hooks.example.org/hook") == 6, err
