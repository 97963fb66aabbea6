"""What `monitor status` shows: the watchlist joined with the collector's stored state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts import outbox_counts
from monitor.config import load_watchlist
from monitor.scheduler import backoff
from storage import check_schema, create_engine
from storage.health import ChannelHealth, load_health
from storage.leases import channel_holders
from storage.missing_media import ChannelMissingMedia, missing_media_by_channel
from storage.status import channel_status

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from monitor.settings import Settings


async def collect_status(
    settings: Settings, engine: AsyncEngine | None = None
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per channel in the watchlist (enabled or not), newest state from storage; and the
    alert outbox's rows per status.

    Reads through ``engine`` when given (``monitor status`` passes the reading engine of
    :func:`storage.run_reading`), else through an engine of its own, disposed of at the end.
    """
    watchlist = load_watchlist(settings.channels_file)
    own = engine is None
    engine = create_engine(settings.database_url) if engine is None else engine
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            stored = {row.handle: row for row in await channel_status(conn=conn)}
            missing = await missing_media_by_channel(
                conn=conn, now=datetime.now(UTC), period=timedelta(days=settings.media_retry_days)
            )
            health = await load_health(conn=conn)
            holders = await channel_holders(conn=conn, at=datetime.now(UTC))  # several workers
        alerts = await outbox_counts(engine)
    finally:
        if own:
            await engine.dispose()
    rows = []
    for spec in watchlist.channels:
        state = stored.get(spec.key)
        next_poll: datetime | None = None
        note = None
        if not spec.enabled:
            note = "disabled"
        elif state is None or state.last_poll_at is None:
            note = "never polled"
        if state is not None:
            if state.flood_wait_until and (
                state.last_poll_at is None or state.flood_wait_until > state.last_poll_at
            ):
                next_poll = state.flood_wait_until
                note = f"flood wait until {state.flood_wait_until:%Y-%m-%d %H:%M:%S} UTC"
            elif state.last_poll_at is not None:
                next_poll = state.last_poll_at + backoff(spec.poll_every, state.consecutive_errors)
            if state.last_error:
                note = f"error: {state.last_error}"
        problem = health.get(spec.key)
        if problem is not None and problem.problem is not None:
            note = f"health: {problem.problem}" + (f"; {note}" if note else "")
        rows.append(
            {
                "channel": spec.key,
                "label": spec.label,
                "enabled": spec.enabled,
                "channel_id": state.channel_id if state else None,
                "title": state.title if state else None,
                "posts": state.posts if state else 0,
                "last_message_id": state.last_message_id if state else None,
                "last_post_at": state.last_post_at if state else None,
                "last_poll_at": state.last_poll_at if state else None,
                "next_poll_at": next_poll if spec.enabled else None,
                "flood_wait_until": state.flood_wait_until if state else None,
                "errors": state.consecutive_errors if state else 0,
                "last_error": state.last_error if state else None,
                "note": note,
                "worker": holders.get(spec.key),
                **_photos_missing(
                    missing.get(state.channel_id) if state and "photo" in spec.media else None
                ),
                **_health(health.get(spec.key)),
                "ocr": list(spec.ocr),
            }
        )
    return rows, alerts


async def ocr_status(settings: Settings, engine: AsyncEngine) -> dict[str, Any]:
    """Whether photos are read (OCR) and, when not, why: no Tesseract binary, no language data,
    no channel with ``ocr:``, or a channel asking for a language that is not installed. With
    the engine's version, the OCR channels and how many photos have a stored text."""
    from monitor.photos.ocr import OcrEngine
    from storage.media_text import count_texts

    watchlist = load_watchlist(settings.channels_file)
    channels = {spec.key: list(spec.ocr) for spec in watchlist.channels if spec.ocr}
    ocr = OcrEngine.discover(settings.ocr_tesseract)
    reason = ocr.reason
    if reason is None and not channels:
        reason = "not enabled for any channel (add `ocr: [ara, fas, eng]` to one in channels.yaml)"
    missing = sorted({code for langs in channels.values() for code in ocr.missing(langs)})
    if reason is None and missing:
        reason = f"no Tesseract data for {', '.join(missing)} (installed: " + (
            ", ".join(sorted(ocr.languages - {"osd"})) + ")"
        )
    async with engine.connect() as conn:
        read = await count_texts(conn=conn)
    return {
        "on": reason is None,
        "reason": reason,
        "engine": ocr.version,
        "languages": sorted(ocr.languages - {"osd"}),
        "channels": channels,
        "photos_read": read,
    }


def ocr_line(ocr: dict[str, Any]) -> str:
    """The status command's one line about OCR."""
    if not ocr["on"]:
        return f"OCR: off — {ocr['reason']}"
    channels = ", ".join(f"@{key} ({'+'.join(langs)})" for key, langs in ocr["channels"].items())
    return f"OCR: on ({ocr['engine']}) for {channels}; {ocr['photos_read']} photos read"


def _photos_missing(summary: ChannelMissingMedia | None) -> dict[str, Any]:
    """Photos Telegram refused: still retried (and when next), and given up."""
    return {
        "photos_missing": summary.missing if summary else 0,
        "photos_given_up": summary.given_up if summary else 0,
        "next_photo_retry_at": summary.next_retry if summary else None,
    }


def _health(row: ChannelHealth | None) -> dict[str, Any]:
    """The channel's open health problem (monitor.health): what, since when, and why."""
    open_ = row is not None and row.problem is not None
    return {
        "health": row.problem if open_ and row else "ok",
        "health_since": row.since if open_ and row else None,
        "health_detail": row.detail if open_ and row else None,
    }
