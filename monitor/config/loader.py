"""Read channels.yaml (and the entity files it includes) into a :class:`Watchlist`.

Every problem in every file is collected and reported at once, sorted by position, as
``file:line:column: message; fix``. Nothing is printed here; errors are :class:`WatchlistError`.

Files are first read with the fast C loader (:mod:`monitor.config.yamlfast`), which knows no
positions; if that finds any problem, or the YAML is unusual, everything is read again with
ruamel's round-trip loader, so the messages and their positions are always ruamel's.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from monitor.config.accounts import AccountSpec
from monitor.config.checks import (
    Known,
    Placed,
    check_channels,
    check_entities,
    check_ocr,
    check_routes,
)
from monitor.config.compiled import paused_gc
from monitor.config.includes import expand_include
from monitor.config.messages import did_you_mean, validate_at
from monitor.config.models import AlertsSpec, ChannelEntry, Defaults, EntitySpec, Watchlist
from monitor.config.routes import RouteSpec
from monitor.config.yamlfast import NeedsRoundTrip, fast_load
from monitor.config.yamllimits import MAX_BYTES, YamlLimitError, size_problem
from monitor.config.yamlpos import Loc, Problem, YamlDoc, parse_yaml
from monitor.errors import ConfigError

__all__ = [
    "WatchlistError",
    "is_included",
    "load_entities",
    "load_watchlist",
    "parse_watchlist",
]

TOP_KEYS = ("defaults", "include", "channels", "entities", "alerts", "accounts")
#: Top-level keys starting with this are ignored: a place for YAML anchors (``x-base: &base``).
EXTENSION_PREFIX = "x-"
CHANNEL_SHAPE = (
    'write `- handle: "@name"` with optional label, poll_every, tags, enabled, silent_after'
)
ENTITY_SHAPE = "write `- id: some-id` with name, kind, tags and aliases"
ROUTE_SHAPE = 'write `- name: desk` with url: "${VAR}", entities, channels, min_status'


class _TooCostly(Exception):
    """The fast reader refused a file by :mod:`monitor.config.yamllimits`: final, no re-read."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class WatchlistError(ConfigError):
    """channels.yaml (or an included file) has problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        lines = [str(problem) for problem in self.problems]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} problems in the watchlist:"
        body = "" if len(lines) == 1 else "\n" + "\n".join(lines)
        super().__init__(
            head + body,
            hint=f"fix {'it' if len(lines) == 1 else 'the lines above'}, then run "
            "`monitor channels check` again",
        )


def load_watchlist(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[Path, str] | None = None,
) -> Watchlist:
    """Load and validate a channels.yaml file; raises :class:`WatchlistError`/``ConfigError``.

    ``overrides`` maps files (this one or included ones) to text read instead of their content
    on disk, under their own names: how an edit is validated before it is written.
    """
    path = Path(path)
    texts = {Path(p).resolve(): text for p, text in (overrides or {}).items()}
    text = texts[path.resolve()] if path.resolve() in texts else _read(path)
    env = os.environ if env is None else env
    return _build(text, str(path), env, path.parent, overrides=texts)


def parse_watchlist(
    text: str,
    *,
    source: str = "channels.yaml",
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Watchlist:
    """Validate watchlist YAML text. ``include:`` patterns are relative to ``base_dir`` (or cwd)."""
    return _build(text, source, os.environ if env is None else env, base_dir or Path.cwd())


def load_entities(path: Path, *, env: Mapping[str, str] | None = None) -> list[EntitySpec]:
    """The entities of a channels.yaml or of an entities-only file (just ``entities:``).

    Only ``entities:`` and ``include:`` are validated, so an alert route whose ``${VAR}`` is
    unset does not stop ``monitor match`` from trying a watchlist.
    """
    path = Path(path)
    env = os.environ if env is None else env
    return _build(_read(path), str(path), env, path.parent, entities_only=True).entities


def is_included(channels_file: Path, path: Path) -> bool:
    """Whether ``channels_file``'s ``include:`` patterns name ``path`` (an existing file).

    Only the include list is read, nothing validated: an unset ``${VAR}`` or a broken entity
    elsewhere does not matter here. A missing or unreadable file includes nothing.
    """
    try:
        root = fast_load(_read(Path(channels_file)))
    except NeedsRoundTrip:
        parsed = parse_yaml(_read(Path(channels_file)), str(channels_file))
        root = None if isinstance(parsed, Problem) else parsed.plain((), {}, [])
    except (ConfigError, YamlLimitError):
        return False
    include = root.get("include") if isinstance(root, Mapping) else None
    patterns = [include] if isinstance(include, str) else include
    if not isinstance(patterns, list):
        return False
    base, wanted = Path(channels_file).resolve().parent, Path(path).resolve()
    for pattern in patterns:
        if isinstance(pattern, str) and pattern.strip():
            full = base / pattern.strip()
            if any(Path(p).resolve() == wanted for p in glob.glob(str(full))):
                return True
    return False


def _build(
    text: str,
    source: str,
    env: Mapping[str, str],
    base_dir: Path,
    *,
    entities_only: bool = False,
    overrides: Mapping[Path, str] | None = None,
) -> Watchlist:
    """Fast first; on any problem (or YAML the fast loader will not vouch for) the round-trip
    loader reads everything again and reports the problems with their positions."""
    return _build_with(
        text, source, env, base_dir, entities_only=entities_only, overrides=overrides
    )[1]


def _build_with(
    text: str,
    source: str,
    env: Mapping[str, str],
    base_dir: Path,
    *,
    entities_only: bool = False,
    overrides: Mapping[Path, str] | None = None,
) -> tuple[_Builder, Watchlist]:
    """:func:`_build`, and the builder that read the watchlist (what it read is on it)."""
    used = _UsedVariables(env)
    with paused_gc():
        try:
            fast = _Builder(used, base_dir, entities_only=entities_only, fast=True)
            fast.overrides = overrides or {}
            return fast, fast.build(text, source)
        except _TooCostly as exc:  # ruamel would refuse it too, only much slower
            raise WatchlistError([exc.problem]) from None
        except (WatchlistError, NeedsRoundTrip):
            pass
        try:
            slow = _Builder(used, base_dir, entities_only=entities_only)
            slow.overrides = overrides or {}
            return slow, slow.build(text, source)
        except WatchlistError as exc:
            raise WatchlistError([used.hide(problem) for problem in exc.problems]) from None


class _UsedVariables(Mapping[str, str]):
    """The environment, remembering which ``${VAR}`` values were read: an error about a value
    that came from a variable (a secret in the wrong field) names ``${VAR}``, never the value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._names: dict[str, str] = {}
        self.asked: set[str] = set()  # every name looked up, set or not

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        value = self._env[name]
        if value:
            self._names[value] = f"${{{name}}}"
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)

    def hide(self, problem: Problem) -> Problem:
        message = problem.message
        for value in sorted(self._names, key=len, reverse=True):
            message = message.replace(value, self._names[value])
        return dataclasses.replace(problem, message=message)


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:  # refused before reading it into memory
            raise WatchlistError([Problem(0, 1, 1, str(path), size_problem(size))])
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"watchlist file '{path}' not found",
            hint="create it (see the README's channels.yaml reference), pass --channels FILE "
            "or set MONITOR_CHANNELS_FILE",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"watchlist file '{path}' is not UTF-8 text", hint="save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read watchlist file '{path}': {exc.strerror}") from None


