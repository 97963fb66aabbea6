"""A simulated Telegram that the real Telethon client talks to (in-process or over loopback TCP).

In-process::

    backend = Backend(seed=1)
    channel = backend.add_channel("example", "Example")
    client = client_for(backend)            # unmodified TelegramClient
    await client.connect()

Over TCP (another process)::

    async with SimulatorServer(backend, port=0) as server:
        client = tcp_client(server.address)  # or tcp_client(os.environ["MONITOR_TELEGRAM_SERVER"])
"""

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
