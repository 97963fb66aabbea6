"""Command-line interface: ``monitor <command>``. Each command module registers itself here."""

from __future__ import annotations

import copy

import typer

from monitor.cli import (
    alerts_cmd,  # noqa: F401
    channels_cmd,  # noqa: F401
    cite_cmd,  # noqa: F401
    collect_cmd,  # noqa: F401
    config_cmd,  # noqa: F401  (registers commands on app)
    db_cmd,  # noqa: F401
    demo_cmd,  # noqa: F401
    entities_cmd,  # noqa: F401
    evidence_cmd,  # noqa: F401
    export_cmd,  # noqa: F401
    flags_cmd,  # noqa: F401
    import_cmd,  # noqa: F401
    match_cmd,  # noqa: F401
    photos_cmd,  # noqa: F401
    search_cmd,  # noqa: F401
    send_cmd,  # noqa: F401
    simulator_cmd,  # noqa: F401
    users_cmd,  # noqa: F401
    verify_cmd,  # noqa: F401
    web_cmd,  # noqa: F401
    workers_cmd,  # noqa: F401
)
from monitor.cli.app import app, with_examples

__all__ = ["app", "main"]

with_examples(app)

# Root options that take a value (see monitor.cli.app._root).
_VALUED_ROOT_OPTIONS = ("--data-dir", "--channels")


def app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command (or command group) that ``args`` name, when they name
    one: Typer builds the Click command of every command registered before it parses anything,
    about 50 ms of each run for sixty commands of which one runs. Without a command (``monitor``,
    ``monitor --help``), or with a name that is not one (the error lists the commands), the
    whole app."""
    name = None
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED_ROOT_OPTIONS:
            skip = True
        elif arg == "--":
            return app
        elif not arg.startswith("-"):
            name = arg
            break
        elif not arg.startswith(tuple(f"{o}=" for o in _VALUED_ROOT_OPTIONS)) and arg != "--debug":
            return app  # --help, --install-completion...: the whole app answers
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if name is None or not (commands or groups):
        return app
    only = copy.copy(app)
    only.registered_commands = commands
    only.registered_groups = groups
    return only


def main() -> None:
    import gc
    import os
    import sys

    # Whatever a command creates (archive, media, caches, sessions, exports) is private: no
    # group or other access, unless the caller's umask is stricter still.
    os.umask(os.umask(0) | 0o077)
    # No pydantic plugins here: finding them reads every installed package's metadata when the
    # first model is built (~0.1 s of `monitor collect` and `monitor match`). PYDANTIC_DISABLE_
    # PLUGINS set in the environment still decides.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app_for(sys.argv[1:])()
    finally:
        # The process ends here: spare the cyclic collector its last walks over every object
        # of every module loaded (Telethon, SQLAlchemy), 0.3-0.4 s of CPU after `monitor
        # collect`. Files, connections and the event loop are already closed by then.
        gc.freeze()
