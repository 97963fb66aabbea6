"""The post page's pure parts: matched spans cut into highlighted pieces, a word diff between
versions, the counters' chart, and the Prometheus text of /metrics."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from monitor.web.ops import prometheus_text
from monitor.web.render import highlight, metric_chart, word_diff

WEB = Path(__file__).resolve().parents[2] / "monitor" / "web"


def test_spans_are_highlighted_merged_and_out_of_range_ones_ignored():
    text = "قيس الخزعلي يستقبل السفير الصيني"
    spans = [
        {"start": 0, "end": 11},
        {"start": 19, "end": 32},
        {"start": 25, "end": 32},  # overlaps the previous one
        {"start": 30, "end": 99},  # from an older text: does not fit
    ]
    assert highlight(text, spans) == [
        ("قيس الخزعلي", True),
        (" يستقبل ", False),
        ("السفير الصيني", True),
    ]
    assert highlight("", []) == [("", False)]


@given(st.text(max_size=40), st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45))))
def test_highlighted_pieces_join_back_to_the_text(text, pairs):
    spans = [{"start": a, "end": b} for a, b in pairs]
    pieces = highlight(text, spans)
    assert "".join(piece for piece, _ in pieces) == text


def test_word_diff_marks_what_an_edit_changed():
    assert word_diff("met the ambassador today.", "met the Chinese ambassador.") == [
        ("same", "met the "),
        ("ins", "Chinese "),
        ("same", "ambassador"),
        ("del", " today"),
        ("same", "."),
    ]


@given(st.text(max_size=60), st.text(max_size=60))
def test_word_diff_rebuilds_both_versions(before, after):
    diff = word_diff(before, after)
    assert "".join(t for op, t in diff if op != "ins") == before
    assert "".join(t for op, t in diff if op != "del") == after


def test_the_chart_scales_each_series_to_its_box():
    start = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)
    metrics = [
        {"captured_at": start + timedelta(hours=h), "views": v, "forwards": f}
        for h, v, f in [(0, 100, 1), (1, 300, 5), (3, 400, 10)]
    ]
    chart = metric_chart(metrics, width=104, height=54)
    assert chart is not None
    assert chart.maxima == {"views": 400, "forwards": 10}
    # x: 4 + t/3h * 96; y: 50 - v/max * 46
    assert chart.lines["views"] == "4.0,38.5 36.0,15.5 100.0,4.0"
    assert metric_chart(metrics[:1]) is None


def test_metrics_in_prometheus_text_format():
    now = datetime(2024, 5, 13, 12, 0, tzinfo=UTC)
    text = prometheus_text(
        {
            "posts": [(42, "khazali_media_sim", 130), (7, None, 3)],
            "flags": {"new": 5, "confirmed": 2},
            "alerts": {"delivered": 4, "failed": 1},
            "channels": [
                {
                    "channel_id": 42,
                    "username": 'we"ird',
                    "next_poll_at": now - timedelta(seconds=90),
                    "flood_wait_until": now + timedelta(seconds=30),
                    "consecutive_errors": 2,
                },
                {
                    "channel_id": 7,
                    "username": None,
                    "next_poll_at": None,  # a one-shot collect schedules nothing
                    "flood_wait_until": None,
                    "consecutive_errors": 0,
                },
            ],
        },
        now=now,
    )
    lines = text.splitlines()
    assert 'monitor_posts{channel_id="42",channel="khazali_media_sim"} 130' in lines
    assert 'monitor_posts{channel_id="7",channel=""} 3' in lines
    assert 'monitor_flags{status="confirmed"} 2' in lines
    assert 'monitor_alerts{status="failed"} 1' in lines
    assert 'monitor_poll_lag_seconds{channel_id="42",channel="we\\"ird"} 90' in lines
    assert 'monitor_flood_wait_seconds{channel_id="42",channel="we\\"ird"} 30' in lines
    assert 'monitor_flood_wait_seconds{channel_id="7",channel=""} 0' in lines
    assert not any(line.startswith('monitor_poll_lag_seconds{channel_id="7"') for line in lines)
    assert "# TYPE monitor_channel_consecutive_errors gauge" in lines
    assert text.endswith("\n")


def test_the_desk_never_imports_the_collector_or_the_scheduler():
    forbidden = (
        "monitor.collector",
        "monitor.scheduler",
        "monitor.pipeline",
        "monitor.service",
        "telethon",
    )
    for path in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
