"""Regenerate README's screenshots of the review desk: docs/desk-queue.png and docs/desk-post.png.

Collects the simulated seed scenario into a temporary archive, serves the desk on a free loopback
port and photographs the queue and the May 13, 2024 album in Debian's Chromium at 1280 px, with
the same code as the browser test ``test_screenshots_of_the_queue_and_a_post``.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from monitor.cli import app  # noqa: E402
from tests.web.site import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    add_accounts,
    off_loop,
    settings_for,
    start_desk,
    take_screenshots,
)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    if not CHROMIUM.exists():
        sys.exit(f"needs Debian's Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        env = {
            "MONITOR_DATA_DIR": str(Path(folder) / "data"),
            "MONITOR_CHANNELS_FILE": str(ROOT / "channels.yaml"),
        }
        result = CliRunner().invoke(app, ["demo"], env=env)
        if result.exit_code:
            sys.exit(result.output)
        settings = settings_for(env)
        off_loop(add_accounts, settings.database_url)
        desk = start_desk(settings)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, base_url=desk.url
                )
                for path in take_screenshots(context, settings, out):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)  # noqa: T201
                browser.close()
        finally:
            desk.stop()


if __name__ == "__main__":
    main()
