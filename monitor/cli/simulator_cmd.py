"""``monitor simulator serve``: run the simulated Telegram on a loopback TCP port."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.app import app, console, make_settings, run_async
from monitor.errors import ConfigError

simulator_app = typer.Typer(
    help="Run the simulated Telegram for tests and demos.\n\n"
    "Example: monitor simulator serve --port 9443 --scenario seed",
    no_args_is_help=True,
)
app.add_typer(simulator_app, name="simulator")


@simulator_app.command("serve")
def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", help="TCP port on 127.0.0.1 (0 = any free).")
    ] = 9443,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Scenario name (e.g. seed) or YAML file; empty if unset."),
    ] = None,
    accounts: Annotated[
        list[str] | None,
        typer.Option("--account", help="Extra account names clients may log in as (repeatable)."),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Play the scenario's future events this much faster.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for an empty backend.")] = 0,
    history_budget: Annotated[
        int | None,
        typer.Option(
            "--history-budget",
            help="messages.getHistory calls each account may make per 30 s; more answer "
            "FLOOD_WAIT for the rest of the window (as Telegram does).",
            min=1,
        ),
    ] = None,
    session_file: Annotated[
        Path | None,
        typer.Option(
            "--session-file",
            help="Write a Telethon SQLite session for this server (DC 2, the port, the "
            "default account's auth key; mode 0600) that any Telethon program can use.",
        ),
    ] = None,
) -> None:
    """Serve the simulated Telegram until interrupted, logging each request.

    Point the collector at it with MONITOR_TELEGRAM_SERVER=127.0.0.1:PORT.

    With --session-file, a plain TelegramClient(PATH, api_id, api_hash) talks to the simulator
    (any api_id and api_hash), already logged in.

    Example: monitor simulator serve --port 9443 --scenario seed --account worker2

    Example: monitor simulator serve --port 0 --scenario seed --session-file sim.session

    Example: monitor simulator serve --account second --history-budget 30
    """
    make_settings(ctx)
    if speed <= 0:
        raise ConfigError(f"--speed must be positive, got {speed}")
    run_async(
        _serve(
            port=port,
            scenario=scenario,
            accounts=accounts or [],
            speed=speed,
            seed=seed,
            session_file=session_file,
            history_budget=history_budget,
        )
    )


async def _serve(
    *,
    port: int,
    scenario: str | None,
    accounts: list[str],
    speed: float,
    seed: int,
    session_file: Path | None = None,
    history_budget: int | None = None,
) -> None:
    import asyncio

    import structlog

    from monitor.simulator import Backend, SimulatorError, SimulatorServer
    from monitor.simulator.clients import write_session_file

    log = structlog.get_logger("monitor.simulator")
    backend = Backend(seed=seed)
    play = None
    if scenario:
        try:
            from monitor.simulator.scenario import load_scenario
        except ImportError:
            log.warning("simulator_scenarios_unavailable", scenario=scenario)
        else:
            loaded = load_scenario(scenario)
            backend = loaded.backend
            applied = loaded.apply_history()
            log.info(
                "simulator_scenario_loaded",
                scenario=scenario,
                events=applied,
                pending=loaded.pending,
            )
            play = loaded
    for name in accounts:
        if name not in backend.accounts:
            backend.add_account(name)
    if history_budget is not None:  # per account, like Telegram's own limits
        backend.faults.rate_limit("GetHistoryRequest", history_budget, 30.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimulatorServer(backend, port=port) as server:
        if session_file is not None:
            try:
                written = write_session_file(session_file, host=server.host, port=server.port)
            except SimulatorError as exc:
                raise ConfigError(f"--session-file: {exc}") from None
            log.info("simulator_session_written", path=str(written))
        console.print(
            f"simulated Telegram on {server.address} "
            f"(MONITOR_TELEGRAM_SERVER={server.address}); Ctrl-C stops",
            soft_wrap=True,
        )
        player = loop.create_task(play.play_live(speed)) if play is not None else None
        await stop.wait()
        if player is not None:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
    log.info("simulator_stopped", requests=backend.requests.count(), channels=len(backend.channels))
