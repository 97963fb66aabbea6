"""Make untrusted post text inert: strip bidi overrides, defuse mentions, escape per format.

Order matters: :func:`defuse` first (format-independent), then the format's escape, then our own
markup (highlights, isolates) around the escaped pieces.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

__all__ = [
    "BIDI_CONTROLS",
    "FSI",
    "PDI",
    "WORD_JOINER",
    "defuse",
    "escape_html",
    "escape_markdown",
    "has_rtl",
    "isolate",
    "one_line",
    "safe_terminal_text",
    "strip_controls",
]

# Embeddings/overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI): a post must not be
# able to reorder the desk's message around it. We add our own balanced FSI...PDI afterwards.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
FSI = "\u2068"
PDI = "\u2069"
WORD_JOINER = "\u2060"

_BIDI_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
# "@here", "@channel", "@everyone", "@user": a word joiner after "@" stops every chat service from
# resolving the mention while the text still reads the same. Slack/Discord also parse
# "<!here>", "<@U123>", "<#C123>": break those after "<".
_MENTION_RE = re.compile(r"([@\uFF20])")
_ANGLE_MENTION_RE = re.compile(r"<(?=[!@#])")

# CommonMark: backslash escapes any ASCII punctuation. Escape the inline syntax everywhere and the
# block syntax (lists, headings, quotes, setext underlines) at the start of a line.
_MD_INLINE_RE = re.compile(r"([\\`*_\[\]()<>#!|~{}])")
_MD_LINE_START_RE = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)


# C0 controls but tab and newline, DEL, C1 controls: ESC sequences would drive the desk's
# terminal (colours, cursor moves, OSC 8 links, window titles); NUL and the rest confuse sinks.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK_RE = re.compile("\r\n?|[\u2028\u2029\x85]")


def strip_controls(text: str) -> str:
    """``text`` with line breaks as ``\n`` and every other control character removed
    (tab and newline stay)."""
    return _CONTROL_RE.sub("", _LINE_BREAK_RE.sub("\n", text))


def one_line(text: str) -> str:
    """``text`` on one line: controls removed, every run of whitespace (newlines, tabs) one space."""
    return " ".join(strip_controls(text).split())


def safe_terminal_text(text: str, *, single_line: bool = False) -> str:
    """Untrusted text (post text, channel titles) made safe to print on a terminal: no control
    characters (ESC sequences, carriage returns), no bidi overrides, and with ``single_line``
    no line breaks. Print it through ``rich.text.Text`` (or ``rich.markup.escape`` it) so that
    ``[link=...]``-style markup in it stays literal."""
    text = _BIDI_RE.sub("", strip_controls(text))
    return one_line(text) if single_line else text


def defuse(text: str) -> str:
    """Untrusted text with control characters and bidi controls removed and mentions broken
    (format-independent)."""
    text = _BIDI_RE.sub("", strip_controls(text))
    text = _MENTION_RE.sub(r"\1" + WORD_JOINER, text)
    return _ANGLE_MENTION_RE.sub("<" + WORD_JOINER, text)


def escape_markdown(text: str) -> str:
    """Escape ``text`` so Markdown renders it literally (no links, emphasis, code or HTML)."""
    text = _MD_INLINE_RE.sub(r"\\\1", text)

    def _line_start(match: re.Match[str]) -> str:
        lead, token = match.group(1), match.group(2)
        if token.isdigit():  # "1." / "1)" would start an ordered list: escape the dot instead
            return f"{lead}{token}\\"
        return f"{lead}\\{token}"

    return _MD_LINE_START_RE.sub(_line_start, text)


def escape_html(text: str) -> Markup:
    """HTML-escape ``text`` (``<script>`` becomes ``&lt;script&gt;``)."""
    return escape(text)


def has_rtl(text: str) -> bool:
    """Whether ``text`` has a strong right-to-left letter (Arabic, Hebrew, Persian...)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def isolate(text: str) -> str:
    """Wrap each line holding RTL letters in FSI...PDI so it cannot reorder what surrounds it.

    Isolates end at a paragraph break, so every line gets its own balanced pair.
    """
    return "\n".join(f"{FSI}{line}{PDI}" if has_rtl(line) else line for line in text.split("\n"))
