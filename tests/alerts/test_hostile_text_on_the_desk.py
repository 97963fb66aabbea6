"""What the desk sees when a post or a channel title is hostile: no terminal control sequences on
the console route, Rich markup shown as text, one-line headers, clean Slack bodies, and match
markers that cannot be mistaken for the post's own punctuation."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import apprise
from apprise import NotifyFormat
from rich.console import Console

from alerts import AlertMessage, Renderer, Span, get_sink
from alerts.safety import safe_terminal_text
from alerts.sinks import ConsoleSink

# Clear screen, an OSC 8 hyperlink, a window title, a C1 CSI, a carriage return that would
# overwrite the line, NUL and BEL.
ESCAPES = (
    "\x1b[2J\x1b]8;;https://evil.example/login\x1b\\click\x1b]8;;\x1b\\"
    "\x1b]0;pwned\x07\x9b31m\r\x00"
)
TITLE = "[link=https://evil.example/login]Official[/link] [/bold]News\nsecond line\x1b[31m"
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours Rich itself writes on a terminal


def alert(text: str, spans: tuple[Span, ...], **overrides: object) -> AlertMessage:
    values: dict[str, object] = {
        "kind": "alert",
        "route": "desk",
        "channel_id": 1234,
        "message_id": 56,
        "channel_title": TITLE,
        "channel_username": "evil_news",
        "entities": ("Hezbollah",),
        "spans": spans,
        "text": text,
        "posted_at": datetime(2026, 1, 5, 21, 30, tzinfo=UTC),
        "photo_count": 1,
        "flag_ids": (11,),
    }
    return AlertMessage(**(values | overrides))  # type: ignore[arg-type]


def hezbollah_post() -> AlertMessage:
    text = f"Hezbollah {ESCAPES} said"
    return alert(text, (Span(0, 9, "Hezbollah"),))


async def test_the_console_route_prints_no_control_sequence_and_no_markup():
    out = io.StringIO()
    sink = ConsoleSink(Console(file=out, force_terminal=True, width=200, highlight=False))
    rendered = Renderer().render(hezbollah_post(), sink.format)

    await sink.send(rendered, idempotency_key="desk:1")

    printed = out.getvalue()
    leftover = RICH_SGR.sub("", printed)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", leftover), repr(leftover)
    assert "\x1b]8;" not in printed  # no hyperlink to evil.example
    # The title's markup is shown as text, on the header line, with the rest of the title.
    assert "[link=https://evil.example/login]Official[/link] [/bold]News second line" in printed
    assert "[[Hezbollah]]" in printed and "said" in printed


def test_a_newline_in_a_channel_title_never_splits_the_alert_header():
    for fmt in ("text", "markdown", "html"):
        rendered = Renderer().render(hezbollah_post(), fmt)
        header = rendered.body.splitlines()[0]
        assert "Official" in header and "second line" in header, (fmt, rendered.body)
        assert "\n" not in rendered.title and "second line" in rendered.title
        assert "\x1b" not in rendered.body + rendered.title


def test_matches_are_marked_whole_hashtags_and_words_never_split():
    hashtag = "الحشد يرد #عصائب_أهل_الحق اليوم ووزير الدفاع"
    start = hashtag.index("عصائب")
    clitic = hashtag.index("وزير") + 1  # the alias without the proclitic و
    message = alert(
        hashtag,
        (Span(start, start + len("عصائب_أهل_الحق"), "عصائب أهل الحق"), Span(clitic, clitic + 3)),
    )
    renderer = Renderer()

    text = renderer.render(message, "text").body
    markdown = renderer.render(message, "markdown").body
    html = renderer.render(message, "html").body

    assert "[[#عصائب_أهل_الحق]]" in text and "[[ووزير]]" in text
    assert "«" not in text and "»" not in text
    assert r"**\#عصائب\_أهل\_الحق**" in markdown and "**ووزير**" in markdown
    assert "<b>#عصائب_أهل_الحق</b>" in html and "<b>ووزير</b>" in html


def test_slack_shows_the_post_as_written_without_stray_backslashes_or_links():
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk"
    sink = get_sink(url)
    text = "Hezbollah: 1. *loud* _it_ `code` [click](http://evil.example) <!here> a|b ~x~ #tag"
    rendered = Renderer().render(alert(text, (Span(0, 9, "Hezbollah"),)), sink.format)
    slack = apprise.Apprise.instantiate(url)

    # What Apprise's Slack plugin turns our body into before posting it to Slack.
    sent = slack.dialect_convert(rendered.body, NotifyFormat(sink.format))

    assert "\\" not in sent
    assert "*loud* _it_ `code` [click](http://evil.example) &lt;\u2060!here&gt;" in sent
    assert "<http" not in sent and "<!here>" not in sent


def test_safe_terminal_text_removes_controls_and_keeps_the_words():
    assert safe_terminal_text("a\x1b[2Jb\x9b31m\x00c\td\r\ne\rf") == "a[2Jb31mc\td\ne\nf"
    assert safe_terminal_text("Official\nNews\u202e\x1b]0;x\x07", single_line=True) == (
        "Official News]0;x"
    )
