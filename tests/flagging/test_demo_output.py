"""`monitor demo` prints one line per alert and says where the full alerts went, instead of
printing every alert in full."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.flagging.desk import json_lines


def test_demo_prints_one_line_per_alert_and_names_the_full_alerts(seed):
    env, output = seed
    alerts = json_lines(env, "alerts", "list", "--limit", "1000")
    assert alerts and all(a["status"] == "delivered" for a in alerts)
    routes = {a["route"] for a in alerts}
    assert routes == {"console", "demo"}
    printed = output.splitlines()
    header = next(i for i, line in enumerate(printed) if line.startswith("alert: channel"))
    end = next(i for i, line in enumerate(printed) if "alerts delivered" in line)
    table = [line for line in printed[header + 2 : end] if line.strip()]
    alert_line = re.compile(r"@\w+ +\d{4}-\d\d-\d\d \d\d:\d\d +(console|demo) +\w")
    assert all(alert_line.match(line) for line in table), table  # nothing wrapped
    assert len(table) == len(alerts)  # one line per alert
    assert "╭" not in output  # no alert boxes
    data = Path(env["MONITOR_DATA_DIR"])
    assert str(data / "alerts.jsonl") in output.replace("\n", "")
    written = (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(written) == sum(a["route"] == "demo" for a in alerts)
    assert all(json.loads(line) for line in written)
    console_file = data / "alerts-console.txt"
    assert str(console_file) in output.replace("\n", "")
    assert console_file.read_text(encoding="utf-8").count("╭") == sum(
        a["route"] == "console" for a in alerts
    )


def test_demo_reads_the_photos_text_with_a_tesseract_per_core(seed):
    # The daemon reads one photo at a time (MONITOR_OCR_WORKERS=1); the demo, which only waits
    # for the text, one per core, up to four. (The setting wins: tests/test_settings.py.)
    _, output = seed
    told = [v for k, v in os.environ.items() if k.upper() == "MONITOR_OCR_WORKERS"]
    expected = int(told[0]) if told else min(len(os.sched_getaffinity(0)), 4)
    found = re.search(r"Text read in (\d+) photos by Tesseract, (\d+) at a time", output)
    assert found, output
    assert int(found[1]) > 0 and int(found[2]) == expected
