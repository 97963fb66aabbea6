"""A simulated Telegram that the real Telethon client talks to (in-process or over loopback TCP).

In-process::

    backend = Backend(seed=1)
    channel = backend.add_channel("example", "Example")
    client = client_for(backend)            # unmodified TelegramClient
    await client.connect()

Over TCP (another process)::

    async with SimulatorServer(backend, port=0) as server:
        client = tcp_client(server.address)  # or tcp_client(os.environ["MONITOR_TELEGRAM_SERVER"])

Importing the package loads none of it: each name is imported from its module on first use
(``storage.lazy``), so a client of a simulator in another process (``tcp_client``) loads
neither the model nor the in-process connection.
"""

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

if TYPE_CHECKING:  # the same names as _MODULE_OF below, for type checkers and editors
    from monitor.simulator.clients import (
        API_HASH,
        API_ID,
        client_for,
        parse_address,
        prepare_session,
        tcp_client,
    )
    from monitor.simulator.connection import SimulatedConnection, make_connection
    from monitor.simulator.faults import Faults
    from monitor.simulator.handlers import RequestHandler, RpcError
    from monitor.simulator.model import (
        Backend,
        ChangeEvent,
        SimAccount,
        SimChannel,
        SimForward,
        SimMessage,
        SimPhoto,
        SimulatorError,
        account_auth_key,
    )
    from monitor.simulator.requestlog import LoggedRequest, RequestLog
    from monitor.simulator.tcp import SimulatorServer

__all__ = [
    "API_HASH",
    "API_ID",
    "Backend",
    "ChangeEvent",
    "Faults",
    "LoggedRequest",
    "RequestHandler",
    "RequestLog",
    "RpcError",
    "SimAccount",
    "SimChannel",
    "SimForward",
    "SimMessage",
    "SimPhoto",
    "SimulatedConnection",
    "SimulatorError",
    "SimulatorServer",
    "account_auth_key",
    "client_for",
    "make_connection",
    "parse_address",
    "prepare_session",
    "tcp_client",
]

_MODULE_OF = {
    "API_HASH": "monitor.simulator.clients",
    "API_ID": "monitor.simulator.clients",
    "Backend": "monitor.simulator.model",
    "ChangeEvent": "monitor.simulator.model",
    "Faults": "monitor.simulator.faults",
    "LoggedRequest": "monitor.simulator.requestlog",
    "RequestHandler": "monitor.simulator.handlers",
    "RequestLog": "monitor.simulator.requestlog",
    "RpcError": "monitor.simulator.handlers",
    "SimAccount": "monitor.simulator.model",
    "SimChannel": "monitor.simulator.model",
    "SimForward": "monitor.simulator.model",
    "SimMessage": "monitor.simulator.model",
    "SimPhoto": "monitor.simulator.model",
    "SimulatedConnection": "monitor.simulator.connection",
    "SimulatorError": "monitor.simulator.model",
    "SimulatorServer": "monitor.simulator.tcp",
    "account_auth_key": "monitor.simulator.keys",
    "client_for": "monitor.simulator.clients",
    "make_connection": "monitor.simulator.connection",
    "parse_address": "monitor.simulator.clients",
    "prepare_session": "monitor.simulator.clients",
    "tcp_client": "monitor.simulator.clients",
}

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
