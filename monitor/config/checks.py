"""Checks across items: duplicates, route references, secrets written into the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from monitor.config.handles import canonical_handle, display_handle
from monitor.config.messages import did_you_mean
from monitor.config.yamlpos import Loc, Problem, YamlDoc

__all__ = [
    "Known",
    "Placed",
    "check_channels",
    "check_entities",
    "check_ocr",
    "check_routes",
]


T = TypeVar("T")


@dataclass(frozen=True)
class Placed(Generic[T]):
    """A validated item and where it was written."""

    value: T
    doc: YamlDoc
    loc: Loc

    def where(self, other: YamlDoc) -> str:
        """``line 12`` in the same file, ``entities/x.yaml:12`` in another."""
        line, _ = self.doc.position(self.loc)
        return f"line {line}" if self.doc is other else f"{self.doc.source}:{line}"


@dataclass
class Known:
    """Names routes may refer to, gathered from every item (valid or not, to avoid cascades)."""

    entity_ids: set[str] = field(default_factory=set)
    entity_tags: set[str] = field(default_factory=set)
    channel_keys: dict[str, str] = field(default_factory=dict)  # key -> handle as written
    channel_tags: set[str] = field(default_factory=set)

    def add_entity(self, data: Any) -> None:
        if isinstance(data, Mapping):
            if isinstance(data.get("id"), str):
                self.entity_ids.add(data["id"].strip())
            self.entity_tags.update(_strings(data.get("tags")))

    def add_channel(self, data: Any) -> None:
        if isinstance(data, Mapping):
            key = _handle_key(data.get("handle"))
            if key is not None:
                self.channel_keys.setdefault(key, str(data.get("handle")))
            self.channel_tags.update(_strings(data.get("tags")))


def check_channels(channels: list[Placed[Any]]) -> list[Problem]:
    """Two items naming the same channel (after canonicalisation) are a problem."""
    problems: list[Problem] = []
    first: dict[str, Placed[Any]] = {}
    for placed in channels:
        handle = placed.value.get("handle") if isinstance(placed.value, Mapping) else None
        key = _handle_key(handle)
        if key is None:
            continue
        earlier = first.setdefault(key, placed)
        if earlier is not placed:
            problems.append(
                placed.doc.problem(
                    (*placed.loc, "handle"),
                    f"duplicate channel '{handle}' in the watchlist; '{earlier.value['handle']}' "
                    f"on {earlier.where(placed.doc)} is the same channel: remove one of them",
                )
            )
    return problems


def check_ocr(channels: list[Placed[Any]], installed: frozenset[str] | None) -> list[Problem]:
    """``ocr:`` languages Tesseract has no data for (``installed``: what it has; ``None``:
    no Tesseract here, so nothing to check against: OCR stays off and `monitor status` says so).
    """
    problems: list[Problem] = []
    if installed is None:
        return problems
    have = ", ".join(sorted(installed - {"osd"})) or "none"
    for placed in channels:
        data = placed.value
        languages = data.get("ocr") if isinstance(data, Mapping) else None
        if not isinstance(languages, list | tuple):
            continue
        for n, code in enumerate(languages):
            if isinstance(code, str) and code.strip() not in installed:
                problems.append(
                    placed.doc.problem(
                        (*placed.loc, "ocr", n),
                        f"channel '{data.get('handle')}' asks OCR for '{code.strip()}', which "
                        f"Tesseract has no data for (installed: {have}); install "
                        f"tesseract-ocr-{code.strip().replace('_', '-')} or remove it",
                    )
                )
    return problems


def check_entities(entities: list[Placed[Any]]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, Placed[Any]] = {}
    for placed in entities:
        entity_id = placed.value.get("id") if isinstance(placed.value, Mapping) else None
        if not isinstance(entity_id, str) or not entity_id.strip():
            continue
        earlier = first.setdefault(entity_id.strip(), placed)
        if earlier is not placed:
            problems.append(
                placed.doc.problem(
                    (*placed.loc, "id"),
                    f"duplicate entity id '{entity_id.strip()}' (first defined on "
                    f"{earlier.where(placed.doc)}); give each entity its own id",
                )
            )
    return problems


def check_routes(routes: list[Placed[Any]], known: Known) -> list[Problem]:
    """Duplicate route names, references to unknown entities/channels, literal passwords."""
    problems: list[Problem] = []
    names: dict[str, Placed[Any]] = {}
    for placed in routes:
        if not isinstance(placed.value, Mapping):
            continue
        data, doc, loc = placed.value, placed.doc, placed.loc
        name = str(data.get("name", "")).strip() or f"#{int(loc[-1]) + 1}"
        earlier = names.setdefault(name, placed)
        if earlier is not placed:
            problems.append(
                doc.problem(
                    (*loc, "name"),
                    f"duplicate route name '{name}' (first on {earlier.where(doc)}); "
                    "give each route its own name",
                )
            )
        entity_choices = sorted(known.entity_ids | known.entity_tags)
        for i, ref in _refs(data.get("entities")):
            if ref not in known.entity_ids and ref not in known.entity_tags:
                problems.append(
                    doc.problem(
                        (*loc, "entities", i),
                        f"route '{name}' names unknown entity or tag '{ref}'; "
                        + _guess(ref, entity_choices, "use an entity id or an entity tag"),
                    )
                )
        channel_choices = sorted(
            {display_handle(key) for key in known.channel_keys} | known.channel_tags
        )
        for i, ref in _refs(data.get("channels")):
            if ref in known.channel_tags or _handle_key(ref) in known.channel_keys:
                continue
            problems.append(
                doc.problem(
                    (*loc, "channels", i),
                    f"route '{name}' names unknown channel or channel tag '{ref}'; "
                    + _guess(
                        ref, channel_choices, "use a handle from `channels:` or a channel tag"
                    ),
                )
            )
        problems.extend(_literal_secrets(placed, name))
    return problems


def _refs(value: Any) -> list[tuple[int, str]]:
    """The names a route selector lists (none for `all`), with their index."""
    if isinstance(value, str):
        return [] if value.strip() == "all" else [(0, value.strip())]
    if isinstance(value, list):
        return [(i, str(item).strip()) for i, item in enumerate(value) if item is not None]
    return []


def _literal_secrets(placed: Placed[Any], name: str) -> list[Problem]:
    """A password written into channels.yaml itself (not through ``${VAR}``) is refused."""
    node = placed.doc.root
    for part in placed.loc:
        node = node[part]
    raw = node.get("url", node.get("urls")) if isinstance(node, Mapping) else None
    raw_urls = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    problems = []
    for i, url in enumerate(raw_urls):
        if not isinstance(url, str) or "${" in url:
            continue
        try:
            password = urlsplit(url.strip()).password
        except ValueError:
            password = None
        if password:
            loc = (*placed.loc, "url") if isinstance(raw, str) else (*placed.loc, "urls", i)
            problems.append(
                placed.doc.problem(
                    loc,
                    f"route '{name}' has a password written in the file; secrets "
                    'come from the environment: url: "${DESK_WEBHOOK_URL}"',
                )
            )
    return problems


def _handle_key(ref: Any) -> str | None:
    if ref is None or isinstance(ref, bool):
        return None
    try:
        return canonical_handle(ref)
    except ValueError:
        return None


def _guess(ref: str, choices: list[str], fix: str) -> str:
    guess = did_you_mean(ref, choices)
    return f"did you mean '{guess}'? ({fix})" if guess else fix


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str)]
    return []
