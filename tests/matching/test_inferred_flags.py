"""Inferred spellings through the pipeline: posts collected from the simulated Telegram by the
real Telethon client are flagged under the inferred rule, which `monitor flags show` and the
alert payload name; the hard negatives collected alongside flag nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from monitor.alerting import Alerting
from monitor.cli import app
from monitor.config import parse_watchlist
from monitor.flagging import Flagger
from monitor.matching import Matcher
from monitor.service import _entity_values
from storage import list_flags, sync_entities
from tests.telegram_fixtures import START, connect, make_pipeline, spec, telegram  # noqa: F401

WATCHLIST = """
entities:
  - id: hashimi
    name: Hasan al-Hashimi
    kind: person
    aliases: ["حسن الهاشمي", "Хасан аль-Хашими"]
  - id: ansar
    name: Ansar al-Din
    kind: organization
    aliases: ["Ансар ад-Дин"]
  - id: bashir
    name: Bashir
    kind: person
    infer: false
alerts:
  routes:
    - name: desk
      url: "jsonl://{alerts}"
"""

POSTS = [
    ("حسن هاشمی در سخنرانی امروز گفت", "hashimi", "article", "حسن هاشمی"),
    ("Встреча с Хасаном аль-Хашими прошла в Багдаде", "hashimi", "inflection", "Хасаном аль-Хашими"),
    ("Hassan al-Hashemi told reporters", "hashimi", "phonetic", "Hassan al-Hashemi"),
    ("Боевики Ансар ад-Дина вошли в город", "ansar", "inflection", "Ансар ад-Дина"),
    ("Critics called the senator a Japan-basher", None, None, None),
    ("هاشمی گفت که مذاکرات ادامه دارد", None, None, None),
    ("Ансар сказал, что вернётся", None, None, None),
    ("Basheer spoke to the crowd", None, None, None),  # bashir has infer: false
]  # fmt: skip


async def test_collected_posts_are_flagged_under_the_inferred_rule(
    telegram,  # noqa: F811
    connect,  # noqa: F811
    make_pipeline,  # noqa: F811
    engine,
    db_url: str,
    tmp_path: Path,
) -> None:
    alerts_file = tmp_path / "alerts.jsonl"
    watchlist = parse_watchlist(WATCHLIST.format(alerts=alerts_file))
    async with engine.begin() as conn:
        await sync_entities(_entity_values(watchlist), conn=conn, actor="test")
    channel = telegram.add_channel("newswire", "News wire")
    for i, (text, *_) in enumerate(POSTS):
        telegram.post(channel.id, text, date=START + timedelta(minutes=i))
    alerting = Alerting(engine, watchlist)
    flagger = Flagger(Matcher.compile(watchlist.entities), on_flagged=[alerting.on_flagged])
    await make_pipeline(on_batch=[flagger]).collect(await connect(), spec("newswire"))
    await alerting.worker.drain(10)

    async with engine.connect() as conn:
        flags = sorted(await list_flags(conn=conn), key=lambda f: f.post_id)
    expected = [(entity, rule, words) for _, entity, rule, words in POSTS if entity]
    assert [
        (f.entity_id, f.spans[0]["rule"], POSTS[i][0][f.spans[0]["start"] : f.spans[0]["end"]])
        for i, f in enumerate(flags)
    ] == expected

    env = {"MONITOR_DATABASE_URL": db_url, "MONITOR_DATA_DIR": str(tmp_path / "data")}
    # in a thread: the command runs its own event loop
    shown = await asyncio.to_thread(
        CliRunner().invoke, app, ["flags", "show", str(flags[2].id)], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "Hasan al-Hashimi [phonetic] @0" in shown.output

    sent = [json.loads(line)["message"] for line in alerts_file.read_text().splitlines()]
    rules = sorted((m["spans"][0]["alias"], m["spans"][0]["rule"]) for m in sent)
    assert rules == [
        ("Hasan al-Hashimi", "phonetic"),
        ("Ансар ад-Дин", "inflection"),
        ("Хасан аль-Хашими", "inflection"),
        ("حسن الهاشمي", "article"),
    ]
