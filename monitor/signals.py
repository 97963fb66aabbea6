"""The signals a long-running command (``monitor run``, ``monitor send``) answers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

__all__ = ["daemon_signals"]


@contextlib.contextmanager
def daemon_signals(stop: asyncio.Event, reload: Callable[[], None]) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``, SIGHUP calls ``reload``, while the block runs (where the
    event loop cannot take signal handlers, e.g. off the main thread, none are installed)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig, action in (
        (signal.SIGTERM, stop.set),
        (signal.SIGINT, stop.set),
        (signal.SIGHUP, reload),
    ):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, action)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
