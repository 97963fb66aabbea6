"""The desk's session key and login limits, and the Secure cookie behind HTTPS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from monitor.settings import load_settings
from monitor.web.app import load_secret
from monitor.web.auth import LoginLimiter
from tests.web.site import PASSWORDS, csrf_of, start_desk


def test_the_session_key_is_created_private_once_and_kept(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path / "data")
    key = load_secret(settings)
    path = settings.data_dir / "web-secret.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) >= 40
    assert load_secret(settings) == key  # sessions survive a restart


def test_failed_logins_are_limited_per_name_and_per_address():
    limiter = LoginLimiter(per_name=5, per_address=20, window=300)
    for _ in range(4):
        limiter.failed("10.0.0.1", "amira")
    assert limiter.retry_after("10.0.0.1", "amira") == 0
    limiter.failed("10.0.0.1", "Amira")  # names compare lowercased
    assert 295 <= limiter.retry_after("10.0.0.1", "amira") <= 301
    assert limiter.retry_after("10.0.0.2", "amira") > 0  # the name, from anywhere
    assert limiter.retry_after("10.0.0.1", "noor") == 0  # other names from the same address
    for index in range(15):
        limiter.failed("10.0.0.1", f"guess{index}")
    assert limiter.retry_after("10.0.0.1", "noor") > 0  # twenty from one address: it waits
    assert limiter.retry_after("10.0.0.3", "noor") == 0
    limiter.succeeded("amira")
    assert limiter.retry_after("10.0.0.2", "amira") == 0


async def test_secure_cookies_when_served_behind_https(desk):
    running = await asyncio.to_thread(start_desk, desk.settings, secure_cookies=True)
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:
            answer = await http.get("/login")  # the session (its CSRF token) starts here
            # A Secure cookie is not sent back over plain HTTP: the login form is refused.
            refused = await http.post(
                "/login",
                data={
                    "csrf_token": await csrf_of(http, "/login"),
                    "name": "amira",
                    "password": PASSWORDS["amira"][1],
                },
            )
            assert refused.status_code == 403
        attributes = [p.strip().lower() for p in answer.headers["set-cookie"].split(";")]
        assert "secure" in attributes and "httponly" in attributes
        assert "max-age=43200" in attributes  # a 12-hour session
    finally:
        await asyncio.to_thread(running.stop)


def test_redirects_after_login_stay_on_the_desk():
    from monitor.web.auth import safe_next

    assert safe_next("/post/1/125?x=1") == "/post/1/125?x=1"
    for hostile in [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "",
        None,
        "/ok\\..\\",
        "javascript:alert(1)",
        "/\t/evil.example",
    ]:
        assert safe_next(hostile) == "/queue", hostile
