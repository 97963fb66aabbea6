"""In Chromium over the seed archive: an analyst searches a Persian spelling from the Search page
and finds the Arabic May 13, 2024 post, its spelling marked, and opens the post from the hit."""

from __future__ import annotations

from tests.web.site import browser_login, seed_channel_id


def test_a_persian_spelling_finds_the_arabic_post(context, seed_desk):
    page = browser_login(context, "noor")
    page.click("header.top nav a[href='/search']")
    page.wait_for_url("**/search")
    page.fill("input[name=q]", "قیس خزعلی")
    page.fill("input[name=channel]", "@khazali_media_sim")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url("**/search?*")
    channel_id = seed_channel_id(seed_desk.settings)
    hit = page.locator(f"li.hit[data-post='/post/{channel_id}/125']")
    assert hit.count() == 1
    assert "قيس الخزعلي" in " ".join(hit.locator("mark").all_text_contents())
    hit.locator("a").first.click()
    page.wait_for_url(f"**/post/{channel_id}/125")
