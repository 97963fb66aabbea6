"""Run the ``monitor`` CLI with outbound connections limited to loopback.

The daemon tests start the real CLI as a subprocess through this file (the suite's in-process
``no_network`` guard does not reach subprocesses), so a code path that would reach for the real
Telegram fails loudly instead of leaving the machine.
"""

import ipaddress
import socket
import sys

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX: local
    host = str(address[0]) if isinstance(address, tuple) else str(address)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConnectionRefusedError(f"test network guard: refused {address!r}")


def _connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]

if __name__ == "__main__":
    from monitor.cli import main

    sys.argv[0] = "monitor"
    sys.exit(main())
