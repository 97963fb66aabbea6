"""Citations of archived posts: pure rendering (data in, text out), no I/O.

A :class:`CitationSource` is filled from the archive alone (``storage.citation_queries`` reads
it; ``CitationSource(**record)``) plus, optionally, the desk's English title of the channel from
channels.yaml (``title_en``, shown in brackets after the title, which stays as Telegram has it).
Nothing is invented: a field the archive does not hold is left out of every style.

Dates are shown in the citation time zone: a post at 22:30 UTC is cited as the next day in
Asia/Baghdad. Capture times ("archived ...") are always UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.dates import long_date
from monitor.errors import ConfigError

__all__ = [
    "STYLES",
    "CitationSource",
    "PostRef",
    "bibtex_entry",
    "csl_item",
    "parse_post_ref",
    "photo_first_line",
    "render_citation",
    "render_citations",
    "resolve_timezone",
    "with_title_en",
]

STYLES = ("short", "full", "chicago", "markdown", "csl-json", "bibtex")
HASH_PREFIX = 16  # hex digits of the version's SHA-256 shown in `full`
EXCERPT = 160  # characters of the post quoted by `chicago` (CMOS 14.209) and as CSL/BibTeX title


@dataclass(frozen=True, slots=True)
class CitationSource:
    """Everything a citation of one version of one post needs; times are aware UTC.

    ``edited_at``/``deleted_at`` are the post's (its latest known edit; when we found it gone),
    ``version_*`` the cited version's: its number (1 = first captured) of ``version_count``, when
    it was captured, its own edit date and its SHA-256 (``storage.version_digest``).
    """

    channel_id: int
    message_id: int
    channel_title: str
    username: str | None
    posted_at: datetime
    first_captured_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    version: int
    version_count: int
    version_captured_at: datetime
    version_edited_at: datetime | None
    version_sha256: str
    text: str
    language: str | None
    permalink: str
    title_en: str | None = None
    version_provenance: str = "collected"  # or "imported" (storage.provenance)
    version_source: str | None = None  # what an imported version came from
    # The post's photo was first posted by another post: its channel (@name or title), when
    # (its posted_at) and its link (storage.photo_appearances.first_elsewhere).
    photo_first_by: str | None = None
    photo_first_at: datetime | None = None
    photo_first_link: str | None = None


class PostRef(NamedTuple):
    """A post named by its channel (username without ``@``, or the bare numeric id) and id."""

    channel: str | int
    message_id: int


_REF = re.compile(
    r"(?:(?:https?://)?(?:www\.)?t(?:elegram)?\.me/)?(?P<private>c/)?(?:s/)?@?"
    r"(?P<channel>-100\d+|[A-Za-z0-9_]+)/(?P<message>\d+)/?(?:\?.*)?"
)
REF_HINT = (
    "use a t.me link (https://t.me/name/123 or https://t.me/c/<channel id>/123), @name/123 or "
    "<channel id>/<message id>"
)


def parse_post_ref(ref: str, *, option: str = "REF") -> PostRef:
    """``https://t.me/name/123``, ``t.me/c/<id>/123``, ``@name/123`` or ``<channel id>/123``
    (``-100<id>`` accepted) as a :class:`PostRef`; :class:`ConfigError` naming ``option``."""
    found = _REF.fullmatch(ref.strip())
    if found is None:
        raise ConfigError(f"{option} {ref!r} is not a post reference", hint=REF_HINT)
    channel, message_id = found["channel"], int(found["message"])
    if channel.startswith("-100"):
        channel = channel.removeprefix("-100")
    if found["private"] and not channel.isdigit():
        raise ConfigError(f"{option} {ref!r}: a t.me/c/ link needs a numeric channel id")
    if message_id == 0:
        raise ConfigError(f"{option} {ref!r}: message ids start at 1", hint=REF_HINT)
    return PostRef(int(channel) if channel.isdigit() else channel, message_id)


def resolve_timezone(name: str | None) -> tzinfo:
    """The named IANA zone (``None``: UTC); :class:`ConfigError` for an unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name like Asia/Baghdad or UTC"
        ) from None


def with_title_en(source: CitationSource, titles: Mapping[str, str]) -> CitationSource:
    """``source`` with the English title the watchlist gives its channel, keyed by canonical
    handle (lowercase username, or the numeric id as text); unchanged if none is given."""
    keys = [str(source.channel_id)] + ([source.username.lower()] if source.username else [])
    for key in keys:
        if titles.get(key):
            return replace(source, title_en=titles[key])
    return source


# ── Formatting helpers ───────────────────────────────────────────────────────────────────────


