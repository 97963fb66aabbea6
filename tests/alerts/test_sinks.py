"""Built-in sinks (JSON lines, console, memory), the registry, and secrets kept out of errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from alerts import AlertConfigError, AlertDeliveryError, AlertMessage, Renderer, Span, get_sink
from alerts.sinks import AppriseSink, ConsoleSink, JsonlSink, MemorySink
from tests.alerts.conftest import free_port

MESSAGE = AlertMessage(
    kind="alert",
    route="desk",
    channel_id=1,
    message_id=2,
    channel_title="Chan",
    channel_username="chan",
    entities=("Hezbollah",),
    spans=(Span(0, 9, "Hezbollah"),),
    text="Hezbollah [bold red]styled[/] @here",
    posted_at=datetime(2026, 1, 5, tzinfo=UTC),
    flag_ids=(3,),
)


async def test_jsonl_sink_appends_one_object_per_line(tmp_path: Path):
    path = tmp_path / "out" / "alerts.jsonl"
    sink = get_sink(f"jsonl://{path}")
    assert isinstance(sink, JsonlSink)
    rendered = Renderer().render(MESSAGE, sink.format)
    await sink.send(rendered, idempotency_key="k1")
    await sink.send(rendered, idempotency_key="k2")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["idempotency_key"] for line in lines] == ["k1", "k2"]
    assert lines[0]["message"]["link"] == "https://t.me/chan/2"
    assert lines[0]["message"]["flag_ids"] == [3]


async def test_jsonl_sink_reports_an_unwritable_path(tmp_path: Path):
    (tmp_path / "file").write_text("")
    sink = get_sink(f"jsonl://{tmp_path / 'file' / 'alerts.jsonl'}")
    with pytest.raises(AlertDeliveryError, match="cannot append"):
        await sink.send(Renderer().render(MESSAGE, "text"), idempotency_key="k")


async def test_console_sink_prints_post_text_literally():
    console = Console(record=True, width=120, color_system=None)
    await ConsoleSink(console).send(Renderer().render(MESSAGE, "text"), idempotency_key="k9")
    out = console.export_text()
    assert "[bold red]styled[/]" in out and "k9" in out


async def test_memory_sink_by_name():
    sink = get_sink("memory://desk-test")
    assert sink is MemorySink.named("desk-test")
    await sink.send(Renderer().render(MESSAGE, "text"), idempotency_key="k")
    assert MemorySink.named("desk-test").keys == ["k"]


def test_registry_rejects_bad_urls():
    with pytest.raises(AlertConfigError, match="no scheme"):
        get_sink("just-a-host")
    with pytest.raises(AlertConfigError, match="not a usable Apprise URL"):
        get_sink("nosuchservice://token123456@host")


def test_sink_names_hide_tokens():
    assert get_sink("json://user:hunter2secret@127.0.0.1:8080/hooks/abcdef123").name == (
        "json://127.0.0.1:8080"
    )
    tgram = get_sink("tgram://123456789:AAHsecretTOKENxyz/987654")
    assert "AAHsecretTOKENxyz" not in tgram.name and tgram.format == "markdown"


async def test_delivery_errors_do_not_leak_credentials():
    port = free_port()  # nothing listens: connection refused
    sink = AppriseSink(f"json://user:hunter2secret@127.0.0.1:{port}/hooks/abcdef123")
    with pytest.raises(AlertDeliveryError) as caught:
        await sink.send(Renderer().render(MESSAGE, "text"), idempotency_key="k")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "hunter2secret" not in str(caught.value) and "abcdef123" not in str(caught.value)
