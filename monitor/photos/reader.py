"""The OCR queue: photos of channels with ``ocr:`` are read after their batch is committed.

:meth:`OcrReader.after_commit` is a pipeline commit hook: it only puts jobs on an in-memory
queue, so collection never waits for a photo to be read. ``workers`` tasks take the jobs; each
photo is read once per SHA-256 (a stored text is reused, the same photo queued twice is read
once), off the event loop (:meth:`OcrEngine.read`). Then, in one transaction: the text is
stored, indexed for search beside the post, and matched by :meth:`Flagger.flag_photo_text`,
which writes ``ocr`` flags and queues their alerts.

A photo that fails to read is logged and skipped; the post, its photo and every other flag stay
as they were. Jobs still queued when the process stops are not saved, but nothing is missed: on
start :meth:`OcrReader.queue_unread` queues every archived photo of an OCR channel that has no
text yet (stopped mid-queue, or collected before the channel asked for OCR).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from monitor.flagging import Flagger
from monitor.photos.ocr import ENGINE, OcrEngine, OcrError
from monitor.pipeline import StoredBatch
from monitor.search.text import index_text
from storage import media_text as text_repo
from storage.media import MediaStore
from storage.search_index import index_media_text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["OcrJob", "OcrReader"]

log = structlog.get_logger(__name__)

# How long a one-shot command (`monitor collect`, `monitor demo`) waits for the photos it queued:
# about a second a photo on one core, so a first pass over a channel of posters takes a while.
FINISH_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class OcrJob:
    sha256: str
    relpath: str
    languages: tuple[str, ...]


@dataclass
class OcrTotals:
    read: int = 0  # photos read by the engine
    reused: int = 0  # photos whose text was already stored
    failed: int = 0
    flagged: int = 0  # new ocr flags


class OcrReader:
    """Reads the photos of OCR channels in the background and flags what their text names."""

    def __init__(
        self,
        engine: AsyncEngine,
        media: MediaStore,
        ocr: OcrEngine,
        flagger: Flagger,
        languages: Callable[[int], Sequence[str]],
    ) -> None:
        self.engine = engine
        self.media = media
        self.ocr = ocr
        self.flagger = flagger
        self.languages = languages  # channel id -> the channel's ``ocr:`` languages
        self.totals = OcrTotals()
        self._queue: asyncio.Queue[OcrJob] = asyncio.Queue()
        self._queued: set[str] = set()  # SHA-256 queued or being read: never twice at once
        self._workers: list[asyncio.Task[None]] = []

    async def after_commit(self, batch: StoredBatch) -> None:
        """Pipeline hook: queue the batch's new photos (of a channel with ``ocr:``)."""
        languages = tuple(self.languages(batch.channel_id))
        if not languages or not self.ocr.available:
            return
        new = set(batch.new)
        for record in batch.records:
            if batch.post_ids.get((record.channel_id, record.message_id)) not in new:
                continue
            for item in record.media:
                if item.kind == "photo" and item.sha256 and item.path:
                    self.submit(OcrJob(item.sha256, item.path, languages))

    async def queue_unread(self, channels: Mapping[int, Sequence[str]]) -> int:
        """Queue the archived photos of these channels (id -> ``ocr:`` languages) that have no
        stored text. Returns how many were queued."""
        if not self.ocr.available:
            return 0
        wanted = {cid: tuple(langs) for cid, langs in channels.items() if langs}
        async with self.engine.connect() as conn:
            unread = await text_repo.unread_photos(wanted, conn=conn)
        for channel_id, sha256, path in unread:
            self.submit(OcrJob(sha256, path, wanted[channel_id]))
        if unread:
            log.info("ocr_backlog", photos=len(unread))
        return len(unread)

    def submit(self, job: OcrJob) -> None:
        if job.sha256 in self._queued:
            return
        self._queued.add(job.sha256)
        self._queue.put_nowait(job)
        self._start()

    def _start(self) -> None:
        self._workers = [task for task in self._workers if not task.done()]
        while len(self._workers) < self.ocr.workers:
            self._workers.append(asyncio.create_task(self._work(), name="ocr-worker"))

    @property
    def pending(self) -> int:
        return len(self._queued)

    async def finish(self, seconds: float) -> int:
        """Wait up to ``seconds`` for the queued photos to be read; returns how many are left."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), seconds)
        return self.pending

    async def aclose(self) -> None:
        """Stop the workers; queued photos are abandoned (a read in progress is not stored)."""
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        self.ocr.close()
        if self._queued:
            log.info("ocr_abandoned", photos=len(self._queued))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self.process(job)
            except Exception:  # noqa: BLE001 - one photo's failure must not stop the others
                self.totals.failed += 1
                log.exception("ocr_failed", sha256=job.sha256)
            finally:
                self._queued.discard(job.sha256)
                self._queue.task_done()

    async def process(self, job: OcrJob) -> None:
        """Read one photo (unless its text is stored), then store, index and match its text."""
        async with self.engine.connect() as conn:
            stored = (await text_repo.get_texts([job.sha256], conn=conn)).get(job.sha256)
        if stored is None:
            try:
                data = await asyncio.to_thread(self.media.read, job.relpath)
                found = await self.ocr.read(data, job.languages)
            except (OcrError, OSError) as exc:
                self.totals.failed += 1
                log.warning("ocr_unreadable", sha256=job.sha256, error=str(exc))
                return
            self.totals.read += 1
            stored = text_repo.MediaText(
                sha256=job.sha256,
                text=found,
                languages="+".join(job.languages),
                engine=ENGINE,
                engine_version=self.ocr.version or "",
                created_at=datetime.now(UTC),
            )
        else:
            self.totals.reused += 1
        async with self.engine.begin() as conn:
            await text_repo.store_text(stored, conn=conn)
            posts = await text_repo.posts_with_media(job.sha256, conn=conn)
            await index_media_text(
                [p["post_id"] for p in posts if p["post_id"] is not None],
                job.sha256,
                index_text(stored.text),
                conn=conn,
            )
            # Flags only where a channel asked for OCR; search finds every post carrying it.
            wanted = [p for p in posts if self.languages(int(p["channel_id"] or 0))]
            flagged = await self.flagger.flag_photo_text(wanted, stored.sha256, stored.text, conn)
        self.totals.flagged += flagged
        log.info(
            "photo_read",
            sha256=job.sha256,
            chars=len(stored.text),
            posts=len(posts),
            flags=flagged,
        )


def languages_by_channel(
    keys: Mapping[int, str], specs: Callable[[], Mapping[str, Sequence[str]]]
) -> Callable[[int], Sequence[str]]:
    """channel id -> ``ocr:`` languages, through the pipeline's id -> key map and the current
    watchlist (a reload that turns OCR on or off counts from the next batch)."""

    def languages(channel_id: int) -> Sequence[str]:
        key = keys.get(channel_id)
        return specs().get(key, ()) if key is not None else ()

    return languages


def start_reader(
    engine: AsyncEngine,
    media: MediaStore,
    flagger: Flagger,
    *,
    binary: str | None,
    workers: int,
    keys: Mapping[int, str],
    specs: Callable[[], Mapping[str, Sequence[str]]],
) -> OcrReader:
    """An :class:`OcrReader` on the Tesseract found here (one that reads nothing, and says why
    in the log, when there is none)."""
    ocr = OcrEngine.discover(binary, workers=workers)
    if ocr.available:
        log.info("ocr_on", engine=ocr.version, languages=sorted(ocr.languages), workers=workers)
    else:
        log.warning("ocr_off", reason=ocr.reason)
    return OcrReader(engine, media, ocr, flagger, languages_by_channel(keys, specs))
