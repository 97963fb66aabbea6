"""Secrets in route URLs never reach a log line or an error: our redaction, and Apprise's own
logging (it logs every URL it loads at DEBUG and an unparseable one at ERROR)."""

from __future__ import annotations

import logging

import pytest

from alerts import AlertConfigError, AlertDeliveryError, get_sink
from alerts.redact import redact, redact_url
from alerts.render import RenderedAlert
from tests.alerts.conftest import Receiver

TOKEN = "8f14e45fceea167a5a36dedd4bea2543"
PASSWORD = "J50nPassw0rdSecret"


@pytest.mark.parametrize(
    ("url", "secrets", "kept"),
    [
        (f"json://desk:{PASSWORD}@hooks.example.org/hook/{TOKEN}", [PASSWORD, TOKEN], "/hook/"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk", ["T1JJ3T3L2", "#desk"], ""),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["4174216298", "JHMHI8q"], ""),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123", ["AAHdq", "12345"], ""),
        (
            "https://hooks.slack.com/services/T00AAAAAA/B00BBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX",
            ["T00AAAAAA", "B00BBBBBB", "XXXXXXXXXXXXXXXXXXXXXXXX"],
            "hooks.slack.com/services/",
        ),
        (
            "postgresql+asyncpg://monitor@db.example.org/m?password=hunter2&schema=desk",
            ["hunter2"],
            "monitor@db.example.org/m?password=***&schema=desk",
        ),
        ("mailto://desk:SmtpPw99@mail.example.org?to=a@b.org", ["SmtpPw99"], "desk:***@mail"),
        ("json://h.example.org/x?apikey=abc123&Token=zz9&format=markdown", ["abc123", "zz9"], ""),
    ],
)
def test_redact_hides_credentials_path_tokens_and_secret_query_values(url, secrets, kept):
    shown = redact(f"cannot deliver to {url}: timed out")
    for secret in secrets:
        assert secret not in shown
    assert kept in shown
    assert shown.startswith("cannot deliver to " + url.partition("://")[0] + "://")
    assert shown.endswith(": timed out")
    assert redact_url(url) in shown


def test_redact_leaves_harmless_urls_and_file_paths_readable():
    text = (
        "posted https://t.me/alpha_channel_with_long_name2024/12 to json://127.0.0.1:8080/hook "
        "from sqlite+aiosqlite:////srv/monitor-2024/archive20240101/monitor.db?format=markdown"
    )
    assert redact(text) == text


def test_redact_hides_bare_request_paths_and_bot_tokens():
    line = (
        'http://127.0.0.1:8080 "POST /hook/8f14e45fceea167a5a36dedd4bea2543 HTTP/1.1" 200 0; '
        "Max retries exceeded with url: /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/send"
    )
    assert redact(line) == (
        'http://127.0.0.1:8080 "POST /hook/*** HTTP/1.1" 200 0; '
        "Max retries exceeded with url: /***/send"
    )


async def test_apprise_own_debug_and_error_logs_carry_no_secret(
    caplog: pytest.LogCaptureFixture, receiver: Receiver
):
    apprise_logger = logging.getLogger("apprise")
    before = list(apprise_logger.filters)
    apprise_logger.filters.clear()  # as in a fresh process: the sink must install the filter
    caplog.set_level(logging.DEBUG)
    try:
        receiver.mode = "error"
        sink = get_sink(f"json://desk:{PASSWORD}@127.0.0.1:{receiver.port}/hook/{TOKEN}")
        with pytest.raises(AlertDeliveryError) as failed:
            await sink.send(_rendered(), idempotency_key="k1")
        with pytest.raises(AlertConfigError) as refused:
            get_sink(f"nosuchservice://apikey-{TOKEN}:{PASSWORD}@hooks.example.org/x")
    finally:
        logged = [r.getMessage() for r in caplog.records if r.name.startswith("apprise")]
        apprise_logger.filters[:] = before

    assert any("Loaded JSON URL" in line for line in logged)  # Apprise's own logging
    assert any("Unparseable URL" in line for line in logged)
    assert len(receiver.requests) == 1  # the send really went out (and was refused)
    for text in [*logged, str(failed.value), str(refused.value)]:
        assert TOKEN not in text and PASSWORD not in text, text


def _rendered() -> RenderedAlert:
    from alerts import AlertMessage
    from tests.factories import BASE_TIME

    message = AlertMessage(kind="alert", route="desk", text="Hezbollah", posted_at=BASE_TIME)
    return RenderedAlert(title="t", body="b", format="text", message=message)


class _QuotingSink:
    """A sink whose library quotes the whole URL in its exceptions (as HTTP clients do)."""

    format = "text"

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = "quoting://hooks.example.org"

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None:
        if "fail-cleanly" in self.url:
            raise AlertDeliveryError(f"refused by {self.url}")
        raise RuntimeError(f"cannot post to {self.url}")


async def test_the_outbox_error_the_desk_sees_quotes_no_secret(engine):
    from alerts import Route, deliver_due, list_outbox, register_sink, sinks_for_routes
    from tests.alerts.conftest import Desk
    from tests.factories import BASE_TIME

    register_sink("quoting", _QuotingSink)
    routes = [
        Route.of("crash", [f"quoting://desk:{PASSWORD}@hooks.example.org/hook/{TOKEN}"]),
        Route.of("fail", [f"quoting://desk:{PASSWORD}@hooks.example.org/fail-cleanly/{TOKEN}"]),
    ]
    await Desk(engine, routes).flag_post("Hezbollah", ["hezbollah"])

    await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)

    errors = {entry.route: entry.last_error or "" for entry in await list_outbox(engine)}
    assert (
        "RuntimeError: cannot post to quoting://desk:***@hooks.example.org/hook/***"
        in (errors["crash"])
    )
    assert "refused by quoting://desk:***@hooks.example.org/fail-cleanly/***" in errors["fail"]