def _zone(tz: str | tzinfo | None) -> tzinfo:
    return tz if isinstance(tz, tzinfo) else resolve_timezone(tz)


def _date(value: datetime, tz: tzinfo) -> str:
    local = value.astimezone(tz)
    return long_date(local)


def _offset(value: datetime, tz: tzinfo) -> str:
    """``UTC``, ``UTC+3``, ``UTC+3:30`` or ``UTC-5`` for ``value`` in ``tz``."""
    offset = value.astimezone(tz).utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _zone_label(value: datetime, tz: tzinfo) -> str:
    offset = _offset(value, tz)
    name = getattr(tz, "key", None)
    return f"{offset} ({name})" if name and offset != "UTC" else offset


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso_date(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d")


def _author(source: CitationSource) -> str:
    """The channel as author: its title, then ``[title_en]`` when the watchlist gives one."""
    title = " ".join(source.channel_title.split())
    return f"{title} [{source.title_en}]" if source.title_en else title


def _handle(source: CitationSource) -> str | None:
    return f"@{source.username}" if source.username else None


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    """The post's text on one line, cut at a word boundary to ``limit`` characters (+ "…")."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,.;:") + "…"


def _status_notes(source: CitationSource, tz: tzinfo) -> list[str]:
    notes = []
    if source.edited_at is not None:
        notes.append(f"edited {_date(source.edited_at, tz)}")
    if source.deleted_at is not None:
        notes.append(f"deleted at source by {_date(source.deleted_at, tz)}")
    return notes


def _archived(source: CitationSource, digits: int | None) -> str:
    """``archived <UTC capture time>[, version n of m], SHA-256 <hash or prefix>``; a version
    imported from someone else's copy says so instead of presenting it as our capture."""
    if source.version_provenance == "imported":
        origin = f" from {source.version_source}" if source.version_source else ""
        parts = [f"not captured by us: imported{origin} {_utc(source.version_captured_at)}"]
    else:
        parts = [f"archived {_utc(source.version_captured_at)}"]
    if source.version_count > 1:
        parts.append(f"version {source.version} of {source.version_count}")
    sha = source.version_sha256 if digits is None else source.version_sha256[:digits]
    parts.append(f"SHA-256 {sha}")
    return ", ".join(parts)


# ── Styles ───────────────────────────────────────────────────────────────────────────────────


def _short(source: CitationSource, tz: tzinfo) -> str:
    return f"Telegram, {_date(source.posted_at, tz)}."


def _full(source: CitationSource, tz: tzinfo) -> str:
    who = _author(source) + (f" ({_handle(source)})" if source.username else "")
    when = f"{_date(source.posted_at, tz)}, {source.posted_at.astimezone(tz):%H:%M} " + (
        _zone_label(source.posted_at, tz)
    )
    text = f"{who}, Telegram, {when}, {source.permalink}"
    notes = _status_notes(source, tz)
    if notes:
        text += " (" + "; ".join(notes) + ")"
    archived = _archived(source, HASH_PREFIX)
    text = f"{text}. {archived[0].upper()}{archived[1:]}."
    first = photo_first_line(source, tz)
    return f"{text} {first[0].upper()}{first[1:]}." if first else text


def photo_first_line(source: CitationSource, tz: str | tzinfo | None = None) -> str | None:
    """``photo first posted by @x on May 13, 2024 14:20 UTC`` when the post's photo was first
    posted elsewhere, else ``None``."""
    if source.photo_first_by is None or source.photo_first_at is None:
        return None
    zone = _zone(tz)
    at = source.photo_first_at
    when = f"{_date(at, zone)} {at.astimezone(zone):%H:%M} {_zone_label(at, zone)}"
    return f"photo first posted by {source.photo_first_by} on {when}"


def _twelve_hour(value: datetime, tz: tzinfo) -> str:
    local = value.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'a.m.' if local.hour < 12 else 'p.m.'}"


def _chicago(source: CitationSource, tz: tzinfo) -> str:
    """A note for a social-media post (CMOS 17th ed., 14.209): author (@handle), "text up to
    160 characters," platform, date, time, URL."""
    head = _author(source) + (f" ({_handle(source)})" if source.username else "")
    excerpt = _excerpt(source.text)
    head += f", \u201c{excerpt},\u201d Telegram" if excerpt else ", Telegram"
    when = (
        f"{_date(source.posted_at, tz)}, {_twelve_hour(source.posted_at, tz)} "
        f"({_offset(source.posted_at, tz)})"
    )
    return f"{head}, {when}, {source.permalink}."


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _markdown(source: CitationSource, tz: tzinfo, number: int) -> str:
    who = _md(_author(source)) + (f" ({_md(_handle(source) or '')})" if source.username else "")
    date = _date(source.posted_at, tz)
    return f"[^{number}]: {who}, Telegram, [{date}]({source.permalink})."


