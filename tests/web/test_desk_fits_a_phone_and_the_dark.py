"""In Chromium: the queue and a post fit a phone's width, and follow a dark system setting."""

from __future__ import annotations

from tests.web.site import PASSWORDS, seed_channel_id


def test_queue_and_post_fit_a_phone_and_follow_dark_mode(browser, seed_desk):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=seed_desk.url, color_scheme="dark"
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=name]", "amira")
        page.fill("input[name=password]", PASSWORDS["amira"][1])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url("**/queue")
        width = "document.scrollingElement.scrollWidth"
        assert page.evaluate(width) <= 390
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(22, 24, 27)"  # the dark palette
        page.goto(f"/post/{seed_channel_id(seed_desk.settings)}/125")
        assert page.evaluate(width) <= 390
    finally:
        context.close()