class _Builder:
    def __init__(
        self,
        env: Mapping[str, str],
        base_dir: Path,
        *,
        entities_only: bool = False,
        fast: bool = False,
    ):
        self.env = env
        self.base_dir = base_dir
        self.entities_only = entities_only
        #: Read with :func:`fast_load` (no positions: any problem means "read it again").
        self.fast = fast
        self.problems: list[Problem] = []
        self.known = Known()
        self.files: list[Path] = []
        self.raw_channels: list[Placed[Any]] = []
        self.raw_entities: list[Placed[Any]] = []
        self.raw_routes: list[Placed[Any]] = []
        #: Resolved path -> text to read instead of the file (an edit being validated).
        self.overrides: Mapping[Path, str] = {}
        #: What was read: each included file and its text; each wildcard pattern's files.
        self.texts: list[tuple[Path, str]] = []
        self.globs: list[tuple[str, tuple[str, ...]]] = []

    def build(self, text: str, source: str) -> Watchlist:
        doc = self._parse_main(text, source)
        root = doc.root
        for key in root:
            if key not in TOP_KEYS and not str(key).startswith(EXTENSION_PREFIX):
                guess = did_you_mean(str(key), TOP_KEYS)
                fix = (
                    f"did you mean '{guess}'?" if guess else f"allowed keys: {', '.join(TOP_KEYS)}"
                )
                self.problems.append(
                    doc.problem(
                        (str(key),), f"unknown key '{key}' at the top level; {fix}", key=True
                    )
                )
        defaults = Defaults()
        channels: list[Placed[ChannelEntry]] = []
        routes: list[Placed[RouteSpec]] = []
        timezone = None
        accounts: list[AccountSpec] = []
        if not self.entities_only:
            defaults = self._defaults(doc)
            channels = self._channels(doc)
            timezone, routes = self._alerts(doc)
            accounts = self._accounts(doc)
        entities = self._entities(doc)
        for included in self._includes(doc):
            entities.extend(self._entities(included))
        self.problems.extend(check_channels(self.raw_channels))
        if any(isinstance(p.value, Mapping) and p.value.get("ocr") for p in self.raw_channels):
            from monitor.photos.ocr import installed_here

            self.problems.extend(check_ocr(self.raw_channels, installed_here()))
        self.problems.extend(check_entities(self.raw_entities))
        self.problems.extend(check_routes(self.raw_routes, self.known))
        if self.problems:
            raise WatchlistError(self.problems)
        return Watchlist(
            defaults=defaults,
            channels=[placed.value.effective(defaults) for placed in channels],
            entities=[placed.value for placed in entities],
            alerts=AlertsSpec(timezone=timezone, routes=[placed.value for placed in routes]),
            accounts=accounts,
            source=Path(source),
            files=(Path(source), *self.files),
        )

    def _parse(self, text: str, source: str, order: int = 0) -> YamlDoc | Problem:
        if self.fast:  # raises NeedsRoundTrip, e.g. on a syntax error
            try:
                return YamlDoc(source=source, root=fast_load(text), order=order)
            except YamlLimitError as exc:
                raise _TooCostly(
                    Problem(order, exc.line, exc.column, source, exc.message)
                ) from None
        return parse_yaml(text, source, order)

    def _parse_main(self, text: str, source: str) -> YamlDoc:
        parsed = self._parse(text, source)
        if isinstance(parsed, Problem):
            raise WatchlistError([parsed])
        if parsed.root is None:
            raise WatchlistError(
                [
                    Problem(
                        0, 1, 1, source, "the file is empty; add a `channels:` list and `entities:`"
                    )
                ]
            )
        if not isinstance(parsed.root, Mapping):
            raise WatchlistError(
                [
                    Problem(
                        0,
                        1,
                        1,
                        source,
                        "the top level must be a mapping with `channels:`, `entities:` and `alerts:`",
                    )
                ]
            )
        return parsed

    def _plain(self, doc: YamlDoc, *loc: str | int) -> Any:
        return doc.plain(loc, self.env, self.problems)

    def _items(self, doc: YamlDoc, *loc: str, shape: str) -> list[int]:
        """Indexes of the list at ``loc``; ``None``/missing is empty, anything else a problem."""
        node: Any = doc.root
        for part in loc:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return []
        if not isinstance(node, list):
            self.problems.append(doc.problem(loc, f"`{loc[-1]}:` must be a list; {shape}"))
            return []
        return list(range(len(node)))

    def _defaults(self, doc: YamlDoc) -> Defaults:
        if doc.root.get("defaults") is None:
            return Defaults()
        data = self._plain(doc, "defaults")
        shape = "write e.g. defaults: {poll_every: 5m, backfill: 200, media: [photo]}"
        return (
            validate_at(Defaults, data, doc, ("defaults",), self.problems, shape=shape)
            or Defaults()
        )

    def _channels(self, doc: YamlDoc) -> list[Placed[ChannelEntry]]:
        out = []
        for i in self._items(doc, "channels", shape=CHANNEL_SHAPE):
            data = self._plain(doc, "channels", i)
            if isinstance(data, str | int) and not isinstance(data, bool):
                data = {"handle": data}  # shorthand: `- "@name"`
            self.known.add_channel(data)
            self.raw_channels.append(Placed(data, doc, ("channels", i)))
            entry = validate_at(
                ChannelEntry, data, doc, ("channels", i), self.problems, shape=CHANNEL_SHAPE
            )
            if entry is not None:
                out.append(Placed(entry, doc, ("channels", i)))
        return out

    def _entities(self, doc: YamlDoc) -> list[Placed[EntitySpec]]:
        out = []
        for i in self._items(doc, "entities", shape=ENTITY_SHAPE):
            data = self._plain(doc, "entities", i)
            self.known.add_entity(data)
            self.raw_entities.append(Placed(data, doc, ("entities", i)))
            entity = validate_at(
                EntitySpec, data, doc, ("entities", i), self.problems, shape=ENTITY_SHAPE
            )
            if entity is not None:
                out.append(Placed(entity, doc, ("entities", i)))
        return out

    def _alerts(self, doc: YamlDoc) -> tuple[str | None, list[Placed[RouteSpec]]]:
        node = doc.root.get("alerts")
        if node is None:
            return None, []
        if not isinstance(node, Mapping):
            self.problems.append(
                doc.problem(("alerts",), "`alerts:` must be a mapping with timezone and routes")
            )
            return None, []
        data = {str(key): self._plain(doc, "alerts", key) for key in node if key != "routes"}
        shape = "write alerts: {timezone: UTC, routes: [...]}"
        spec = validate_at(AlertsSpec, data, doc, ("alerts",), self.problems, shape=shape)
        routes = []
        for i in self._items(doc, "alerts", "routes", shape=ROUTE_SHAPE):
            data = self._plain(doc, "alerts", "routes", i)
            self.raw_routes.append(Placed(data, doc, ("alerts", "routes", i)))
            route = validate_at(
                RouteSpec, data, doc, ("alerts", "routes", i), self.problems, shape=ROUTE_SHAPE
            )
            if route is not None:
                routes.append(Placed(route, doc, ("alerts", "routes", i)))
        return (spec.timezone if spec else None), routes

    def _accounts(self, doc: YamlDoc) -> list[AccountSpec]:
        shape = 'write `- name: second` with api_id, api_hash: "${VAR}", session or session_file'
        out: list[AccountSpec] = []
        for i in self._items(doc, "accounts", shape=shape):
            data = self._plain(doc, "accounts", i)
            spec = validate_at(AccountSpec, data, doc, ("accounts", i), self.problems, shape=shape)
            if spec is not None:
                if any(known.name == spec.name for known in out):
                    message = f"account '{spec.name}' is named twice; give each its own name"
                    self.problems.append(doc.problem(("accounts", i, "name"), message))
                out.append(spec)
        return out

    def _includes(self, doc: YamlDoc) -> list[YamlDoc]:
        node = doc.root.get("include")
        if node is None:
            return []
        patterns: list[tuple[Loc, Any]] = [(("include",), node)]
        if not isinstance(node, str):
            if not isinstance(node, list):
                self.problems.append(
                    doc.problem(
                        ("include",),
                        "`include:` must be a list of file patterns, e.g. [entities/*.yaml]",
                    )
                )
                return []
            patterns = [(("include", i), item) for i, item in enumerate(node)]
        docs: list[YamlDoc] = []
        main = Path(doc.source).resolve()
        for loc, pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                self.problems.append(
                    doc.problem(
                        loc, "include items must be file paths or patterns, e.g. entities/*.yaml"
                    )
                )
                continue
            for path in self._expand(doc, loc, pattern.strip()):
                if path.resolve() != main and path not in self.files:
                    self.files.append(path)
                    included = self._load_included(doc, loc, path, order=len(self.files))
                    if included is not None:
                        docs.append(included)
        return docs

    def _expand(self, doc: YamlDoc, loc: tuple[str | int, ...], pattern: str) -> list[Path]:
        full = Path(pattern) if Path(pattern).is_absolute() else self.base_dir / pattern
        if glob.has_magic(pattern):
            found = expand_include(full)
            self.globs.append((str(full), tuple(map(str, found))))
            return found
        if not full.is_file():
            self.problems.append(
                doc.problem(
                    loc,
                    f"included file '{full}' not found; fix the path (it is relative to {doc.source})",
                )
            )
            return []
        return [full]

    def _load_included(self, doc: YamlDoc, loc: Any, path: Path, order: int) -> YamlDoc | None:
        try:
            text = self.overrides.get(path.resolve())
            size = len(text.encode()) if text is not None else path.stat().st_size
            if size > MAX_BYTES:
                self.problems.append(Problem(order, 1, 1, str(path), size_problem(size)))
                return None
            if text is None:
                text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(doc.problem(loc, f"cannot read included file '{path}': {exc}"))
            return None
        self.texts.append((path, text))
        parsed = self._parse(text, str(path), order)
        if isinstance(parsed, Problem):
            self.problems.append(parsed)
            return None
        if parsed.root is None:
            return None
        if not isinstance(parsed.root, Mapping):
            self.problems.append(
                Problem(
                    order,
                    1,
                    1,
                    str(path),
                    "an included file must be a mapping with an `entities:` list",
                )
            )
            return None
        for key in parsed.root:
            if key != "entities":
                self.problems.append(
                    parsed.problem(
                        (str(key),),
                        f"unknown key '{key}' in an included file; included files hold only `entities:`",
                        key=True,
                    )
                )
        return parsed
