"""Flagging: match stored posts against the watchlist and write flags for the review desk.

Runs as a pipeline batch hook, inside the batch's transaction, so a post, its flags and their
alert outbox rows are committed together or not at all. The unit is the *post as the desk sees
it*: an album (messages sharing ``grouped_id``) is matched once, on its caption, and flagged on
its lead message.

Text read from a photo (OCR, :mod:`monitor.photos`) is matched by :meth:`Flagger.flag_photo_text`
with the same matcher. Its flags carry rule ``ocr`` and spans marked ``"in": "photo"`` with the
photo's SHA-256: they index the photo's text (``media_text``), not the post's. A photo only adds
entities the post is not flagged for yet: an entity the caption already named keeps its flag
(and its spans in the caption), so no alert goes out twice for it; a new entity is alerted like
a mention an edit brings (a follow-up when the post was alerted before).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from monitor.matching import Match, Matcher, snippet
from monitor.pipeline import StoredBatch
from storage import flags as flag_repo
from storage import post_queries
from storage.records import PostRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = structlog.get_logger(__name__)

OCR_RULE = "ocr"  # the rule of a flag found in a photo's text
PHOTO_SNIPPET_PREFIX = "[text in photo] "


def in_photo(spans: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a flag was found in a photo's text (its spans index that text, not the post's)."""
    return bool(spans) and all(span.get("in") == "photo" for span in spans)


@dataclass(frozen=True, slots=True)
class FlaggedPost:
    """A post unit that has new flags: handed to the alert hook in the same transaction."""

    post_id: int  # the lead message's post id
    channel_id: int
    grouped_id: int | None
    new_flags: Sequence[flag_repo.CreatedFlag]
    followup: bool  # True when the post already had flags (an edit brought a new mention)
    fresh: bool = False  # stored for the first time in this batch: nothing queued for it yet


