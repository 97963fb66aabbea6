"""``monitor web``: serve the review desk (queue, posts, photos, metrics) over HTTP."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.app import DataDirOption, app, console, make_settings, run_async
from monitor.cli.safe_text import markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.settings import Settings

DEMO_PASSWORD_FILE = "desk-demo-password.txt"  # 0600, written when the demo creates `demo`


@app.command("web")
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
    secure_cookies: Annotated[
        bool,
        typer.Option("--secure-cookies", help="Mark session cookies Secure (serve behind HTTPS)."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the review desk: log in, review the queue, read posts next to their photos.

    Create the first account with `monitor users add NAME --role admin`. Beyond loopback, serve
    it behind an HTTPS proxy, with --secure-cookies.

    Example: monitor web --port 8080
    """
    from monitor.web.server import desk_server
    from storage import check_schema, create_engine

    settings = make_settings(ctx, data_dir=data_dir)

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            await check_schema(engine)  # a stale schema: the message and the fix, not a traceback
        finally:
            await engine.dispose()
        server = desk_server(settings, host=host, port=port, secure_cookies=secure_cookies)
        console.print(
            f"Desk on [bold]http://{markup_safe(host)}:{port}/[/] for "
            f"{markup_safe(settings.data_dir)}; Ctrl-C to stop."
        )
        await server.serve()

    run_async(main())


def _port_free(host: str, port: int) -> None:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                hint="choose another port with --web-port (or --web-port 0 for no desk)",
            ) from None


async def serve_beside(main: Coroutine[Any, Any, Any], settings: Settings, *, port: int) -> None:
    """Run ``main`` (the demo's live daemon) with the desk on 127.0.0.1:``port`` beside it; the
    desk stops when ``main`` ends (the daemon handles Ctrl-C). Prints the address and, on an
    archive without accounts, the ``demo`` admin account's one-time password."""
    import asyncio

    from monitor.web.server import desk_server, ensure_demo_user

    host = "127.0.0.1"
    try:
        _port_free(host, port)
        password = await ensure_demo_user(settings)
    except BaseException:
        main.close()
        raise
    console.print(f"Review desk: [bold]http://{host}:{port}/[/]", soft_wrap=True)
    if password:
        from storage.files import private_file

        secret = settings.data_dir / DEMO_PASSWORD_FILE
        private_file(secret)
        secret.write_text(password + "\n", encoding="utf-8")
        console.print(
            f"  log in as [bold]demo[/] (admin) with the password in "
            f"[bold]{markup_safe(secret)}[/]; `monitor users passwd demo` changes it",
            soft_wrap=True,
        )
    server = desk_server(settings, host=host, port=port, embedded=True)
    desk = asyncio.create_task(server.serve())
    try:
        await main
    finally:
        server.should_exit = True
        await desk
