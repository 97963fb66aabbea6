"""``monitor users``: accounts of the desk, from the command line, on both databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.web.passwords import check_password
from storage import create_engine, list_audit, upgrade
from storage.users import get_user


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DATABASE_URL": db_url}


def _run(env: dict[str, str], *args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=input)


async def _stored(db_url: str, name: str):
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return await get_user(name, conn=conn), await list_audit(
                conn=conn, subject_type="user", subject_id=name
            )
    finally:
        await engine.dispose()


async def test_add_list_disable_enable_passwd(db_url: str, tmp_path: Path):
    engine = create_engine(db_url)
    await upgrade(engine)
    await engine.dispose()
    env = _env(db_url, tmp_path)

    def run(*args: str, input: str | None = None):
        return _run(env, *args, input=input)

    added = await asyncio.to_thread(
        run, "users", "add", "Amira", "--role", "desk", input="first password\n"
    )
    assert added.exit_code == 0, added.output
    assert added.output.strip() == "Added amira (desk)."
    user, trail = await _stored(db_url, "amira")
    assert user.role == "desk" and user.password_hash.startswith("$argon2id$")
    assert check_password(user.password_hash, "first password")
    assert "first password" not in repr(user)
    listed = await asyncio.to_thread(run, "users", "list", "--json")
    [record] = [json.loads(line) for line in listed.output.splitlines()]
    assert record["name"] == "amira" and record["role"] == "desk"
    assert record["disabled_at"] is None

    again = await asyncio.to_thread(
        run, "users", "add", "amira", "--role", "admin", input="another password\n"
    )
    assert again.exit_code == 1 and "a user named 'amira' already exists" in again.output

    disabled = await asyncio.to_thread(run, "users", "disable", "amira")
    assert disabled.exit_code == 0, disabled.output
    listed = await asyncio.to_thread(run, "users", "list", "--json")
    assert json.loads(listed.output)["disabled_at"] is not None
    assert (await asyncio.to_thread(run, "users", "enable", "amira")).exit_code == 0

    changed = await asyncio.to_thread(run, "users", "passwd", "amira", input="second password\n")
    assert changed.exit_code == 0, changed.output
    user, trail = await _stored(db_url, "amira")
    assert check_password(user.password_hash, "second password")
    assert not check_password(user.password_hash, "first password")
    assert [e["action"] for e in reversed(trail)] == [
        "user.add",
        "user.disable",
        "user.enable",
        "user.passwd",
    ]
    assert {e["actor"] for e in trail} == {"cli"}


async def test_bad_input_is_refused_with_a_clear_error(db_url: str, tmp_path: Path):
    engine = create_engine(db_url)
    await upgrade(engine)
    await engine.dispose()
    env = _env(db_url, tmp_path)

    def run(*args: str, input: str | None = None):
        return _run(env, *args, input=input)

    short = await asyncio.to_thread(run, "users", "add", "amira", "--role", "desk", input="short\n")
    assert short.exit_code == 2 and "password too short: 5 characters, at least 10" in short.output
    empty = await asyncio.to_thread(run, "users", "add", "amira", "--role", "desk", input="")
    assert empty.exit_code == 2 and "no password on standard input" in empty.output
    bad_name = await asyncio.to_thread(
        run, "users", "add", "a b", "--role", "desk", input="long enough password\n"
    )
    assert bad_name.exit_code == 1 and "user name 'a b' is not allowed" in bad_name.output
    bad_role = await asyncio.to_thread(
        run, "users", "add", "amira", "--role", "boss", input="long enough password\n"
    )
    assert bad_role.exit_code == 2 and "boss" in bad_role.output
    unknown = await asyncio.to_thread(run, "users", "disable", "nobody")
    assert unknown.exit_code == 1 and "no user named 'nobody'" in unknown.output
    listed = await asyncio.to_thread(run, "users", "list", "--json")
    assert listed.output == ""  # nothing was stored by the refused commands
