"""``/healthz`` (no login: database reachable, age of the collector's last poll) and ``/metrics``
(Prometheus text format; operators and admins, by session or HTTP Basic)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from monitor.web.auth import NotLoggedIn, require
from monitor.web.passwords import check_password
from storage.desk_queries import archive_figures, database_alive
from storage.users import get_user

__all__ = ["healthz", "metrics", "prometheus_text"]

log = structlog.get_logger(__name__)


async def healthz(request: Request) -> Response:
    now = datetime.now(UTC)
    try:
        async with request.app.state.engine.connect() as conn:
            last_poll = await database_alive(conn=conn)
    except Exception as exc:  # noqa: BLE001 - any failure means the database is not reachable
        log.warning("healthz_database_unreachable", error=type(exc).__name__)
        return JSONResponse({"status": "fail", "database": "unreachable"}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "last_poll_at": last_poll.isoformat() if last_poll else None,
            "last_poll_age_seconds": round((now - last_poll).total_seconds(), 1)
            if last_poll
            else None,
        }
    )


async def _basic_user(request: Request) -> Any:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        name, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    address = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    if limiter.retry_after(address, name):
        return None
    async with request.app.state.engine.connect() as conn:
        user = await get_user(name, conn=conn)
    if user is None or not user.active or not check_password(user.password_hash, password):
        limiter.failed(address, name)
        return None
    return user


async def metrics(request: Request) -> Response:
    user = request.state.user or await _basic_user(request)
    if user is None:
        raise NotLoggedIn
    request.state.user = user
    require(request, "operate")
    async with request.app.state.engine.connect() as conn:
        figures = await archive_figures(conn=conn)
    return PlainTextResponse(
        prometheus_text(figures, now=datetime.now(UTC)),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(figures: dict[str, Any], *, now: datetime) -> str:
    """The archive's figures in the Prometheus text exposition format (pure)."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    def channel_labels(channel_id: Any, username: Any) -> str:
        return f'{{channel_id="{channel_id}",channel="{_label(username or "")}"}}'

    family(
        "monitor_posts",
        "gauge",
        "Posts archived, per channel.",
        [(channel_labels(cid, name), n) for cid, name, n in figures["posts"]],
    )
    family(
        "monitor_flags",
        "gauge",
        "Flags by review status.",
        [(f'{{status="{_label(s)}"}}', n) for s, n in sorted(figures["flags"].items())],
    )
    family(
        "monitor_alerts",
        "gauge",
        "Alert outbox rows by status (delivered, failed, pending, sending).",
        [(f'{{status="{_label(s)}"}}', n) for s, n in sorted(figures["alerts"].items())],
    )
    lag: list[tuple[str, float]] = []
    flood: list[tuple[str, float]] = []
    errors: list[tuple[str, float]] = []
    for state in figures["channels"]:
        labels = channel_labels(state["channel_id"], state["username"])
        due = state["next_poll_at"]
        if due is not None:  # none scheduled (a one-shot `collect`): no lag to speak of
            lag.append((labels, max(0.0, (now - due).total_seconds())))
        until = state["flood_wait_until"]
        flood.append((labels, max(0.0, (until - now).total_seconds()) if until else 0.0))
        errors.append((labels, state["consecutive_errors"]))
    family(
        "monitor_poll_lag_seconds",
        "gauge",
        "How long past its next scheduled poll each channel is (0 when on time; absent when none is scheduled).",
        lag,
    )
    family(
        "monitor_flood_wait_seconds",
        "gauge",
        "Seconds of Telegram flood wait left per channel.",
        flood,
    )
    family(
        "monitor_channel_consecutive_errors",
        "gauge",
        "Consecutive collection errors per channel.",
        errors,
    )
    return "\n".join(lines) + "\n"
