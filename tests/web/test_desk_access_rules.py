"""Who may see and do what on the desk, over HTTP against the running app, on both databases:
login required everywhere but /healthz, CSRF tokens on every form, roles, rate-limited logins,
signed HttpOnly SameSite cookies, accounts that end their sessions when disabled or changed."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import select

from monitor.web.passwords import hash_password
from storage import create_engine
from storage.models import audit_event, flag
from storage.users import set_user_disabled, set_user_password
from tests.web.site import PASSWORDS, csrf_of, log_in

PAGES = ["/", "/queue", "/post/1234567890/7", "/events", "/export/flags.csv", "/metrics"]


async def _flag_id(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(flag.c.id))).scalar_one())
    finally:
        await engine.dispose()


async def test_healthz_answers_without_login(client: httpx.AsyncClient):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_needs_a_login(client: httpx.AsyncClient, path: str):
    page = await client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    script = await client.get(path, headers={"accept": "application/json"})
    assert script.status_code == 401


async def test_a_logged_out_post_page_redirects_to_login_and_back(client: httpx.AsyncClient):
    page = await client.get("/post/1234567890/7", headers={"accept": "text/html"})
    assert page.headers["location"] == "/login?next=/post/1234567890/7"
    token = await csrf_of(client, page.headers["location"])
    back = await client.post(
        "/login",
        data={
            "csrf_token": token,
            "name": "amira",
            "password": PASSWORDS["amira"][1],
            "next": "/post/1234567890/7",
        },
    )
    assert back.status_code == 303 and back.headers["location"] == "/post/1234567890/7"
    post = await client.get("/post/1234567890/7")
    assert post.status_code == 200 and "Qais al-Khazali met the ambassador." in post.text


async def test_the_session_cookie_is_signed_httponly_and_samesite(client: httpx.AsyncClient):
    token = await csrf_of(client, "/login")
    response = await client.post(
        "/login", data={"csrf_token": token, "name": "amira", "password": PASSWORDS["amira"][1]}
    )
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith("desk_session=")
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "secure" not in attributes  # plain HTTP on loopback; --secure-cookies adds it
    value = client.cookies["desk_session"]
    # The same cookie with its signature changed is no session.
    async with httpx.AsyncClient(base_url=str(client.base_url)) as forged:
        forged.cookies.set("desk_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
        assert (await forged.get("/queue", headers={"accept": "text/html"})).status_code == 303
    assert (await client.get("/queue")).status_code == 200


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient, db_url: str):
    token = await log_in(client, "amira")
    flag_id = await _flag_id(db_url)
    missing = await client.post(f"/flags/{flag_id}/review", data={"action": "confirm"})
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = await client.post(
        f"/flags/{flag_id}/review", data={"action": "confirm", "csrf_token": "x" * 43}
    )
    assert wrong.status_code == 403
    assert (await client.post("/logout", data={})).status_code == 403
    other = httpx.AsyncClient(base_url=str(client.base_url))
    async with other:
        login = await other.post(
            "/login", data={"name": "amira", "password": PASSWORDS["amira"][1]}
        )
        assert login.status_code == 403
    still = (await client.get("/queue")).text
    assert "status-new" in still and "status-confirmed" not in still  # nothing changed
    done = await client.post(
        f"/flags/{flag_id}/review", data={"action": "confirm", "csrf_token": token}
    )
    assert done.status_code == 303


async def test_a_review_is_audited_with_the_users_name(client: httpx.AsyncClient, db_url: str):
    token = await log_in(client, "amira")
    flag_id = await _flag_id(db_url)
    response = await client.post(
        f"/flags/{flag_id}/review",
        data={"action": "escalate", "note": "needs a second look", "csrf_token": token},
        headers={"x-requested-with": "desk"},
    )
    assert response.json() == {
        "id": flag_id,
        "status": "escalated",
        "reviewer": "amira",
        "note": "needs a second look",
    }
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(select(audit_event).where(audit_event.c.action == "flag.status"))
            ).mappings()
            events = [dict(r) for r in rows]
    finally:
        await engine.dispose()
    assert [(e["actor"], e["subject_id"], e["details"]) for e in events] == [
        (
            "amira",
            str(flag_id),
            {"from": "new", "to": "escalated", "note": "needs a second look"},
        )
    ]


async def test_roles(client: httpx.AsyncClient, desk, db_url: str):
    flag_id = await _flag_id(db_url)
    for name, export, review, metrics in [
        ("amira", 403, 303, 403),  # desk: reviews, no export
        ("noor", 200, 403, 403),  # analyst: exports, does not review
        ("omar", 403, 403, 200),  # operator: metrics
        ("root", 200, 303, 200),  # admin: everything
    ]:
        async with httpx.AsyncClient(base_url=desk.url) as http:
            token = await log_in(http, name)
            got = await http.get("/export/flags.csv")
            assert got.status_code == export, name
            if export == 200:
                assert got.content.startswith(b"\xef\xbb\xbf") and b"Qais al-Khazali" in got.content
            else:
                assert "may not export" in got.text
            posted = await http.post(
                f"/flags/{flag_id}/review", data={"action": "reopen", "csrf_token": token}
            )
            assert posted.status_code == review, name
            assert (await http.get("/metrics")).status_code == metrics, name


async def test_metrics_speak_prometheus_to_an_operator_with_basic_auth(
    client: httpx.AsyncClient,
):
    assert (await client.get("/metrics")).status_code == 401
    wrong = base64.b64encode(b"omar:not-the-password").decode()
    assert (
        await client.get("/metrics", headers={"authorization": f"Basic {wrong}"})
    ).status_code == 401
    desk = base64.b64encode(f"amira:{PASSWORDS['amira'][1]}".encode()).decode()
    assert (
        await client.get("/metrics", headers={"authorization": f"Basic {desk}"})
    ).status_code == 403
    good = base64.b64encode(f"omar:{PASSWORDS['omar'][1]}".encode()).decode()
    response = await client.get("/metrics", headers={"authorization": f"Basic {good}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "# TYPE monitor_flags gauge" in lines
    assert 'monitor_flags{status="new"} 1' in lines
    assert 'monitor_posts{channel_id="1234567890",channel="some_channel"} 1' in lines


async def test_logins_are_rate_limited(client: httpx.AsyncClient):
    token = await csrf_of(client, "/login")
    for _ in range(5):
        failed = await client.post(
            "/login", data={"csrf_token": token, "name": "amira", "password": "wrong password"}
        )
        assert failed.status_code == 401
    limited = await client.post(
        "/login",
        data={"csrf_token": token, "name": "amira", "password": PASSWORDS["amira"][1]},
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many failed logins" in limited.text
    # Another account from the same address is not locked out by amira's failures.
    other = await client.post(
        "/login", data={"csrf_token": token, "name": "noor", "password": PASSWORDS["noor"][1]}
    )
    assert other.status_code == 303


async def test_disabling_or_a_new_password_ends_open_sessions(
    client: httpx.AsyncClient, db_url: str
):
    await log_in(client, "amira")
    assert (await client.get("/queue")).status_code == 200
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await set_user_password(
                "amira", hash_password("a brand new password"), conn=conn, by="t"
            )
        assert (await client.get("/queue", headers={"accept": "text/html"})).status_code == 303
        await log_in(client, "amira", "a brand new password")
        assert (await client.get("/queue")).status_code == 200
        async with engine.begin() as conn:
            await set_user_disabled("amira", True, conn=conn, by="t")
        assert (await client.get("/queue", headers={"accept": "text/html"})).status_code == 303
        token = await csrf_of(client, "/login")
        refused = await client.post(
            "/login",
            data={"csrf_token": token, "name": "amira", "password": "a brand new password"},
        )
        assert refused.status_code == 401
    finally:
        await engine.dispose()


async def test_pages_carry_a_strict_content_security_policy(client: httpx.AsyncClient):
    await log_in(client, "amira")
    for path in ["/login", "/queue", "/post/1234567890/7", "/healthz"]:
        policy = (await client.get(path)).headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
