"""A malformed export fails naming the JSON path; batches committed before it stay, the batch
being read is not stored at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.importers import ExportError
from monitor.simulator.scenario import Scenario
from storage.models import post
from tests.desktop_import.desktop_export import write_account_export, write_channel_export


async def _stored_ids(engine) -> list[int]:  # noqa: ANN001
    async with engine.connect() as conn:
        rows = await conn.execute(select(post.c.message_id).order_by(post.c.message_id))
        return list(rows.scalars())


def _export(seed: Scenario, tmp_path: Path) -> tuple[Path, list[int]]:
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "export")
    ids = [m["id"] for m in json.loads(result.read_text())["messages"]]
    return result, ids


async def test_truncated_json_fails_naming_the_message_where_it_stops(
    seed: Scenario, run_import, engine, tmp_path
):
    result, ids = _export(seed, tmp_path)
    text = result.read_bytes()
    starts = [m.start() for m in re.finditer(rb'\n  \{\n   "id": ', text)]
    cut = (starts[77] + starts[78]) // 2  # inside messages[77]
    result.write_bytes(text[:cut])

    with pytest.raises(ExportError) as caught:
        await run_import(result, batch_size=25)
    assert "export again" in (caught.value.hint or "")

    message = str(caught.value)
    assert message.startswith(
        f"result.json: the JSON ends early (truncated) inside messages[77], after {cut:,} bytes"
    )
    assert await _stored_ids(engine) == ids[:75]  # three whole batches; not 75-76 of the fourth


@pytest.mark.parametrize(
    ("index", "field", "value", "expected"),
    [
        (
            60,
            "date_unixtime",
            "yesterday",
            "result.json: messages[60].date_unixtime: expected a number (seconds since 1970), "
            "found the string 'yesterday'",
        ),
        (60, "id", "61", "result.json: messages[60].id: expected a number, found the string '61'"),
        (
            60,
            "text",
            ["ok ", 7],
            "result.json: messages[60].text[1]: expected a string or a text entity object, "
            "found the number 7",
        ),
        (
            60,
            "reply_to_message_id",
            {"id": 3},
            "result.json: messages[60].reply_to_message_id: expected a number, found an object",
        ),
        (
            60,
            "photo",
            "../../etc/passwd",
            "result.json: messages[60].photo: '../../etc/passwd' points outside the export folder",
        ),
    ],
)
async def test_a_wrong_type_fails_naming_the_json_path(
    seed: Scenario, run_import, engine, tmp_path, index, field, value, expected
):
    result, ids = _export(seed, tmp_path)
    document = json.loads(result.read_text())
    document["messages"][index][field] = value
    result.write_text(json.dumps(document, ensure_ascii=False, indent=1))

    with pytest.raises(ExportError) as caught:
        await run_import(result, batch_size=50)

    assert str(caught.value) == expected
    assert await _stored_ids(engine) == ids[:50]  # the first batch; nothing of the second


async def test_a_channel_id_that_is_not_a_number_is_named(seed: Scenario, run_import, tmp_path):
    result, _ = _export(seed, tmp_path)
    document = json.loads(result.read_text())
    document["id"] = "khazali_media_sim"
    result.write_text(json.dumps(document, ensure_ascii=False))

    with pytest.raises(ExportError, match=r"^result\.json: id: expected a number, found the str"):
        await run_import(result)


async def test_a_folder_without_an_export_is_refused(run_import, tmp_path):
    with pytest.raises(ExportError, match="no Telegram Desktop export at"):
        await run_import(tmp_path)


async def test_a_path_in_an_account_export_names_the_chat_list(
    seed: Scenario, run_import, tmp_path
):
    ids = [seed.channels["media_office"].id, seed.channels["news_en"].id]
    result = write_account_export(seed.backend, ids, tmp_path / "DataExport")
    document = json.loads(result.read_text())
    document["left_chats"]["list"][0]["messages"][5]["date_unixtime"] = 1.5
    result.write_text(json.dumps(document, ensure_ascii=False))

    with pytest.raises(ExportError) as caught:
        await run_import(result)

    assert str(caught.value) == (
        "result.json: left_chats.list[0].messages[5].date_unixtime: expected a number "
        "(seconds since 1970), found the number 1.5"
    )
