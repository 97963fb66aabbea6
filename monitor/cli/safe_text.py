"""Stored text made safe to print through Rich: shown literally, never as markup or terminal codes.

Channel titles, post text, snippets, notes and names come from Telegram or from people; a title
such as ``[link=https://evil.example/login]x`` must not become a link, and an ESC must not reach
the terminal.
"""

from __future__ import annotations

import re

from rich.markup import escape

__all__ = ["inert", "markup_safe"]

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f; 0x9b is a one-byte CSI).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: object) -> str:
    """``text`` without terminal control characters, for a Rich ``Text`` (which has no markup)."""
    return _CONTROLS.sub("", "" if text is None else str(text))


def markup_safe(text: object) -> str:
    """``text`` without control characters and with Rich markup escaped, for markup strings."""
    return escape(inert(text))
