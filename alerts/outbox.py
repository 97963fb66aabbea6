"""The transactional outbox: queue alerts in the flag's transaction; list and retry them.

The unit of an alert is the post (an album is one post): one row per (post, route), naming every
watched entity the post mentions. A flag added later to a post already alerted on that route
queues one ``followup`` row that says what changed; a flag arriving while the first row is still
unsent is merged into it instead. Idempotency keys are deterministic:
``{route}:{channel_id}:{m<message_id>|g<grouped_id>}:{kind}:{n}``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import and_, func, select, update

from alerts.attachments import choose_photos, photo_files
from alerts.message import AlertMessage, Span
from alerts.routes import Route
from alerts.wakeup import notify_queued
from storage.models import alert_outbox, channel, entity, flag, post, post_media
from storage.photo_appearances import Appearance, first_elsewhere

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["digest_due_at", "enqueue_for_post", "enqueue_for_posts", "idempotency_key"]

log = structlog.get_logger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def idempotency_key(
    route: str, channel_id: int, message_id: int, grouped_id: int | None, kind: str, n: int
) -> str:
    unit = f"g{grouped_id}" if grouped_id is not None else f"m{message_id}"
    return f"{route}:{channel_id}:{unit}:{kind}:{n}"


def digest_due_at(now: datetime, window: timedelta) -> datetime:
    """The end of the digest window ``now`` falls in (windows are aligned to the epoch)."""
    elapsed = now - EPOCH
    return EPOCH + (elapsed // window + 1) * window


async def _photo_count(conn: AsyncConnection, row: Any) -> int:
    members = select(post.c.id).where(post.c.id == row.id)
    if row.grouped_id is not None:
        members = select(post.c.id).where(
            post.c.channel_id == row.channel_id, post.c.grouped_id == row.grouped_id
        )
    query = (
        select(func.count())
        .select_from(post_media)
        .where(post_media.c.post_id.in_(members), post_media.c.kind == "photo")
    )
    return int((await conn.execute(query)).scalar_one())


def _message(
    kind: str,
    route: str,
    row: Any,
    flags: Sequence[Any],
    photos: int,
    changes: Sequence[str] = (),
    flag_ids: Sequence[int] | None = None,
) -> AlertMessage:
    spans = [
        Span(
            start=int(s["start"]),
            end=int(s["end"]),
            alias=str(s.get("alias", "")),
            rule=str(s.get("rule", "")),
            entity=f.name,
        )
        for f in flags
        for s in (f.spans or [])
        if s.get("in") is None  # spans in a photo's text (OCR) do not index the post's text
    ]
    in_photos = [
        f"text in a photo names {f.name}: {f.snippet.removeprefix('[text in photo] ')}"
        for f in flags
        if any(s.get("in") == "photo" for s in (f.spans or []))
    ]
    changes = [*changes, *(c for c in in_photos if c not in changes)]
    return AlertMessage(
        kind=kind,
        route=route,
        channel_id=row.channel_id,
        message_id=row.message_id,
        grouped_id=row.grouped_id,
        channel_title=row.title or "",
        channel_username=row.username,
        entities=tuple(dict.fromkeys(f.name for f in flags)),
        spans=tuple(sorted(spans, key=lambda s: s.start)),
        text=row.text or "",
        posted_at=row.posted_at,
        language=row.language or (flags[0].language if flags else None),
        photo_count=photos,
        flag_ids=tuple(flag_ids if flag_ids is not None else (f.id for f in flags)),
        changes=tuple(changes),
    )


def _dressed(
    message: AlertMessage,
    route: Route,
    files: Sequence[tuple[str, int]],
    first: Appearance | None = None,
) -> AlertMessage:
    """The route's extras: the link to the post on the desk, and the photos it attaches; and
    where the post's photo was first posted when that was another post."""
    link = (
        f"{route.web_url}/post/{message.channel_id}/{message.message_id}" if route.web_url else ""
    )
    message = replace(message, desk_link=link, attachments=choose_photos(files, route))
    if first is None:
        return message
    return replace(
        message,
        photo_first_by=first.channel_name,
        photo_first_at=first.posted_at,
        photo_first_link=first.link,
    )


def _changes(new_flags: Sequence[Any], row: Any, since: datetime | None) -> list[str]:
    out = []
    if row.edited_at is not None and (since is None or row.edited_at > since):
        out.append(f"post edited at {row.edited_at:%Y-%m-%d %H:%M} UTC")
    for f in new_flags:
        aliases = ", ".join(f'"{a}"' for a in (f.aliases or [])) or "an alias"
        out.append(f"now mentions {f.name} ({aliases})")
    return out


