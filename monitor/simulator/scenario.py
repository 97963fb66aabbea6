"""Load a scenario file into a :class:`Backend` and play its timeline.

    scenario = load_scenario("seed")          # the packaged scenarios/seed.yaml
    scenario.apply_history()                  # every event up to ``now``, at once, in time order
    await scenario.play_live(speed=1.0)       # then the ``in:`` (and future) events as time comes

History is applied in time order (file order breaks ties), so message ids rise with dates as on
Telegram. Channel ids and access hashes derive from the scenario's ``seed`` (or are fixed in the
file); message ids follow from the order; photos are generated from their seeds. The same file
therefore gives the same ids, dates and photo bytes on every run.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from monitor.simulator.model import Backend, SimChannel, SimForward, SimulatorError
from monitor.simulator.photos import derive_jpeg, generate_jpeg
from monitor.simulator.scenario_file import (
    EventSpec,
    PhotoSpec,
    ScenarioError,
    ScenarioSpec,
    parse_scenario,
)

__all__ = ["Scenario", "ScenarioError", "load_scenario", "scenario_names"]

_PACKAGE = "monitor.simulator.scenarios"


@dataclass(frozen=True)
class _Step:
    """An event scheduled for live play: ``delay`` seconds of scenario time after play starts."""

    delay: float
    event: EventSpec
    when: datetime


def scenario_names() -> list[str]:
    """Names of the packaged scenarios (``seed``, ...)."""
    return sorted(p.name[:-5] for p in files(_PACKAGE).iterdir() if p.name.endswith(".yaml"))


def load_scenario(
    name_or_path: str | Path, *, backend: Backend | None = None, now: datetime | None = None
) -> Scenario:
    """Parse a scenario, create its channels in ``backend`` (a new one by default) and plan its
    timeline around ``now`` (default: the current time). Nothing is posted until
    :meth:`Scenario.apply_history` or :meth:`Scenario.play_live`."""
    resource, base, source = _locate(name_or_path)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{source}: cannot read the scenario: {exc}") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    spec = parse_scenario(data, source)
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be a timezone-aware datetime")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return Scenario(spec, backend or Backend(seed=spec.seed), moment, base)


class Scenario:
    """A loaded scenario bound to a backend. ``channels`` maps the file's channel keys to
    :class:`SimChannel`; ``refs`` maps each ``ref:`` to ``(channel_id, message_id)`` once posted
    (an album's ref names its first message, the one with the caption); ``albums`` maps an
    album's ref to all its ``(channel_id, message_id)``."""

    def __init__(
        self, spec: ScenarioSpec, backend: Backend, now: datetime, base: Traversable
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.now = now
        self.source = spec.source
        self.notice = spec.notice
        self._base = base
        self.refs: dict[str, tuple[int, int]] = {}
        self.albums: dict[str, list[tuple[int, int]]] = {}
        self.channels: dict[str, SimChannel] = {
            key: self._add_channel(key) for key in spec.channels
        }
        self._history, self._pending = self._plan()
        self._history_applied = False

    @property
    def pending(self) -> int:
        """How many events are still waiting for live play."""
        return len(self._pending) + (0 if self._history_applied else len(self._history))

    def apply_history(self) -> int:
        """Apply every event dated at or before ``now``, in time order. Idempotent; returns how
        many events were applied."""
        if self._history_applied:
            return 0
        self._history_applied = True
        for event in self._history:
            assert event.at is not None
            self._apply(event, event.at)
        return len(self._history)

    async def play_live(self, speed: float = 1.0) -> int:
        """Apply the remaining events as their time comes (``in:`` offsets count from this call;
        future ``at:`` times from ``now``), ``speed`` times faster than real time
        (``math.inf``: at once). Applies the history first if that has not happened."""
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.apply_history()
        loop = asyncio.get_running_loop()
        start = loop.time()
        applied = 0
        while self._pending:
            step = self._pending[0]
            wait = 0.0 if math.isinf(speed) else start + step.delay / speed - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._pending.pop(0)
            self._apply(step.event, step.when)
            applied += 1
        return applied

    # -- planning --------------------------------------------------------------------------------

    def _plan(self) -> tuple[list[EventSpec], list[_Step]]:
        history = sorted(
            (e for e in self.spec.events if e.at is not None and e.at <= self.now),
            key=lambda e: e.at or self.now,
        )
        pending = []
        for event in self.spec.events:
            if event.live is not None:
                pending.append(_Step(event.live.total_seconds(), event, self.now + event.live))
            elif event.at is not None and event.at > self.now:
                pending.append(_Step((event.at - self.now).total_seconds(), event, event.at))
        pending.sort(key=lambda s: s.delay)  # stable: file order breaks ties
        self._check_order([*history, *(s.event for s in pending)])
        return history, pending

    def _check_order(self, order: list[EventSpec]) -> None:
        """Refs are used only after they are posted and before they are deleted; replies stay in
        their channel. Checked before anything is applied, so a bad file changes nothing."""
        posted: dict[str, EventSpec] = {}
        deleted: set[str] = set()
        later = {e.ref: e for e in order if e.ref}
        for event in order:
            for used in (event.target, event.reply_to, event.forward):
                if not used:
                    continue
                if used not in posted:
                    raise ScenarioError(
                        f"{self.source}: {event.where}: ref '{used}' is not posted yet at that "
                        f"time (it is posted by {later[used].where})"
                    )
                if used in deleted and event.kind != "delete":
                    raise ScenarioError(
                        f"{self.source}: {event.where}: ref '{used}' is already deleted"
                    )
            if event.reply_to and posted[event.reply_to].channel != event.channel:
                raise ScenarioError(
                    f"{self.source}: {event.where}: 'reply_to: {event.reply_to}' is in another "
                    "channel; replies stay in their channel (use 'forward:' to quote another)"
                )
            if event.kind == "delete" and event.target:
                deleted.add(event.target)
            if event.ref:
                posted[event.ref] = event

    # -- applying --------------------------------------------------------------------------------

    def _add_channel(self, key: str) -> SimChannel:
        spec = self.spec.channels[key]
        stable = spec.username or key
        try:
            channel = self.backend.add_channel(
                spec.username,
                spec.title,
                about=spec.about,
                participants=spec.participants,
                channel_id=spec.id or 1_000_000_000 + self._derive("channel", stable) % 900_000_000,
                access_hash=spec.access_hash or self._derive("access_hash", stable) - (1 << 62),
                photo=self._photo_bytes(spec.photo, f"channels '{key}'") if spec.photo else None,
                date=spec.created,
            )
        except SimulatorError as exc:
            raise ScenarioError(f"{self.source}: channel '{key}': {exc}") from None
        if spec.joined:
            self.backend.join("default", channel.id)
        return channel

    def _derive(self, *parts: object) -> int:
        material = ":".join([str(self.spec.seed), *map(str, parts)]).encode()
        return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") >> 1

    def _apply(self, event: EventSpec, when: datetime) -> None:
        try:
            getattr(self, f"_do_{event.kind}")(event, when)
        except SimulatorError as exc:
            raise ScenarioError(f"{self.source}: {event.where}: {exc}") from None

    def _do_post(self, event: EventSpec, when: datetime) -> None:
        cid = self.channels[event.channel or ""].id
        kw: dict = dict(event.counters)
        photo = self._photo_bytes(event.photos[0], event.where) if event.photos else None
        text = event.text
        if event.reply_to:
            kw["reply_to"] = self.refs[event.reply_to][1]
        if event.forward:
            source = [self.backend.message(*m) for m in self._messages(event.forward)]
            src_cid = self._messages(event.forward)[0][0]
            text = text or source[0].text
            if len(source) > 1:  # an album is forwarded whole; each copy names its original
                grouped_id = self._derive("forwarded_album", cid, event.index)
                ids = [
                    self.backend.post(
                        cid,
                        text if i == 0 else "",
                        date=when,
                        photo=original.photo.largest if original.photo else None,
                        grouped_id=grouped_id,
                        fwd_from=SimForward(src_cid, original.id, original.date),
                        **kw,
                    ).id
                    for i, original in enumerate(source)
                ]
                self._remember(event, cid, ids)
                return
            kw["fwd_from"] = SimForward(src_cid, source[0].id, source[0].date)
            if photo is None and source[0].photo is not None:
                photo = source[0].photo.largest
        message = self.backend.post(cid, text, date=when, photo=photo, **kw)
        self._remember(event, cid, [message.id])

    def _do_album(self, event: EventSpec, when: datetime) -> None:
        cid = self.channels[event.channel or ""].id
        photos = [self._photo_bytes(p, event.where) for p in event.photos]
        messages = self.backend.post_album(cid, photos, event.text, date=when, **event.counters)
        self._remember(event, cid, [m.id for m in messages])

    def _do_edit(self, event: EventSpec, when: datetime) -> None:
        self.backend.edit(*self.refs[event.target or ""], event.text, date=when)

    def _do_delete(self, event: EventSpec, when: datetime) -> None:
        messages = self._messages(event.target or "")
        self.backend.delete(messages[0][0], [mid for _, mid in messages])

    def _do_bump(self, event: EventSpec, when: datetime) -> None:
        self.backend.bump(*self.refs[event.target or ""], **event.counters)

    def _do_pin(self, event: EventSpec, when: datetime) -> None:
        self.backend.pin(*self.refs[event.target or ""])

    def _do_unpin(self, event: EventSpec, when: datetime) -> None:
        self.backend.unpin(*self.refs[event.target or ""])

    def _do_rename(self, event: EventSpec, when: datetime) -> None:
        self.backend.rename_channel(self.channels[event.channel or ""].id, **event.rename)

    def _do_expire_file_reference(self, event: EventSpec, when: datetime) -> None:
        for cid, mid in self._messages(event.target or ""):
            self.backend.expire_file_reference(cid, mid)

    def _remember(self, event: EventSpec, cid: int, ids: list[int]) -> None:
        if event.pinned:  # an album is pinned by its first message, the one with the caption
            self.backend.pin(cid, ids[0])
        if event.ref:
            self.refs[event.ref] = (cid, ids[0])
            if len(ids) > 1:
                self.albums[event.ref] = [(cid, mid) for mid in ids]

    def _messages(self, ref: str) -> list[tuple[int, int]]:
        return self.albums.get(ref) or [self.refs[ref]]

    def _photo_bytes(self, photo: PhotoSpec, where: str) -> bytes:
        if photo.file is not None:
            try:
                return self._base.joinpath(photo.file).read_bytes()
            except OSError as exc:
                raise ScenarioError(
                    f"{self.source}: {where}: cannot read photo file: {exc}"
                ) from None
        try:
            if photo.source is not None:
                return derive_jpeg(
                    self._photo_bytes(photo.source, where),
                    resize=photo.resize,
                    crop=photo.crop,
                    quality=photo.quality,
                )
            assert photo.seed is not None
            return generate_jpeg(
                photo.seed,
                label=photo.label,
                width=photo.width,
                height=photo.height,
                text=photo.text,
            )
        except ValueError as exc:
            raise ScenarioError(f"{self.source}: {where}: {exc}") from None


def _locate(name_or_path: str | Path) -> tuple[Traversable, Traversable, str]:
    """(the file, the folder photo paths are relative to, a name for messages)."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return path, path.parent, str(path)
    resource = files(_PACKAGE).joinpath(f"{text}.yaml")
    if not resource.is_file():
        raise ScenarioError(
            f"no packaged scenario named '{text}' (available: {', '.join(scenario_names())}); "
            "give a path to a .yaml file to load your own"
        )
    return resource, files(_PACKAGE), str(resource)
