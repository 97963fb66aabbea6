"""post.html shows Telegram's text literally (escaped), right-to-left text with dir="auto", the
photos from the bundle inline, and every version of an edited post."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from monitor.evidence import build_bundle
from monitor.evidence_html import render_post_html
from storage.evidence_queries import Evidence

T0 = datetime(2024, 5, 13, 9, 12, tzinfo=UTC)
PHOTO = b"\xff\xd8 not really a jpeg \xff\xd9"
SHA = hashlib.sha256(PHOTO).hexdigest()
HOSTILE_TITLE = '<img src=x onerror="alert(1)">قناة'
HOSTILE_TEXT = "قيس الخزعلي </div><script>alert('x')</script> & more"


def _evidence() -> Evidence:
    post = {
        "id": 1,
        "channel_id": 77,
        "message_id": 9,
        "grouped_id": None,
        "posted_at": T0,
        "edited_at": T0.replace(hour=10),
        "first_captured_at": T0,
        "deleted_at": T0.replace(day=14),
        "text": HOSTILE_TEXT,
        "views": 5,
        "content_hash": "b" * 64,
        "raw": {"id": 9},
    }
    versions = [
        {
            "id": 1,
            "number": 1,
            "text": "first <b>words</b>",
            "edited_at": None,
            "captured_at": T0,
            "content_hash": "a" * 64,
        },
        {
            "id": 2,
            "number": 2,
            "text": HOSTILE_TEXT,
            "edited_at": T0.replace(hour=10),
            "captured_at": T0.replace(hour=11),
            "content_hash": "b" * 64,
        },
    ]
    media = [{"position": 0, "kind": "photo", "sha256": SHA, "path": f"ab/cd/{SHA}.jpg"}]
    return Evidence(
        channel={"id": 77, "username": "evil_sim", "title": HOSTILE_TITLE},
        snapshot=None,
        messages=[{"post": post, "versions": versions, "metrics": [], "media": media}],
        flags=[
            {
                "id": 3,
                "entity_name": "<i>Qais</i>",
                "status": "confirmed",
                "reviewer": "ana",
                "note": "<script>bad()</script>",
            }
        ],
    )


def test_text_from_telegram_and_reviewers_is_escaped():
    html = render_post_html(_evidence(), photos={SHA: f"photos/{SHA}.jpg"}, citations={})
    assert "<script>" not in html and 'onerror="alert' not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;قناة" in html
    assert "&lt;script&gt;bad()&lt;/script&gt;" in html


def test_right_to_left_text_has_dir_auto_and_photos_are_inline():
    html = render_post_html(_evidence(), photos={SHA: f"photos/{SHA}.jpg"}, citations={})
    assert '<div class="text" dir="auto">قيس الخزعلي &lt;/div&gt;' in html
    assert f'<img src="photos/{SHA}.jpg"' in html
    assert "deleted at source by 2024-05-14 09:12:00 UTC" in html
    assert "edited 2024-05-13 10:12:00 UTC" in html
    # Both versions, oldest first.
    assert html.index("first &lt;b&gt;words&lt;/b&gt;") < html.rindex("قيس الخزعلي")


def test_the_bundle_has_one_json_file_per_version():
    files = build_bundle(
        _evidence(), read_photo=lambda _: PHOTO, created_at=T0, citations={"short": "Telegram."}
    )
    names = [f.name for f in files]
    assert names[-1] == "manifest.json"
    assert {"messages/9/versions/1.json", "messages/9/versions/2.json"} <= set(names)
    assert f"photos/{SHA}.jpg" in names and "citations/short.txt" in names
