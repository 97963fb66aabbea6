"""Rendering: hostile posts render inert in every format; highlights, RTL, times, links."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

from alerts import AlertConfigError, AlertMessage, Renderer, Span
from alerts.safety import BIDI_CONTROLS, FSI, PDI

HOSTILE = (
    "Hezbollah says <script>alert('x')</script> see [the list](http://evil.example) and "
    "![img](http://evil.example/p.png) **loud** _it_ `code` @here @channel @everyone <!here> "
    "<@U123> \u202egnp.exe\u202c \u2066x\u2069\n# heading\n> quote\n- item\n1. first"
)
ARABIC = "قال حزب الله في بيان"


def message(text: str = HOSTILE, **overrides: object) -> AlertMessage:
    start = text.find("Hezbollah") if "Hezbollah" in text else text.find("حزب الله")
    length = len("Hezbollah") if "Hezbollah" in text else len("حزب الله")
    values: dict[str, object] = {
        "kind": "alert",
        "route": "desk",
        "channel_id": 1234,
        "message_id": 56,
        "channel_title": "Evil <b>channel</b> [x](http://evil.example) @everyone",
        "channel_username": "evil_news",
        "entities": ("Hezbollah",),
        "spans": (Span(start, start + length, "Hezbollah"),),
        "text": text,
        "posted_at": datetime(2026, 1, 5, 21, 30, tzinfo=UTC),
        "language": "en",
        "photo_count": 3,
        "flag_ids": (11, 12),
    }
    values.update(overrides)
    return AlertMessage(**values)  # type: ignore[arg-type]


class Tags(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert_html(html: str) -> None:
    tags = Tags(html).tags
    names = {name for name, _ in tags}
    assert names <= {"p", "b", "strong", "bdi", "div", "br", "a", "ul", "li", "ol"}, names
    links = [attrs.get("href") for name, attrs in tags if name == "a"]
    assert links == ["https://t.me/evil_news/56"]


def assert_defused(text: str) -> None:
    for mention in ("@here", "@channel", "@everyone", "<!here>", "<@U123>"):
        assert mention not in text
    assert not (set(text) & (BIDI_CONTROLS - {FSI, PDI}))
    assert text.count(FSI) == text.count(PDI)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_hostile_post_renders_inert(fmt: str):
    rendered = Renderer(snippet_context=1000, snippet_limit=2000).render(message(), fmt)
    assert_defused(rendered.body)
    assert_defused(rendered.title)
    for ch in "<>[]()*`":
        assert ch not in rendered.title
    if fmt == "html":
        assert_inert_html(rendered.body)
        assert "&lt;script&gt;" in rendered.body
    elif fmt == "markdown":
        html = markdown.markdown(rendered.body)
        assert_inert_html(html)
        assert "<em>" not in html and "<code>" not in html and "<h1>" not in html
        assert [t for t, _ in Tags(html).tags].count("strong") == 3  # entities, channel, match
    else:
        assert "gnp.exe" in rendered.body  # the text survives, only the override is gone


def test_matches_are_highlighted_in_each_format():
    r = Renderer()
    assert "[[Hezbollah]]" in r.render(message(), "text").body
    assert "**Hezbollah**" in r.render(message(), "markdown").body
    assert "<b>Hezbollah</b>" in r.render(message(), "html").body


def test_rtl_snippet_is_isolated_and_times_show_desk_zone():
    msg = message(ARABIC, channel_title="قناة", spans=(Span(4, 12, "حزب الله"),))
    r = Renderer(desk_timezone="Asia/Baghdad")
    text = r.render(msg, "text").body
    assert f"{FSI}قال [[حزب الله]] في بيان{PDI}" in text
    assert "2026-01-05 21:30 UTC" in text and "2026-01-06 00:30 +03 (Asia/Baghdad)" in text
    assert 'dir="auto"' in r.render(msg, "html").body
    assert "Language: en | Photos: 3 | Flag: #11, #12" in text


def test_links_and_followups():
    assert message().link == "https://t.me/evil_news/56"
    assert message(channel_username=None).link == "https://t.me/c/1234/56"
    assert message(channel_username="x/../evil").link == "https://t.me/c/1234/56"
    followup = message(kind="followup", changes=('now mentions Qais ("قيس")',))
    body = Renderer().render(followup, "markdown").body
    assert body.startswith("**Update:**") and "now mentions Qais" in body


def test_digest_lists_every_item():
    digest = AlertMessage.digest("desk", [message(message_id=1), message(message_id=2)])
    body = Renderer().render(digest, "html").body
    assert body.count("<li><p>") == 2
    assert "https://t.me/evil_news/1" in body and "https://t.me/evil_news/2" in body


def test_operator_templates_override_and_stay_escaped(tmp_path: Path):
    (tmp_path / "alert.md.j2").write_text("CUSTOM {{ channel }} :: {{ snippet }}\n")
    body = Renderer(template_dir=tmp_path).render(message(), "markdown").body
    assert body.startswith("CUSTOM Evil \\<b\\>channel\\</b\\> \\[x\\]\\(http://evil.example\\)")
    # Formats the operator did not override come from the package.
    assert "Open in Telegram" in Renderer(template_dir=tmp_path).render(message(), "html").body


def test_bad_configuration_is_reported(tmp_path: Path):
    with pytest.raises(AlertConfigError, match="time zone 'Mars/Base'"):
        Renderer(desk_timezone="Mars/Base")
    with pytest.raises(AlertConfigError, match="does not exist"):
        Renderer(template_dir=tmp_path / "missing")