FlaggedHook = Callable[[FlaggedPost, "AsyncConnection"], Awaitable[None]]
# Called once per batch with every post that got new flags, in order (e.g. queue their alerts
# with a few statements instead of a few per post).
FlaggedBatchHook = Callable[[Sequence[FlaggedPost], "AsyncConnection"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Unit:
    lead_post_id: int
    channel_id: int
    grouped_id: int | None
    text: str
    language: str | None
    edited: bool
    at: datetime
    fresh: bool = False  # a single message inserted in this batch


class Flagger:
    """Batch hook: matches new and edited posts and writes flags (idempotently)."""

    def __init__(
        self,
        matcher: Matcher,
        *,
        on_flagged: Sequence[FlaggedHook] = (),
        on_flagged_batch: Sequence[FlaggedBatchHook] = (),
    ) -> None:
        self.matcher = matcher
        self.on_flagged = list(on_flagged)
        self.on_flagged_batch = list(on_flagged_batch)
        self.flagged = 0

    def use(self, matcher: Matcher) -> None:
        """Swap in a recompiled watchlist (reload); the next batch uses it."""
        self.matcher = matcher

    async def __call__(self, batch: StoredBatch, conn: AsyncConnection) -> None:
        """Match every unit, then write the batch's flags with one statement."""
        pending: list[tuple[_Unit, dict[str, list[Match]], list[flag_repo.Flag]]] = []
        for unit in await self._units(batch, conn):
            by_entity = self._matches(unit)
            if not by_entity and not unit.edited:
                continue  # the common case: a new post that mentions nobody costs no query
            existing: list[flag_repo.Flag] = []
            if not unit.fresh:  # a message new in this batch has no flags yet
                existing = await flag_repo.list_flags(
                    conn=conn, post_id=unit.lead_post_id, limit=1000
                )
            if unit.edited:
                for old in existing:
                    if (
                        old.entity_id not in by_entity
                        and old.mention_removed_at is None
                        and not in_photo(old.spans)  # an edit of the caption leaves the photo
                    ):
                        await flag_repo.mark_mention_removed(old.id, conn=conn, at=unit.at)
                        log.info("mention_removed_in_edit", flag_id=old.id, entity=old.entity_id)
            if by_entity:
                pending.append((unit, by_entity, existing))
        if not pending:
            return
        created = await flag_repo.create_flags(
            [
                self._new_flag(unit, entity_id, found)
                for unit, by_entity, _ in pending
                for entity_id, found in by_entity.items()
            ],
            conn=conn,
        )
        by_post: dict[int, list[flag_repo.CreatedFlag]] = {}
        for item in created:
            by_post.setdefault(item.post_id, []).append(item)
        flagged: list[FlaggedPost] = []
        for unit, _, existing in pending:
            post = await self._flagged(unit, by_post[unit.lead_post_id], existing, conn)
            if post is not None:
                flagged.append(post)
        if flagged:
            for batch_hook in self.on_flagged_batch:
                await batch_hook(flagged, conn)

    async def flag_photo_text(
        self,
        posts: Sequence[Mapping[str, Any]],
        sha256: str,
        text: str,
        conn: AsyncConnection,
    ) -> int:
        """Flag each post (dicts with ``post_id``, ``channel_id``, ``grouped_id``) that carries the
        photo whose text is ``text``, for every entity the text names that the post is not
        flagged for yet. Queues the alerts like a batch does. Returns how many flags were new."""
        found = self.matcher.match(text) if text else []
        if not found:
            return 0
        by_entity: dict[str, list[Match]] = {}
        for match in found:
            by_entity.setdefault(match.entity_id, []).append(match)
        leads: dict[int, tuple[int, int | None]] = {}  # lead post id -> channel, album
        for row in posts:
            lead = int(row["post_id"])
            if row["grouped_id"] is not None:
                album = await post_queries.album_posts(
                    int(row["channel_id"]), int(row["grouped_id"]), conn=conn
                )
                lead = next((r for r in album if r["text"]), album[0])["id"]
            leads[lead] = (int(row["channel_id"]), row["grouped_id"])
        pending: list[tuple[_Unit, list[flag_repo.Flag]]] = []
        wanted: list[flag_repo.NewFlag] = []
        for lead, (channel_id, grouped_id) in leads.items():
            existing = await flag_repo.list_flags(conn=conn, post_id=lead, limit=1000)
            named = {f.entity_id for f in existing}
            unit = _Unit(lead, channel_id, grouped_id, text, None, False, datetime.now(UTC))
            fresh = [e for e in by_entity if e not in named]
            if not fresh:
                continue
            pending.append((unit, existing))
            wanted.extend(self._photo_flag(unit, e, by_entity[e], sha256) for e in fresh)
        if not wanted:
            return 0
        created = await flag_repo.create_flags(wanted, conn=conn)
        by_post: dict[int, list[flag_repo.CreatedFlag]] = {}
        for item in created:
            by_post.setdefault(item.post_id, []).append(item)
        flagged = [
            post
            for unit, existing in pending
            if (
                post := await self._flagged(
                    unit, by_post.get(unit.lead_post_id, []), existing, conn
                )
            )
        ]
        if flagged:
            for batch_hook in self.on_flagged_batch:
                await batch_hook(flagged, conn)
        return sum(len(post.new_flags) for post in flagged)

    @staticmethod
    def _photo_flag(
        unit: _Unit, entity_id: str, found: list[Match], sha256: str
    ) -> flag_repo.NewFlag:
        """A flag for words read in a photo: rule ``ocr``; the matcher's rule kept as ``match``;
        the spans index the photo's text (``in: photo``, its SHA-256)."""
        flag = Flagger._new_flag(unit, entity_id, found)
        photo = {"rule": OCR_RULE, "in": "photo", "sha256": sha256}
        return replace(
            flag,
            spans=[{**span, "match": span["rule"], **photo} for span in flag.spans],
            snippet=PHOTO_SNIPPET_PREFIX + flag.snippet,
            language=None,
        )

    async def _units(self, batch: StoredBatch, conn: AsyncConnection) -> list[_Unit]:
        """New and edited posts of the batch, albums folded into one unit each."""
        new = set(batch.new)
        touched = new | set(batch.changed)
        edited = set(batch.changed)
        units: list[_Unit] = []
        albums: dict[int, list[tuple[int, PostRecord]]] = {}
        for record in batch.records:
            post_id = batch.post_ids.get((record.channel_id, record.message_id))
            if post_id is None or post_id not in touched:
                continue
            if record.grouped_id is None:
                units.append(
                    _Unit(
                        post_id,
                        record.channel_id,
                        None,
                        record.text,
                        record.language,
                        post_id in edited,
                        batch.captured_at,
                        fresh=post_id in new,
                    )
                )
            else:
                albums.setdefault(record.grouped_id, []).append((post_id, record))
        for grouped_id, members in albums.items():
            channel_id = members[0][1].channel_id
            # The album may span batches: read every stored message of it, this batch included.
            rows = await post_queries.album_posts(channel_id, grouped_id, conn=conn)
            captioned = next((row for row in rows if row["text"]), rows[0])
            units.append(
                _Unit(
                    captioned["id"],
                    channel_id,
                    grouped_id,
                    captioned["text"] or "",
                    captioned["language"],
                    any(post_id in edited for post_id, _ in members),
                    batch.captured_at,
                )
            )
        return units

    def _matches(self, unit: _Unit) -> dict[str, list[Match]]:
        by_entity: dict[str, list[Match]] = {}
        for match in self.matcher.match(unit.text) if unit.text else []:
            by_entity.setdefault(match.entity_id, []).append(match)
        return by_entity

    @staticmethod
    def _new_flag(unit: _Unit, entity_id: str, found: list[Match]) -> flag_repo.NewFlag:
        return flag_repo.NewFlag(
            post_id=unit.lead_post_id,
            channel_id=unit.channel_id,
            grouped_id=unit.grouped_id,
            entity_id=entity_id,
            aliases=sorted({m.alias for m in found}),
            spans=[
                {"start": m.start, "end": m.end, "alias": m.alias, "rule": m.rule} for m in found
            ],
            snippet=snippet(unit.text, found),
            language=unit.language,
        )

    async def _flagged(
        self,
        unit: _Unit,
        created: list[flag_repo.CreatedFlag],
        existing: list[flag_repo.Flag],
        conn: AsyncConnection,
    ) -> FlaggedPost | None:
        new = [c for c in created if c.new]
        if not new:
            return None
        self.flagged += len(new)
        log.info(
            "post_flagged",
            post_id=unit.lead_post_id,
            entities=[c.entity_id for c in new],
            album=unit.grouped_id is not None,
        )
        flagged = FlaggedPost(
            post_id=unit.lead_post_id,
            channel_id=unit.channel_id,
            grouped_id=unit.grouped_id,
            new_flags=new,
            followup=bool(existing),
            fresh=unit.fresh,
        )
        for hook in self.on_flagged:
            await hook(flagged, conn)
        return flagged
