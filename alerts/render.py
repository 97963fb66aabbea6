"""Render an :class:`AlertMessage` to plain text, Markdown or HTML through editable Jinja2 templates.

Templates are looked up first in the operator's directory (if given), then in
``alerts/templates``. Every ``{{ value }}`` a template prints is untrusted unless we built it:
the environments defuse and escape it per format (``finalize`` for text/Markdown, autoescape for
HTML), so an operator's template cannot forget to escape a post.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from alerts.dates import long_date
from alerts.errors import AlertConfigError, AlertDeliveryError
from alerts.message import AlertMessage, Span
from alerts.safety import defuse, escape_html, escape_markdown, isolate, one_line

__all__ = ["FORMATS", "RenderedAlert", "Renderer"]

FORMATS = ("text", "markdown", "html")
_SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
# Title characters that mean markup somewhere (Slack, Discord, Markdown, HTML): dropped from the
# untrusted channel title, since the title is plain text that sinks embed as they see fit.
_TITLE_DROP = str.maketrans("", "", "<>[]()*_`|~#!\\{}")


# How a health alert's title says what happened to the channel.
_PROBLEMS = {
    "private": "went private",
    "banned": "banned this account",
    "renamed": "was renamed",
    "silent": "fell silent",
    "failing": "fails every poll",
}


class Safe(str):
    """A fragment we built and escaped ourselves: printed as is by the text/Markdown templates."""


@dataclass(frozen=True, slots=True)
class RenderedAlert:
    """A message ready for a sink: ``title`` is plain text, ``body`` is in ``format``."""

    title: str
    body: str
    format: str
    message: AlertMessage
    # (file name, bytes) to attach: the post's photos, where the service takes attachments
    attachments: tuple[tuple[str, bytes], ...] = ()


def _finalizer(escape: Callable[[str], str]) -> Callable[[Any], Any]:
    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, Safe | Markup | int):
            return value
        return escape(isolate(defuse(str(value))))

    return finalize


class Renderer:
    """Renders alerts; one per process (Jinja compiles each template once)."""

    def __init__(
        self,
        *,
        desk_timezone: str = "UTC",
        template_dir: Path | None = None,
        snippet_context: int = 160,
        snippet_limit: int = 700,
    ) -> None:
        try:
            self.desk_tz = ZoneInfo(desk_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise AlertConfigError(
                f"unknown desk time zone {desk_timezone!r}",
                hint="use an IANA name like Europe/Berlin",
            ) from None
        self.desk_timezone = desk_timezone
        if template_dir is not None and not Path(template_dir).is_dir():
            raise AlertConfigError(f"alert template directory {str(template_dir)!r} does not exist")
        self._paths = [str(p) for p in (template_dir, PACKAGE_TEMPLATES) if p is not None]
        self._built: dict[str, Any] | None = None
        self.snippet_context = snippet_context
        self.snippet_limit = snippet_limit

    @property
    def _envs(self) -> dict[str, Any]:
        """The Jinja environments, one per format, built at the first alert rendered: a
        process that renders none (most `monitor collect` runs) never imports Jinja."""
        if self._built is None:
            import jinja2

            common: dict[str, Any] = {
                "loader": jinja2.FileSystemLoader(self._paths),
                "undefined": jinja2.StrictUndefined,
                "keep_trailing_newline": False,
                "trim_blocks": True,
                "lstrip_blocks": True,
            }
            self._built = {
                "text": jinja2.Environment(autoescape=False, finalize=_finalizer(str), **common),
                "markdown": jinja2.Environment(
                    autoescape=False, finalize=_finalizer(escape_markdown), **common
                ),
                "html": jinja2.Environment(autoescape=True, finalize=_finalizer(str), **common),
            }
        return self._built

    def render(self, message: AlertMessage, fmt: str) -> RenderedAlert:
        """Render ``message`` in ``fmt`` (text, markdown or html)."""
        if fmt not in FORMATS:
            raise AlertConfigError(f"unknown alert format {fmt!r}; use one of {', '.join(FORMATS)}")
        template = message.kind if message.kind in ("digest", "health") else "alert"
        name = f"{template}.{_SUFFIX[fmt]}.j2"
        if message.kind == "health":
            context = self._health_context(message)
        elif message.kind == "digest":
            context = {
                "title": self.title(message),
                "kind": "digest",
                "count": len(message.items),
                "entities": ", ".join(message.entities),
                "items": [self._post_context(item, fmt) for item in message.items],
            }
        else:
            context = self._post_context(message, fmt)
        env = self._envs[fmt]
        import jinja2  # loaded by now: the line above built the environments

        try:
            body = env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise AlertDeliveryError(f"alert template {name} failed: {exc}") from None
        return RenderedAlert(
            title=self.title(message), body=body.strip() + "\n", format=fmt, message=message
        )

    def title(self, message: AlertMessage) -> str:
        """A short plain-text title: entity names and channel (defused, markup characters dropped)."""
        entities = ", ".join(message.entities) or "watched entity"
        if message.kind == "health":
            channel = _channel_name(message)
            text = (
                f"Back to normal: {channel}"
                if message.health == "recovered"
                else f"Channel health: {channel} {_PROBLEMS.get(message.health, message.health)}"
            )
        elif message.kind == "digest":
            text = f"Digest: {len(message.items)} alerts ({entities})"
        else:
            channel = message.channel_title or message.channel_username or str(message.channel_id)
            prefix = "Update: " if message.kind == "followup" else ""
            text = f"{prefix}{entities} in {channel}"
        text = " ".join(defuse(text).translate(_TITLE_DROP).split())
        return isolate(text)

    def _times(self, when: datetime) -> tuple[str, str]:
        utc = when.strftime("%Y-%m-%d %H:%M UTC")
        local = when.astimezone(self.desk_tz)
        return utc, f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({self.desk_timezone})"

    def _health_context(self, message: AlertMessage) -> dict[str, Any]:
        noticed_utc, noticed_desk = self._times(message.posted_at)
        return {
            "title": self.title(message),
            "kind": "health",
            "health": message.health,
            "channel": one_line(_channel_name(message)),
            "username": message.channel_username,
            "channel_id": message.channel_id,
            "what": message.text,
            "noticed_utc": noticed_utc,
            "noticed_desk": noticed_desk,
            "same_zone": self.desk_timezone == "UTC",
            "link": Safe(message.link),
        }

    def _post_context(self, message: AlertMessage, fmt: str) -> dict[str, Any]:
        posted_utc, posted_desk = self._times(message.posted_at)
        return {
            "title": self.title(message),
            "kind": message.kind,
            "entities": ", ".join(message.entities),
            "channel": one_line(message.channel_title) or str(message.channel_id),
            "username": message.channel_username,
            "channel_id": message.channel_id,
            "message_id": message.message_id,
            "grouped_id": message.grouped_id,
            "snippet": self._snippet(message, fmt),
            "posted_utc": posted_utc,
            "posted_desk": posted_desk,
            "same_zone": self.desk_timezone == "UTC",
            "language": message.language,
            "photos": message.photo_count,
            "flag_ids": ", ".join(f"#{fid}" for fid in message.flag_ids),
            "changes": list(message.changes),
            "link": Safe(message.link),
            "desk_link": Safe(message.desk_link),
            **_photo_first(message),
        }

    def _window(self, text: str, spans: list[Span]) -> tuple[int, int]:
        if not spans:
            return 0, min(len(text), self.snippet_limit)
        lo = max(0, spans[0].start - self.snippet_context)
        hi = min(len(text), spans[-1].end + self.snippet_context)
        if hi - lo > self.snippet_limit:
            hi = max(spans[0].end, min(len(text), lo + self.snippet_limit))
        if lo > 0:  # start at a word boundary when one is near
            space = text.find(" ", lo, spans[0].start)
            lo = space + 1 if 0 <= space < lo + 20 else lo
        if hi < len(text):
            space = text.rfind(" ", spans[-1].end if spans[-1].end <= hi else lo, hi)
            hi = space if space > hi - 20 else hi
        return lo, hi

    def _snippet(self, message: AlertMessage, fmt: str) -> Safe | Markup:
        """The text around the matches, escaped for ``fmt``, RTL isolated. Matches are marked
        in bold (Markdown, HTML) or ``[[...]]`` (text), a whole word or hashtag at a time."""
        text = message.text
        spans: list[Span] = []
        for span in sorted(
            (_whole_token(text, s) for s in message.spans if 0 <= s.start < s.end <= len(text)),
            key=lambda s: (s.start, s.end),
        ):
            if spans and span.start < spans[-1].end:  # overlapping tokens: one mark
                if span.end > spans[-1].end:
                    spans[-1] = Span(spans[-1].start, span.end)
                continue
            spans.append(span)
        lo, hi = self._window(text, spans)
        pieces: list[tuple[str, bool]] = []
        cursor = lo
        for span in spans:
            if span.start < lo or span.end > hi:
                continue
            pieces.append((text[cursor : span.start], False))
            pieces.append((text[span.start : span.end], True))
            cursor = span.end
        pieces.append((text[cursor:hi], False))
        head, tail = ("…" if lo > 0 else ""), ("…" if hi < len(text) else "")
        if fmt == "html":
            html = Markup("").join(
                Markup("<b>{}</b>").format(escape_html(defuse(p)))
                if bold
                else escape_html(defuse(p))
                for p, bold in pieces
            )
            html = Markup("<br>\n").join(html.split("\n"))
            return Markup('<div dir="auto">{}{}{}</div>').format(head, html, tail)
        if fmt == "markdown":
            md = "".join(
                f"**{escape_markdown(defuse(p))}**" if bold else escape_markdown(defuse(p))
                for p, bold in pieces
            )
            return Safe("  \n".join(isolate(head + md + tail).split("\n")))
        plain = "".join(f"[[{defuse(p)}]]" if bold else defuse(p) for p, bold in pieces)
        return Safe(isolate(head + plain + tail))


_POST_LINK_RE = re.compile(r"https://t\.me/(?:c/\d+|[A-Za-z0-9_]{1,64})/\d+")


def _photo_first(message: AlertMessage) -> dict[str, Any]:
    """The "photo first posted by @x on May 13, 2024 14:20 UTC" line's parts (empty when the
    photo was not first posted elsewhere); the channel name is untrusted (escaped as a value)."""
    at = message.photo_first_at
    if not message.photo_first_by or at is None:
        return {"photo_first_by": "", "photo_first_when": "", "photo_first_link": ""}
    at = at.astimezone(UTC)
    link = message.photo_first_link
    return {
        "photo_first_by": one_line(message.photo_first_by),
        "photo_first_when": f"{long_date(at)} {at:%H:%M} UTC",
        "photo_first_link": Safe(link) if _POST_LINK_RE.fullmatch(link) else "",
    }


def _channel_name(message: AlertMessage) -> str:
    """The channel as the desk knows it: its title, else @username, else its id."""
    if message.channel_title:
        return message.channel_title
    if message.channel_username:
        return f"@{message.channel_username}"
    return str(message.channel_id)


def _word_char(ch: str) -> bool:
    """Letters, digits, ``_`` and combining marks/format characters (tashkeel, ZWNJ) inside a
    word or hashtag."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc", "Cf")


def _whole_token(text: str, span: Span) -> Span:
    """``span`` widened to the word or hashtag it falls in (``#عصائب_أهل_الحق`` is marked whole,
    never split by a marker), ``#``/``@`` included."""
    start, end = span.start, span.end
    while start > 0 and _word_char(text[start - 1]):
        start -= 1
    if start > 0 and text[start - 1] in "#@＃":
        start -= 1
    while end < len(text) and _word_char(text[end]):
        end += 1
    if (start, end) == (span.start, span.end):
        return span
    return Span(start, end, span.alias, span.rule, span.entity)