async def enqueue_for_post(
    *,
    conn: AsyncConnection,
    post_id: int,
    routes: Iterable[Route],
    flags: Iterable[Any] | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Queue alerts for ``post_id`` on every route that wants one of its flags; returns row ids.

    Call it inside the transaction that created the flags (``conn`` sees them uncommitted).
    ``flags`` (flag ids or objects with ``.id``, e.g. storage's ``CreatedFlag``) limits which
    flags may trigger alerts; by default every flag of the post counts. Calling it again is
    harmless: flags already covered by a row for the route are skipped. Call it again after a
    review status change to reach routes with a higher ``min_status``.
    """
    return await enqueue_for_posts(conn=conn, posts=[(post_id, flags)], routes=routes, now=now)


async def enqueue_for_posts(
    *,
    conn: AsyncConnection,
    posts: Sequence[tuple[int, Iterable[Any] | None]],
    routes: Iterable[Route],
    now: datetime | None = None,
    fresh: Collection[int] = (),
) -> list[int]:
    """:func:`enqueue_for_post` for several ``(post_id, flags)`` (distinct posts) at once, with
    a handful of statements whatever their number (a batch of new posts): the same rows, in the
    same order, as calling it once per post. ``fresh``: ids of posts stored in this
    transaction, which cannot have outbox rows yet (not looked up: alert_outbox has no index on
    post_id, and a first pass queues for thousands of new posts).
    """
    now = now or datetime.now(UTC)
    routes = list(routes)
    post_ids = [post_id for post_id, _ in posts]
    if len(set(post_ids)) != len(post_ids):
        raise ValueError("enqueue_for_posts() takes each post once; merge its flags first")
    rows = await _load_posts(conn, post_ids)
    for post_id in post_ids:
        if post_id not in rows:
            raise LookupError(f"no post with id {post_id}")
    post_flags = await _load_flags(conn, post_ids)
    existing = await _load_outbox(conn, [p for p in post_ids if p not in fresh])
    photos = await _photo_counts(conn, list(rows.values()))
    files = (
        await photo_files(conn, list(rows.values())) if any(r.attach_photos for r in routes) else {}
    )
    firsts = await first_elsewhere([p for p in post_ids if photos[p]], conn=conn)
    created: list[int | dict[str, Any]] = []  # ids, or rows still to insert
    for post_id, flags in posts:
        row = rows[post_id]
        allowed = None if flags is None else {int(getattr(f, "id", f)) for f in flags}
        for route in routes:
            wanted = [
                f
                for f in post_flags.get(post_id, [])
                if route.wants(f.entity_id, row.channel_id, f.status, row.username)
            ]
            mine = [r for r in existing.get(post_id, []) if r.route == route.name]
            covered = {int(fid) for r in mine for fid in (r.flag_ids or [])}
            new = [
                f for f in wanted if f.id not in covered and (allowed is None or f.id in allowed)
            ]
            if not new:
                continue
            # Merge only into a row no sink has yet (a retried row may be partly sent: its key
            # is spent there, and receivers dedupe on it).
            unsent = [
                r
                for r in mine
                if r.status == "pending" and r.attempts == 0 and not (r.payload or {}).get("sent")
            ]
            if unsent and await _merge(
                conn,
                unsent[-1],
                route,
                row,
                wanted,
                new,
                photos[post_id],
                mine,
                files.get(post_id, ()),
                firsts.get(post_id),
            ):
                created.append(unsent[-1].id)
                continue
            kind = "followup" if mine else "alert"
            if kind == "alert":
                message = _message("alert", route.name, row, wanted, photos[post_id])
            else:
                changes = _changes(new, row, max(r.created_at for r in mine))
                message = _message(
                    "followup",
                    route.name,
                    row,
                    wanted,
                    photos[post_id],
                    changes,
                    [f.id for f in new],
                )
            message = _dressed(message, route, files.get(post_id, ()), firsts.get(post_id))
            row_kind = "digest" if route.digest else kind
            key = idempotency_key(
                route.name, row.channel_id, row.message_id, row.grouped_id, kind, len(mine)
            )
            due = digest_due_at(now, route.digest) if route.digest else now
            created.append(
                {
                    "idempotency_key": key,
                    "route": route.name,
                    "post_id": post_id,
                    "flag_ids": [f.id for f in new],
                    "kind": row_kind,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": due,
                    "created_at": now,
                    "payload": {"message": message.to_dict(), "sent": []},
                }
            )
            log.info("alert_queued", route=route.name, post_id=post_id, kind=kind, key=key)
    if created:  # new rows, or flags merged into unsent ones: senders elsewhere wake on commit
        await notify_queued(conn)
    inserts = [item for item in created if isinstance(item, dict)]
    if not inserts:
        return [item for item in created if isinstance(item, int)]
    # One multi-row statement; ids come back by idempotency key (unique), whatever the order.
    result = await conn.execute(
        alert_outbox.insert().returning(alert_outbox.c.id, alert_outbox.c.idempotency_key),
        inserts,
    )
    ids = {key: int(row_id) for row_id, key in result}
    return [item if isinstance(item, int) else ids[item["idempotency_key"]] for item in created]


async def _load_posts(conn: AsyncConnection, post_ids: Sequence[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for ids in _chunks(post_ids):
        query = (
            select(
                post.c.id,
                post.c.channel_id,
                post.c.message_id,
                post.c.grouped_id,
                post.c.text,
                post.c.posted_at,
                post.c.edited_at,
                post.c.language,
                channel.c.title,
                channel.c.username,
            )
            .select_from(post.join(channel, channel.c.id == post.c.channel_id))
            .where(post.c.id.in_(ids))
        )
        found.update({row.id: row for row in await conn.execute(query)})
    return found


async def _load_flags(conn: AsyncConnection, post_ids: Sequence[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for ids in _chunks(post_ids):
        query = (
            select(
                flag.c.id,
                flag.c.post_id,
                flag.c.entity_id,
                flag.c.status,
                flag.c.aliases,
                flag.c.spans,
                flag.c.snippet,
                flag.c.language,
                flag.c.mention_removed_at,
                flag.c.created_at,
                entity.c.name,
            )
            .select_from(flag.join(entity, entity.c.id == flag.c.entity_id))
            .where(flag.c.post_id.in_(ids), flag.c.mention_removed_at.is_(None))
            .order_by(flag.c.id)
        )
        for row in await conn.execute(query):
            found.setdefault(row.post_id, []).append(row)
    return found


async def _load_outbox(conn: AsyncConnection, post_ids: Sequence[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for ids in _chunks(post_ids):
        query = (
            select(
                alert_outbox.c.id,
                alert_outbox.c.post_id,
                alert_outbox.c.route,
                alert_outbox.c.kind,
                alert_outbox.c.status,
                alert_outbox.c.attempts,
                alert_outbox.c.flag_ids,
                alert_outbox.c.created_at,
                alert_outbox.c.payload,
            )
            .where(alert_outbox.c.post_id.in_(ids))
            .order_by(alert_outbox.c.id)
        )
        for row in await conn.execute(query):
            found.setdefault(row.post_id, []).append(row)
    return found


async def _photo_counts(conn: AsyncConnection, rows: Sequence[Any]) -> dict[int, int]:
    """Photos of each post's unit: the post itself, or every message of its album."""
    singles = [row.id for row in rows if row.grouped_id is None]
    counts: dict[int, int] = dict.fromkeys((row.id for row in rows), 0)
    for ids in _chunks(singles):
        query = (
            select(post_media.c.post_id, func.count())
            .where(post_media.c.post_id.in_(ids), post_media.c.kind == "photo")
            .group_by(post_media.c.post_id)
        )
        counts.update({post_id: int(n) for post_id, n in await conn.execute(query)})
    for row in rows:
        if row.grouped_id is not None:
            counts[row.id] = await _photo_count(conn, row)
    return counts


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    return (ids[start : start + size] for start in range(0, len(ids), size))


async def _merge(
    conn: AsyncConnection,
    target: Any,
    route: Route,
    row: Any,
    wanted: Sequence[Any],
    new: Sequence[Any],
    photos: int,
    mine: Sequence[Any],
    files: Sequence[tuple[str, int]] = (),
    first: Appearance | None = None,
) -> bool:
    """Fold ``new`` flags into an unsent row (so the desk gets one alert naming both)."""
    old = AlertMessage.from_dict(target.payload["message"])
    flag_ids = [*(int(f) for f in target.flag_ids or []), *(f.id for f in new)]
    if old.kind == "alert":
        message = _message("alert", route.name, row, wanted, photos)
    else:
        earlier = [r.created_at for r in mine if r.id != target.id]
        changes = _changes(
            [f for f in wanted if f.id in set(flag_ids)], row, max(earlier) if earlier else None
        )
        message = _message("followup", route.name, row, wanted, photos, changes, flag_ids)
    message = _dressed(message, route, files, first)
    result = await conn.execute(
        update(alert_outbox)
        .where(
            and_(
                alert_outbox.c.id == target.id,
                alert_outbox.c.status == "pending",
                alert_outbox.c.attempts == 0,
            )
        )
        .values(flag_ids=flag_ids, payload={"message": message.to_dict(), "sent": []})
    )
    return result.rowcount == 1