def _note(source: CitationSource, tz: tzinfo) -> str:
    """The archive's facts for a reference manager's note field (full hash)."""
    sentences = [f"Telegram channel {_handle(source)}"] if source.username else []
    sentences += [n[0].upper() + n[1:] for n in _status_notes(source, tz)]
    archived = _archived(source, None)
    sentences.append(archived[0].upper() + archived[1:])
    return ". ".join(sentences) + "."


def _date_parts(value: datetime, tz: tzinfo) -> dict[str, Any]:
    local = value.astimezone(tz)
    return {"date-parts": [[local.year, local.month, local.day]]}


def csl_item(source: CitationSource, tz: str | tzinfo | None = None) -> dict[str, Any]:
    """One CSL-JSON item (type ``post``, for Zotero and other reference managers)."""
    zone = _zone(tz)
    item: dict[str, Any] = {
        "id": f"telegram-{source.channel_id}-{source.message_id}",
        "type": "post",
        "container-title": "Telegram",
        "author": [{"literal": _author(source)}],
        "issued": _date_parts(source.posted_at, zone),
        "URL": source.permalink,
    }
    if source.version_provenance != "imported":  # when we read it; an import's is unknown
        item["accessed"] = _date_parts(source.version_captured_at, zone)
    excerpt = _excerpt(source.text)
    if excerpt:
        item["title"] = excerpt
    if source.version_count > 1:
        item["version"] = str(source.version)
    if source.language:
        item["language"] = source.language
    item["note"] = _note(source, zone)
    return item


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}


def _tex(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def bibtex_entry(source: CitationSource, tz: str | tzinfo | None = None) -> str:
    """One ``@misc`` entry (BibTeX and biblatex read it; the author is braced as a name)."""
    zone = _zone(tz)
    posted = source.posted_at.astimezone(zone)
    fields = [("author", "{" + _tex(_author(source)) + "}")]
    excerpt = _excerpt(source.text)
    if excerpt:
        fields.append(("title", _tex(excerpt)))
    fields += [
        ("howpublished", "Telegram"),
        ("year", str(posted.year)),
        ("month", str(posted.month)),
        ("date", _iso_date(source.posted_at, zone)),
        ("url", source.permalink),
    ]
    if source.version_provenance != "imported":
        fields.append(("urldate", _iso_date(source.version_captured_at, zone)))
    if source.language:
        fields.append(("langid", _tex(source.language)))
    fields.append(("note", _tex(_note(source, zone))))
    key = f"telegram_{source.channel_id}_{source.message_id}"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def render_citation(
    source: CitationSource, style: str, *, tz: str | tzinfo | None = None, number: int = 1
) -> str:
    """``source`` cited in ``style`` (one of :data:`STYLES`), dates in ``tz`` (default UTC).

    ``number`` is the footnote number of the ``markdown`` style. ``csl-json`` is a JSON array
    of one item, as Zotero imports it.
    """
    zone = _zone(tz)
    if style == "short":
        return _short(source, zone)
    if style == "full":
        return _full(source, zone)
    if style == "chicago":
        return _chicago(source, zone)
    if style == "markdown":
        return _markdown(source, zone, number)
    if style == "csl-json":
        return json.dumps([csl_item(source, zone)], ensure_ascii=False, indent=2)
    if style == "bibtex":
        return bibtex_entry(source, zone)
    raise ConfigError(f"unknown citation style {style!r}", hint="one of " + ", ".join(STYLES))


def render_citations(
    sources: list[CitationSource], style: str, *, tz: str | tzinfo | None = None
) -> str:
    """A numbered footnote list for a report: ``[1] ...`` lines (``[^1]: ...`` in markdown);
    ``csl-json`` one array of every item, ``bibtex`` the entries one after another."""
    zone = _zone(tz)
    if style == "csl-json":
        return json.dumps([csl_item(s, zone) for s in sources], ensure_ascii=False, indent=2)
    if style == "bibtex":
        return "\n\n".join(bibtex_entry(s, zone) for s in sources)
    if style == "markdown":
        return "\n".join(
            render_citation(s, style, tz=zone, number=n) for n, s in enumerate(sources, 1)
        )
    return "\n".join(
        f"[{n}] {render_citation(s, style, tz=zone)}" for n, s in enumerate(sources, 1)
    )
