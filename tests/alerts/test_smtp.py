"""Apprise ``mailto://`` to an aiosmtpd server on loopback (plain SMTP, no TLS)."""

from __future__ import annotations

import email
from email.message import Message

from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import Route, deliver_due, get_sink, sinks_for_routes
from tests.alerts.conftest import Desk, MailBox
from tests.factories import BASE_TIME

HOSTILE = "Hezbollah <script>alert(1)</script> [click](http://evil.example) @here \u202egnp.exe"


def html_part(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")


async def test_mailto_delivers_one_inert_html_mail_per_post(
    engine: AsyncEngine, smtp_server: tuple[MailBox, int]
):
    box, port = smtp_server
    url = f"mailto://127.0.0.1:{port}?to=desk@example.org&from=monitor@example.org"
    assert get_sink(url).format == "html"
    routes = [Route.of("mail", [url])]
    await Desk(engine, routes).flag_post(HOSTILE, ["hezbollah"])

    report = await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)

    assert report.delivered == 1
    [envelope] = box.envelopes
    assert envelope.rcpt_tos == ["desk@example.org"]
    mail = email.message_from_bytes(envelope.content)
    assert mail["X-Idempotency-Key"].startswith("mail:")
    assert "Hezbollah" in str(mail["Subject"])
    body = html_part(mail)
    assert "<b>Hezbollah</b>" in body
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "@\u2060here" in body and "@here" not in body
    assert "\u202e" not in body
