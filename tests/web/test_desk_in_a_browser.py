"""The desk in Chromium (Playwright), over the seed scenario collected from the simulated
Telegram: log in, the queue, the May 13, 2024 album with its photos, reviewing by button and by
keyboard with the audit trail, the login redirect, roles and CSRF as a browser meets them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.web.site import (
    PHOTOS_LOADED,
    browser_login,
    db_query,
    seed_channel_id,
    take_screenshots,
)


def test_log_in_and_see_the_seed_queue(context, seed_desk):
    page = browser_login(context, "amira")
    [(new,)] = db_query(seed_desk.settings, "SELECT count(*) FROM flag WHERE status = 'new'")
    assert new > 20  # the seed scenario flags dozens of posts
    assert page.locator("#count-new").text_content() == str(new)
    assert page.locator(".flags .flag").count() == min(new, 100)
    assert page.locator(".flags .flag.status-new").count() == min(new, 100)
    assert page.locator(".who").text_content() == "amira · desk"


def test_the_may_13_2024_album_with_its_photos(context, seed_desk):
    page = browser_login(context, "amira")
    channel_id = seed_channel_id(seed_desk.settings)
    page.locator(f"article[data-post='/post/{channel_id}/125'] a.open").first.click()
    page.wait_for_url(f"**/post/{channel_id}/125")
    assert "2024-05-13 09:12 UTC" in page.locator(".post-head .meta").text_content()
    text = page.locator("#post-text")
    assert text.get_attribute("dir") == "auto"
    assert text.evaluate("e => getComputedStyle(e).direction") == "rtl"  # Arabic, right to left
    marked = page.locator("#post-text mark").all_text_contents()
    assert "قيس الخزعلي" in marked and "كوي وي" in marked
    page.wait_for_function(PHOTOS_LOADED)
    archived = dict(
        db_query(
            seed_desk.settings,
            "SELECT m.sha256, m.path FROM post_media pm JOIN post p ON p.id = pm.post_id "
            "JOIN media m ON m.sha256 = pm.sha256 "
            "WHERE p.channel_id = :cid AND p.message_id IN (125, 126, 127)",
            cid=channel_id,
        )
    )
    images = page.locator("figure.photo img")
    assert images.count() == 3 == len(archived)
    for index in range(3):
        image = images.nth(index)
        shown = image.get_attribute("data-sha256")
        assert shown in page.locator("figure.photo").nth(index).text_content()
        body = page.request.get(image.get_attribute("src")).body()
        assert hashlib.sha256(body).hexdigest() == shown
        on_disk = (seed_desk.settings.media_dir / archived[shown]).read_bytes()
        assert body == on_disk
        # Full size on click: the photo links to the archived file itself.
        assert image.locator("xpath=..").get_attribute("href") == f"/media/{shown}"


def test_confirm_a_flag_and_see_the_audit_entry(context, seed_desk):
    page = browser_login(context, "amira")
    channel_id = seed_channel_id(seed_desk.settings)
    page.goto(f"/post/{channel_id}/125")
    card = page.locator(".flag-card.status-new").first
    flag_id = int(card.get_attribute("id").removeprefix("flag-"))
    card.locator("input.note-input").fill("seen the photos")
    card.locator("button[value=confirm]").click()
    page.wait_for_url(f"**/post/{channel_id}/125")
    confirmed = page.locator(f"#flag-{flag_id}")
    assert "status-confirmed" in confirmed.get_attribute("class")
    entry = confirmed.locator(".audit-entry").first.text_content()
    assert "amira flag.status: new → confirmed" in entry and "seen the photos" in entry
    [(actor, status)] = db_query(
        seed_desk.settings,
        "SELECT a.actor, f.status FROM audit_event a JOIN flag f ON a.subject_id = "
        "CAST(f.id AS TEXT) WHERE a.action = 'flag.status' AND f.id = :id",
        id=flag_id,
    )
    assert (actor, status) == ("amira", "confirmed")


def test_review_from_the_keyboard(context, seed_desk):
    page = browser_login(context, "amira")
    second = page.locator(".flags .flag").nth(1)
    flag_id = int(second.get_attribute("data-flag"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    assert "selected" in second.get_attribute("class")
    page.keyboard.press("e")
    page.wait_for_selector(f"#flag-{flag_id}.status-escalated")
    page.keyboard.press("n")
    page.keyboard.type("call the bureau")
    page.keyboard.press("Enter")
    page.wait_for_function(  # the note input empties once the note is saved
        "(id) => document.querySelector(`#flag-${id} .note-input`).value === ''", arg=flag_id
    )
    [(status, reviewer, note)] = db_query(
        seed_desk.settings, "SELECT status, reviewer, note FROM flag WHERE id = :id", id=flag_id
    )
    assert (status, reviewer, note) == ("escalated", "amira", "call the bureau")


def test_a_logged_out_post_page_goes_to_login_and_back(context, seed_desk):
    channel_id = seed_channel_id(seed_desk.settings)
    page = context.new_page()
    page.goto(f"/post/{channel_id}/125")
    assert page.url == f"{seed_desk.url}/login?next=/post/{channel_id}/125"
    page.fill("input[name=name]", "noor")
    page.fill("input[name=password]", "noor-analyst-password")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**/post/{channel_id}/125")
    assert page.locator("figure.photo").count() == 3


def test_a_desk_user_gets_403_on_an_export(context, seed_desk, browser):
    page = browser_login(context, "amira")
    assert page.locator("a.export").count() == 0
    response = page.goto("/export/flags.csv")
    assert response.status == 403
    assert "desk accounts may not export" in page.content()
    analyst = browser.new_context(base_url=seed_desk.url)
    try:
        exported = browser_login(analyst, "noor").request.get("/export/flags.csv")
        assert exported.status == 200
        assert exported.body().startswith(b"\xef\xbb\xbf") and "قيس" in exported.text()
    finally:
        analyst.close()


def test_a_form_post_without_the_csrf_token_is_refused(context, seed_desk):
    page = browser_login(context, "amira")
    flag_id = int(page.locator(".flags .flag").first.get_attribute("data-flag"))
    status = page.evaluate(
        """async (id) => {
            const body = new FormData();
            body.set("action", "dismiss");
            const r = await fetch(`/flags/${id}/review`, {method: "POST", body});
            return r.status;
        }""",
        flag_id,
    )
    assert status == 403
    [(after,)] = db_query(seed_desk.settings, "SELECT status FROM flag WHERE id = :id", id=flag_id)
    assert after != "dismissed"


def test_screenshots_of_the_queue_and_a_post(context, seed_desk, tmp_path: Path):
    shots = take_screenshots(context, seed_desk.settings, tmp_path)
    for shot in shots:
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(data[16:20], "big")
        assert width == 1280
