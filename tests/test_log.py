"""Logging configured on demand: nothing loaded until something logs, then the same output.

Each case runs in a fresh interpreter: the deferral is about what ``sys.modules`` and
``sys.meta_path`` hold, which this test process has long since changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import json, logging, sys
from monitor.log import configure_logging_on_demand
configure_logging_on_demand(fmt=FMT, level=LEVEL)
assert "structlog" not in sys.modules, "configuring loaded structlog"
"""


def run(body: str, *, fmt: str = "console", level: str = "INFO") -> subprocess.CompletedProcess:
    code = f"FMT, LEVEL = {fmt!r}, {level!r}\n" + PRELUDE + textwrap.dedent(body)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_stdlib_record_configures_logging_and_is_rendered():
    result = run(
        """
        logging.getLogger("sqlalchemy.pool").warning("pool %s", "exhausted")
        assert "structlog" in sys.modules
        logging.getLogger("x").warning("second")
        """,
        fmt="json",
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["event"], line["level"]) for line in lines] == [
        ("pool exhausted", "warning"),
        ("second", "warning"),
    ]
    assert result.stdout == ""


def test_levels_hold_for_the_record_that_configures():
    """Telethon is kept to warnings from the start, not only after the first record."""
    result = run(
        """
        logging.getLogger("telethon.network").info("connected")
        logging.getLogger("x").debug("not at INFO")
        logging.getLogger("x").info("shown")
        """,
        fmt="json",
    )
    assert [json.loads(line)["event"] for line in result.stderr.splitlines()] == ["shown"]


def test_importing_structlog_configures_it_before_its_first_event():
    result = run(
        """
        import structlog
        structlog.get_logger("y").warning("sl_event", n=1, api_hash="abc123")
        """,
        fmt="json",
    )
    (line,) = (json.loads(line) for line in result.stderr.splitlines())
    assert line["event"] == "sl_event" and line["n"] == 1
    assert line["api_hash"] != "abc123"
    assert result.stdout == ""  # structlog's unconfigured default would print to stdout


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_lazy_module_logger_logs_like_structlog(fmt):
    result = run(
        """
        from monitor.log import get_logger
        log = get_logger("monitor.example")
        assert "structlog" not in sys.modules
        log.warning("cache_ignored", path="/tmp/x")
        log.info("hidden at WARNING")
        """,
        fmt=fmt,
        level="WARNING",
    )
    assert "cache_ignored" in result.stderr and "/tmp/x" in result.stderr
    assert "hidden" not in result.stderr
    assert result.stdout == ""


def test_already_loaded_structlog_is_configured_at_once():
    code = textwrap.dedent(
        """
        import structlog, sys
        from monitor.log import configure_logging_on_demand
        configure_logging_on_demand(fmt="json", level="INFO")
        assert structlog.is_configured()
        structlog.get_logger("z").info("now")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr)["event"] == "now"
