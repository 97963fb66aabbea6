"""``console://``: print alerts with Rich (the demo uses it). Text is never parsed as Rich markup."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from alerts.render import RenderedAlert

__all__ = ["ConsoleSink"]


class ConsoleSink:
    name = "console://"
    format = "text"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    @classmethod
    def from_url(cls, url: str) -> ConsoleSink:
        return cls(Console(highlight=False, stderr=url.rstrip("/").endswith("stderr")))

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None:
        style = {"followup": "yellow", "digest": "cyan"}.get(message.message.kind, "red")
        self.console.print(
            Panel(
                Text(message.body.rstrip("\n")),  # Text(): a post's "[bold]" stays literal
                title=Text(message.title, style=f"bold {style}"),
                subtitle=Text(idempotency_key, style="dim"),
                border_style=style,
                title_align="left",
            )
        )
