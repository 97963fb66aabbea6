"""`monitor flags set`: review one flag, many at once, or a whole post (album); every change
is audited, all or nothing, and routes waiting for a reviewed status are alerted."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from monitor.cli import app
from storage import create_engine, list_audit
from storage.post_queries import album_posts
from tests.flagging.desk import ROOT, fails, flags_json, json_lines, run


def test_setting_a_status_is_audited_and_filterable(archive):
    first = flags_json(archive, "--limit", "1")[0]
    run(
        archive,
        "flags",
        "set",
        str(first["id"]),
        "--status",
        "escalated",
        "--note",
        "new meeting",
        "--by",
        "analyst1",
    )
    escalated = flags_json(archive, "--status", "escalated")
    assert [(f["id"], f["reviewer"], f["note"]) for f in escalated] == [
        (first["id"], "analyst1", "new meeting")
    ]
    missing = CliRunner().invoke(app, ["flags", "show", "999999"], env=archive)
    assert missing.exit_code != 0 and "no flag with id 999999" in missing.output


def test_review_status_reaches_routes_that_wait_for_it(db_url, tmp_path):
    from ruamel.yaml import YAML

    yaml = YAML()
    watchlist = yaml.load((ROOT / "channels.yaml").read_text(encoding="utf-8"))
    watchlist["alerts"]["routes"].append(
        {
            "name": "confirmed-only",
            "url": f"jsonl://{tmp_path / 'confirmed.jsonl'}",
            "min_status": "confirmed",
        }
    )
    channels = tmp_path / "channels.yaml"
    with channels.open("w", encoding="utf-8") as out:
        yaml.dump(watchlist, out)
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(channels),
    }
    run(env, "demo")

    def queued_for_route() -> list[dict]:
        rows = [json.loads(line) for line in run(env, "alerts", "list", "--json").splitlines()]
        return [r for r in rows if r["route"] == "confirmed-only"]

    assert queued_for_route() == []  # nothing reviewed yet: the route waits
    flag = flags_json(env, "--limit", "1")[0]
    output = run(env, "flags", "set", str(flag["id"]), "--status", "confirmed")
    assert "1 alert(s) queued" in output
    [row] = queued_for_route()
    assert row["status"] == "pending"


async def _album_messages(db_url: str, channel_id: int, grouped_id: int) -> list[int]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return [
                row["message_id"] for row in await album_posts(channel_id, grouped_id, conn=conn)
            ]
    finally:
        await engine.dispose()


async def _status_changes(db_url: str, flag_id: int) -> list[dict]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            events = await list_audit(conn=conn, subject_type="flag", subject_id=flag_id)
    finally:
        await engine.dispose()
    return [e["details"] for e in events if e["action"] == "flag.status"]


def _may_2024_album(env: dict[str, str]) -> dict:
    posts = json_lines(env, "flags", "list", "--by-post", "--channel", "@khazali_media_sim")
    [album] = [
        p for p in posts if p["grouped_id"] is not None and p["posted_at"].startswith("2024-05-13")
    ]
    return album


def test_a_post_link_to_any_message_of_an_album_reviews_its_open_flags(archive):
    album = _may_2024_album(archive)
    assert len(album["flags"]) == 4  # four entities: four flags, one post
    lead = album["message_id"]
    messages = asyncio.run(
        _album_messages(archive["MONITOR_DATABASE_URL"], album["channel_id"], album["grouped_id"])
    )
    other = next(m for m in messages if m != lead)  # not the caption message the flags sit on
    reviewed, *open_ids = [f["id"] for f in album["flags"]]
    run(archive, "flags", "set", str(reviewed), "--status", "escalated")

    output = run(
        archive,
        "flags",
        "set",
        "--post",
        f"https://t.me/khazali_media_sim/{other}",
        "--status",
        "confirmed",
        "--by",
        "analyst1",
        "--note",
        "same meeting",
    )

    after = {f["id"]: f["status"] for f in _may_2024_album(archive)["flags"]}
    assert after == {reviewed: "escalated", **dict.fromkeys(open_ids, "confirmed")}
    assert f"flag {reviewed}: left escalated" in output
    for flag_id in open_ids:
        assert f"flag {flag_id}: confirmed (by analyst1)" in output
        assert asyncio.run(_status_changes(archive["MONITOR_DATABASE_URL"], flag_id)) == [
            {"from": "new", "to": "confirmed", "note": "same meeting"}
        ]
    # The other reference forms name the same post; nothing open is left on it now.
    for ref in (f"@khazali_media_sim/{lead}", f"{album['channel_id']}/{other}"):
        refused = fails(archive, "flags", "set", "--post", ref, "--status", "dismissed")
        assert "no open (new) flags" in refused
    assert "no post @khazali_media_sim/999999" in fails(
        archive, "flags", "set", "--post", "@khazali_media_sim/999999", "--status", "dismissed"
    )


def test_many_ids_are_set_together_or_not_at_all(archive):
    first, second = (f["id"] for f in flags_json(archive, "--limit", "2"))

    refused = fails(
        archive, "flags", "set", str(first), "999999", str(second), "--status", "dismissed"
    )

    assert "no flag with id 999999" in refused
    assert {f["status"] for f in flags_json(archive, "--limit", "2")} == {"new"}
    run(archive, "flags", "set", str(first), str(second), "--status", "dismissed")
    dismissed = flags_json(archive, "--status", "dismissed")
    assert sorted(f["id"] for f in dismissed) == sorted([first, second])
    for flag_id in (first, second):
        changes = asyncio.run(_status_changes(archive["MONITOR_DATABASE_URL"], flag_id))
        assert changes == [{"from": "new", "to": "dismissed", "note": None}]


def test_by_post_lists_each_post_once_with_all_its_flags(archive):
    flags = flags_json(archive, "--limit", "1000")
    posts = json_lines(archive, "flags", "list", "--by-post", "--limit", "1000")
    assert len(posts) == len({f["post_id"] for f in flags}) < len(flags)
    listed = [g["id"] for p in posts for g in p["flags"]]
    assert sorted(listed) == sorted(f["id"] for f in flags)  # each flag once, under its post
    by_id = {f["id"]: f for f in flags}
    for post in posts:
        assert {by_id[g["id"]]["post_id"] for g in post["flags"]} == {post["post_id"]}
        assert post["entities"] == [g["entity"] for g in post["flags"]]
        assert post["link"] == by_id[post["flags"][0]["id"]]["link"]
    album = _may_2024_album(archive)
    shown = run({**archive, "COLUMNS": "80"}, "flags", "list", "--by-post")
    for flag in album["flags"]:
        assert f"{flag['id']} new {flag['entity']}" in shown
    assert shown.count(album["link"] + " ") + shown.count(album["link"] + "\n") == 1
