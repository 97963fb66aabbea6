"""What a client in another process needs to reach the simulator as an account: the data
centre the simulator is served as, and the account's auth key (from its name alone, so no state
is shared). Kept apart from the model so that such a client loads nothing else of it."""

from __future__ import annotations

import hashlib

__all__ = ["DC_ID", "account_auth_key"]

DC_ID = 2


def account_auth_key(account: str) -> bytes:
    """The 256-byte auth key of a simulated account. It depends only on the account name, so a
    client in another process can connect to a ``SimulatorServer`` without sharing state."""
    out = b""
    for i in range(8):
        out += hashlib.sha256(f"monitor-simulator:auth_key:{account}:{i}".encode()).digest()
    return out
