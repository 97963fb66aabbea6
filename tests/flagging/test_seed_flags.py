"""The seed scenario collected by `monitor demo` is flagged as the watchlist says."""

from __future__ import annotations

import json

from tests.flagging.desk import flags_json, run


def test_seed_album_is_flagged_for_leader_militia_and_ambassador(archive):
    flags = flags_json(archive, "--channel", "@khazali_media_sim", "--limit", "1000")
    album = [
        f for f in flags if f["grouped_id"] is not None and f["posted_at"].startswith("2024-05-13")
    ]
    assert {f["entity"] for f in album} >= {
        "qais-al-khazali",
        "asaib-ahl-al-haq",
        "chinese-embassy-iraq",
    }
    assert len({f["message_id"] for f in album}) == 1  # one album, flagged once per entity
    for flag in flags:
        for key in (
            "id",
            "channel_id",
            "message_id",
            "grouped_id",
            "entity",
            "aliases",
            "spans",
            "status",
            "created_at",
        ):
            assert key in flag
        assert flag["link"] == f"https://t.me/khazali_media_sim/{flag['message_id']}"


def test_unrelated_posts_are_not_flagged(archive):
    flags = flags_json(archive, "--limit", "1000")
    flagged = {(f["channel_id"], f["message_id"]) for f in flags}
    status = [json.loads(line) for line in run(archive, "status", "--json").splitlines()]
    stored = sum(row["posts"] for row in status)
    assert stored > 300
    assert 0 < len(flagged) < stored / 10  # a few hundred posts, mostly filler, a handful flagged
    # The seed's decoys: "Aah, the heat..." is not the acronym AAH, and Kataib Hezbollah posts
    # flag Kataib Hezbollah only, never Hezbollah (leftmost-longest).
    assert not any("the heat" in f["snippet"] for f in flags)
    assert "hezbollah" not in {f["entity"] for f in flags}
    assert len([f for f in flags if f["entity"] == "kataib-hezbollah"]) == 2
    for flag in flags:  # every flag points at text that really names the entity
        shown = json.loads(run(archive, "flags", "show", str(flag["id"]), "--json"))
        for span in shown["spans"]:
            assert shown["text"][span["start"] : span["end"]].strip()
