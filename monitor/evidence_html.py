"""The printable ``post.html`` of an evidence bundle: pure (data in, HTML out).

Every text from Telegram or from reviewers is escaped and carries ``dir="auto"``, so Arabic and
Persian paragraphs run right to left and sit on the right; photos are the bundle's own files,
shown inline. No script, no external resource: the page opens offline and prints as it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.evidence_queries import Evidence

__all__ = ["render_post_html"]

_STYLE = """
body { font-family: "Noto Sans", "Noto Naskh Arabic", Tahoma, sans-serif; max-width: 48rem;
       margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.5; }
[dir="auto"] { unicode-bidi: plaintext; text-align: start; }
.text { white-space: pre-wrap; font-size: 1.1rem; border-inline-start: 3px solid #888;
        padding: .25rem .75rem; }
.meta, .small { color: #444; font-size: .9rem; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0; border: 1px solid #ccc; }
table { border-collapse: collapse; font-size: .85rem; }
td, th { border: 1px solid #ccc; padding: .15rem .4rem; text-align: start; vertical-align: top; }
code { font-size: .8rem; word-break: break-all; }
@media print { a { color: inherit; } .text { break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _link(username: str | None, channel_id: int, message_id: int) -> str:
    from monitor.evidence import post_link

    return post_link(username, channel_id, message_id)


def render_post_html(
    evidence: Evidence, *, photos: Mapping[str, str], citations: Mapping[str, str]
) -> str:
    """The page; ``photos`` maps a SHA-256 to its file name in the bundle."""
    chan = evidence.channel
    lead = evidence.lead
    username = chan.get("username")
    link = _link(username, lead["channel_id"], lead["message_id"])
    parts = [
        "<!doctype html>",
        '<html lang="und"><head><meta charset="utf-8">',
        f"<title>{_e(chan.get('title'))} / {_e(lead['message_id'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f'<h1 dir="auto">{_e(chan.get("title"))}</h1>',
        '<p class="meta">',
        f"@{_e(username)} · " if username else "",
        f'channel {_e(chan["id"])} · <a href="{_e(link)}">{_e(link)}</a></p>',
    ]
    for message in evidence.messages:
        parts.extend(_message(message, photos, username))
    if evidence.flags:
        parts.append(
            "<h2>Flags and review</h2><table><tr><th>flag</th><th>entity</th>"
            "<th>status</th><th>reviewer</th><th>note</th></tr>"
        )
        for item in evidence.flags:
            parts.append(
                f'<tr><td>{_e(item["id"])}</td><td dir="auto">{_e(item.get("entity_name"))}'
                f'</td><td>{_e(item["status"])}</td><td dir="auto">{_e(item["reviewer"])}</td>'
                f'<td dir="auto">{_e(item["note"])}</td></tr>'
            )
        parts.append("</table>")
        if evidence.audit:
            parts.append('<ul class="small">')
            for event in evidence.audit:
                details = event.get("details") or {}
                note = details.get("note") if isinstance(details, dict) else None
                parts.append(
                    f"<li>{_e(_when(event['at']))}: {_e(event['actor'])} {_e(event['action'])} "
                    f"flag {_e(event['subject_id'])}"
                    + (f' — <span dir="auto">{_e(note)}</span>' if note else "")
                    + "</li>"
                )
            parts.append("</ul>")
    if citations:
        parts.append("<h2>Citations</h2>")
        for style, text in citations.items():
            parts.append(f'<h3>{_e(style)}</h3><pre dir="auto">{_e(text)}</pre>')
    parts.append(
        '<p class="small">Archived by telegram-monitor. Each file of this bundle is listed in '
        "manifest.json with its SHA-256 and the capture-log entries that cover it; check them "
        "with <code>monitor verify &lt;bundle&gt;.zip</code>.</p></body></html>"
    )
    return "\n".join(parts) + "\n"


def _message(message: dict[str, Any], photos: Mapping[str, str], username: str | None) -> list:
    item = message["post"]
    versions = message["versions"]
    current = next(
        (v for v in versions if v["content_hash"] == item["content_hash"]),
        versions[-1] if versions else None,
    )
    link = _link(username, item["channel_id"], item["message_id"])
    meta = [f"message {_e(item['message_id'])}", f"posted {_e(_when(item['posted_at']))}"]
    if item.get("edited_at"):
        meta.append(f"edited {_e(_when(item['edited_at']))}")
    if item.get("deleted_at"):
        meta.append(f"<strong>deleted at source by {_e(_when(item['deleted_at']))}</strong>")
    meta.append(f"first captured {_e(_when(item['first_captured_at']))}")
    if item.get("views") is not None:
        meta.append(f"{_e(item['views'])} views")
    parts = [
        f'<article><h2><a href="{_e(link)}">{_e(link)}</a></h2>',
        f'<p class="meta">{" · ".join(meta)}</p>',
    ]
    if current is not None and current["text"]:
        parts.append(f'<div class="text" dir="auto">{_e(current["text"])}</div>')
    for medium in message["media"]:
        name = photos.get(medium["sha256"] or "")
        if name:
            parts.append(
                f'<figure><img src="{_e(name)}" alt="photo {_e(medium["position"])}">'
                f'<figcaption class="small">SHA-256 <code>{_e(medium["sha256"])}</code>'
                "</figcaption></figure>"
            )
        else:
            parts.append(f'<p class="small">[{_e(medium["kind"])}: not downloaded]</p>')
    if len(versions) > 1:
        parts.append("<h3>Versions captured</h3><ol>")
        for version in versions:
            parts.append(
                f'<li><span class="small">captured {_e(_when(version["captured_at"]))}'
                + (f", edited {_e(_when(version['edited_at']))}" if version["edited_at"] else "")
                + f'</span><div class="text" dir="auto">{_e(version["text"])}</div></li>'
            )
        parts.append("</ol>")
    parts.append("</article>")
    return parts
