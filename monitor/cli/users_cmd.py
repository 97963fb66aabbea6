"""``monitor users add|list|disable|enable|passwd``: accounts of the review desk (``monitor web``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async
from monitor.cli.safe_text import inert
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

users_app = typer.Typer(
    help="Accounts of the review desk (monitor web).\n\n"
    "Example: monitor users add amira --role desk",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

ACTOR = "cli"  # the audit trail's actor for account changes made here


class Role(StrEnum):
    desk = "desk"
    analyst = "analyst"
    operator = "operator"
    admin = "admin"


def read_password(name: str) -> str:
    """Prompted twice (hidden) on a terminal; otherwise the first line of standard input."""
    import sys

    if sys.stdin is not None and sys.stdin.isatty():
        first = typer.prompt(f"Password for {name}", hide_input=True)
        if typer.prompt("Again", hide_input=True) != first:
            raise ConfigError("the two passwords differ; nothing was changed")
        return str(first)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise ConfigError(
            "no password on standard input",
            hint=f"run on a terminal to be prompted, or: printf '%s\\n' \"$PW\" | monitor users "
            f"add {name} --role desk",
        )
    return password


def _run(ctx: typer.Context, data_dir: Any, work: Any) -> Any:
    settings = make_settings(ctx, data_dir=data_dir, quiet=True)

    async def main() -> Any:
        from storage import check_schema, create_engine

        engine = create_engine(settings.database_url)
        try:
            await check_schema(engine)
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return run_async(main())


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[Role, typer.Option(help="What the account may do on the desk.")],
    data_dir: DataDirOption = None,
) -> None:
    """Create a desk account; the password is prompted for, or read from standard input.

    Roles: desk reviews flags; analyst searches, cites and exports; operator sees channel health
    and metrics; admin all of it.

    Example: monitor users add amira --role desk
    """
    from monitor.web.passwords import hash_password
    from storage.users import add_user, valid_user_name

    folded = valid_user_name(name)
    hashed = hash_password(read_password(folded))

    async def work(conn: AsyncConnection) -> None:
        await add_user(folded, role.value, hashed, conn=conn, by=ACTOR)

    _run(ctx, data_dir, work)
    console.print(Text(f"Added {folded} ({role.value})."))


@users_app.command("list")
def list_users(
    ctx: typer.Context, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """List desk accounts: name, role, created, disabled.

    Example: monitor users list --json
    """
    from storage.users import list_users as stored_users

    async def work(conn: AsyncConnection) -> list[Any]:
        return await stored_users(conn=conn)

    users = _run(ctx, data_dir, work)
    if as_json:
        for user in users:
            record = {
                "name": user.name,
                "role": user.role,
                "created_at": user.created_at.isoformat(),
                "disabled_at": user.disabled_at.isoformat() if user.disabled_at else None,
            }
            console.out(json.dumps(record), highlight=False)
        return
    if not users:
        console.print("No desk accounts yet: monitor users add NAME --role admin")
        return
    table = Table("name", "role", "created (UTC)", "disabled (UTC)")
    for user in users:
        table.add_row(
            Text(inert(user.name)),
            user.role,
            f"{user.created_at:%Y-%m-%d %H:%M}",
            f"{user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "",
        )
    console.print(table)


def _set_disabled(ctx: typer.Context, name: str, disabled: bool, data_dir: Any) -> None:
    from storage.users import set_user_disabled

    async def work(conn: AsyncConnection) -> Any:
        return await set_user_disabled(name, disabled, conn=conn, by=ACTOR)

    user = _run(ctx, data_dir, work)
    console.print(Text(f"{'Disabled' if disabled else 'Enabled'} {user.name}."))


@users_app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    data_dir: DataDirOption = None,
) -> None:
    """Disable an account: it can no longer log in and its open sessions end.

    Example: monitor users disable amira
    """
    _set_disabled(ctx, name, True, data_dir)


@users_app.command("enable")
def enable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    data_dir: DataDirOption = None,
) -> None:
    """Enable a disabled account again.

    Example: monitor users enable amira
    """
    _set_disabled(ctx, name, False, data_dir)


@users_app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    data_dir: DataDirOption = None,
) -> None:
    """Set a new password (prompted, or from standard input); open sessions of the account end.

    Example: monitor users passwd amira
    """
    from monitor.web.passwords import hash_password
    from storage.users import set_user_password

    hashed = hash_password(read_password(name))

    async def work(conn: AsyncConnection) -> Any:
        return await set_user_password(name, hashed, conn=conn, by=ACTOR)

    user = _run(ctx, data_dir, work)
    console.print(Text(f"Password of {user.name} changed."))
