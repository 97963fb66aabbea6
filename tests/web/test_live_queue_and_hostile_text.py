"""In Chromium: a post the simulated Telegram publishes, once collected, appears in the open queue
without a reload (server-sent events); hostile text in a post renders as text, and the
Content-Security-Policy stops inline script even when markup gets into the page."""

from __future__ import annotations

from tests.web.site import browser_login, db_query, push_post, seed_channel_id

HOSTILE = (
    "بيان: قيس الخزعلي "
    '<script>window.__pwned = "script"</script> '
    '<img src="/static/none.png" onerror="window.__pwned = \'img\'"> '
    "\u202egnp.exe\u202c <b>bold?</b>"
)


def _flags_of(settings, message_id: int) -> list[int]:
    rows = db_query(
        settings,
        "SELECT f.id FROM flag f JOIN post p ON p.id = f.post_id "
        "WHERE p.channel_id = :cid AND p.message_id = :mid ORDER BY f.id",
        cid=seed_channel_id(settings),
        mid=message_id,
    )
    return [int(r[0]) for r in rows]


def test_a_new_post_appears_in_the_open_queue_without_reload(context, seed_desk):
    page = browser_login(context, "amira")
    page.wait_for_function("() => document.getElementById('live').textContent.startsWith('Live')")
    page.evaluate("window.__same_page = 42")
    before = int(page.locator("#count-new").text_content())
    message_id = push_post(seed_desk, "عاجل: قيس الخزعلي يستقبل وفدا صينيا اليوم")
    [flag_id] = _flags_of(seed_desk.settings, message_id)
    row = page.locator(f"#flag-{flag_id}")
    row.wait_for(timeout=15_000)
    assert "قيس الخزعلي يستقبل وفدا صينيا" in row.locator(".snippet").text_content()
    assert page.locator(".flags .flag").first.get_attribute("id") == f"flag-{flag_id}"
    assert page.evaluate("window.__same_page") == 42  # the page was not reloaded
    page.wait_for_function(
        "(n) => document.getElementById('count-new').textContent === String(n)", arg=before + 1
    )


def test_hostile_text_renders_as_text_and_the_csp_blocks_inline_script(context, seed_desk):
    message_id = push_post(seed_desk, HOSTILE)
    assert _flags_of(seed_desk.settings, message_id)
    page = browser_login(context, "amira")
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    snippet = page.locator(f"article[data-post$='/{message_id}'] .snippet")
    assert "<script>" in snippet.text_content() and "onerror" in snippet.text_content()
    page.goto(f"/post/{seed_channel_id(seed_desk.settings)}/{message_id}")
    text = page.locator("#post-text")
    assert text.text_content() == HOSTILE  # every character shown, as text
    assert text.locator("script, img, b").count() == 0
    assert text.get_attribute("dir") == "auto"
    assert text.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    assert page.locator("script").count() == 1  # desk.js alone
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    # Markup that did get into the page (here put there on purpose): the policy refuses its
    # inline handler and says so.
    page.evaluate(
        """() => {
            window.__violations = [];
            document.addEventListener("securitypolicyviolation",
                (e) => window.__violations.push(e.effectiveDirective));
            document.body.insertAdjacentHTML("beforeend",
                '<img src="/static/none.png" onerror="window.__pwned = 1">');
        }"""
    )
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("window.__violations")[0].startswith("script-src")
    assert page.evaluate("window.__pwned") is None
