"""A daemon at debug level, with real-looking secrets in every secret setting, never prints one.

Every route kind is configured: a json:// webhook on loopback (delivered), an SMTP server on
loopback with a password, and Slack, Discord, Telegram and a native Slack webhook, whose
deliveries fail against the test's network guard, so their error paths (Apprise's debug logs,
connection errors, the outbox's last error) are exercised too.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.models import alert_outbox
from tests.alerts import conftest as alert_fixtures
from tests.alerts.conftest import MailBox, Receiver
from tests.daemon.conftest import GUARDED_MONITOR, Daemon, Env, until

smtp_server = alert_fixtures.smtp_server  # the loopback SMTP server of the alert tests

API_HASH = "9f86d081884c7d659a2feaa0c55ad015"
SESSION = "1ApWapzMBu0x7QaStringSessionSecretZmFrZQ4f2"
PG_PASSWORD = "PgPassw0rdSecret41"
JSON_PASSWORD = "J50nPassw0rdSecret"
JSON_PATH_TOKEN = "8f14e45fceea167a5a36dedd4bea2543"
JSON_QUERY_TOKEN = "QueryT0kenSecret77"
SMTP_PASSWORD = "SmtpPassw0rdSecret"
SLACK_TOKENS = ("T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ")
DISCORD_TOKEN = "JHMHI8qBe7bk2ZwO5U711o3dV_jsDiscord"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NATIVE_SLACK_TOKEN = "NativeSlackT0kenSecret12"
SECRETS = (
    API_HASH,
    SESSION,
    PG_PASSWORD,
    JSON_PASSWORD,
    JSON_PATH_TOKEN,
    JSON_QUERY_TOKEN,
    SMTP_PASSWORD,
    *SLACK_TOKENS,
    DISCORD_TOKEN,
    TELEGRAM_TOKEN,
    TELEGRAM_TOKEN.split(":")[1],
    NATIVE_SLACK_TOKEN,
)

CHANNELS_YAML = """\
defaults: {poll_every: 10s, backfill: 100}
channels:
  - handle: "@alpha_sim"
entities:
  - id: cui-wei
    name: Cui Wei
    kind: person
    aliases: ["Cui Wei"]
alerts:
  routes:
"""


def route_urls(webhook_port: int, smtp_port: int) -> dict[str, str]:
    return {
        "ROUTE_JSON": f"json://desk:{JSON_PASSWORD}@127.0.0.1:{webhook_port}/hook/"
        f"{JSON_PATH_TOKEN}?token={JSON_QUERY_TOKEN}",
        "ROUTE_MAIL": f"mailto://desk:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}"
        "?to=desk@example.org&from=monitor@example.org",
        "ROUTE_SLACK": "slack://" + "/".join(SLACK_TOKENS) + "/#desk",
        "ROUTE_DISCORD": f"discord://4174216298/{DISCORD_TOKEN}",
        "ROUTE_TGRAM": f"tgram://{TELEGRAM_TOKEN}/-1001234567",
        "ROUTE_NATIVE": f"https://hooks.slack.com/services/T00AAAAAA/B00BBBBBB/{NATIVE_SLACK_TOKEN}",
    }


async def test_a_debug_daemon_with_every_route_kind_prints_no_secret(
    sim, daemons, open_db, db_url: str, tmp_path: Path, smtp_server: tuple[MailBox, int]
) -> None:
    channel = sim.channel("alpha_sim", 2)
    sim.backend.post(channel.id, "Ambassador Cui Wei visited the port of Umm Qasr today.")
    webhook = Receiver()
    webhook.start()
    try:
        _, smtp_port = smtp_server
        urls = route_urls(webhook.port, smtp_port)
        url = make_url(db_url)
        if url.get_backend_name() == "postgresql":  # the test server trusts loopback: any password
            db_url = url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
        env = Env(tmp_path, database_url=db_url, server=sim.address)
        routes = "".join(f'    - name: {name.lower()}\n      url: "${{{name}}}"\n' for name in urls)
        env.channels_file.write_text(CHANNELS_YAML + routes)
        env.extra = {
            **urls,
            "MONITOR_TELEGRAM_API_ID": "123456",
            "MONITOR_TELEGRAM_API_HASH": API_HASH,
            "MONITOR_TELEGRAM_SESSION": SESSION,
            "MONITOR_LOG_FORMAT": "console",  # tracebacks rendered for people, not JSON
        }
        code, out, err = await env.monitor("db", "upgrade")
        assert code == 0, err
        printed = [out, err]
        db = open_db(env.url)

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(GUARDED_MONITOR),
            "--debug",
            "run",
            env=env.vars(),
            cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        daemon = Daemon(proc)
        daemons.append(daemon)

        async def every_route_tried() -> bool:
            async with db.engine.connect() as conn:
                rows = (await conn.execute(select(alert_outbox.c.attempts))).all()
            return len(rows) == len(urls) and all(row.attempts >= 1 for row in rows)

        await until(every_route_tried, "an attempt on every route", context=daemon.log_tail)
        await until(lambda: bool(webhook.accepted), "the json:// alert", context=daemon.log_tail)
        assert await daemon.stop(signal.SIGTERM) == 0, daemon.log_tail()
        printed += [daemon.stdout, *daemon.lines]
        # What the desk sees afterwards: the outbox with each route's last error.
        code, out, err = await env.monitor("--debug", "alerts", "list", "--failed")
        assert code == 0, err
        printed += [out, err]
    finally:
        webhook.stop()

    output = "\n".join(printed)
    assert "Cui Wei" in output or "alert" in output  # the scan looked at real output
    assert "hooks.slack.com" in output or "slack://" in output  # failed routes were logged
    leaked = [secret for secret in SECRETS if secret in output]
    assert leaked == [], "\n".join(
        line for line in output.splitlines() if any(s in line for s in leaked)
    )[:4000]
