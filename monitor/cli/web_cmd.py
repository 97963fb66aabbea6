"""``monitor web``: serve the review desk (queue, posts, photos, metrics) over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.app import DataDirOption, app, console, make_settings, run_async
from monitor.cli.safe_text import markup_safe


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
