"""In Chromium over the seed archive: copy the May 13, 2024 post's short citation from its page."""

from __future__ import annotations

from tests.web.site import browser_login, seed_channel_id


def test_copy_the_short_citation(browser, seed_desk):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=seed_desk.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=seed_desk.url)
    try:
        page = browser_login(context, "noor")
        page.goto(f"/post/{seed_channel_id(seed_desk.settings)}/125")
        assert page.locator("#cite-short").text_content() == "Telegram, May 13, 2024."
        full = page.locator("#cite-full").text_content()
        assert "@khazali_media_sim" in full and "https://t.me/khazali_media_sim/125" in full
        page.locator("button.copy[data-copy-from='cite-short']").click()
        # A function, not an expression: Playwright polls an expression with eval() in the page,
        # which the desk's CSP (script-src 'self') refuses once the first check comes too early.
        page.wait_for_function(
            "() => document.querySelector(\"button.copy[data-copy-from='cite-short']\")"
            ".textContent === 'Copied'"
        )
        assert page.evaluate("navigator.clipboard.readText()") == "Telegram, May 13, 2024."
    finally:
        context.close()
