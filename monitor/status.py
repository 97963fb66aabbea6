"""What `monitor status` shows: the watchlist joined with the collector's stored state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alerts import outbox_counts
from monitor.config import load_watchlist
from monitor.scheduler import backoff
from monitor.settings import Settings
from storage import check_schema, create_engine
from storage.health import ChannelHealth, load_health
from storage.missing_media import ChannelMissingMedia, missing_media_by_channel
from storage.status import channel_status


async def collect_status(settings: Settings) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per channel in the watchlist (enabled or not), newest state from storage; and the
    alert outbox's rows per status."""
    watchlist = load_watchlist(settings.channels_file)
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            stored = {row.handle: row for row in await channel_status(conn=conn)}
            missing = await missing_media_by_channel(
                conn=conn, now=datetime.now(UTC), period=timedelta(days=settings.media_retry_days)
            )
            health = await load_health(conn=conn)
        alerts = await outbox_counts(engine)
    finally:
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
                **_photos_missing(
                    missing.get(state.channel_id) if state and "photo" in spec.media else None
                ),
                **_health(health.get(spec.key)),
            }
        )
    return rows, alerts


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
