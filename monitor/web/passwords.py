"""Password hashing for desk accounts: argon2id (argon2-cffi's defaults, RFC 9106 low-memory)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.errors import ConfigError

__all__ = ["MIN_PASSWORD_LENGTH", "check_password", "hash_password", "needs_rehash"]

MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
# Verified when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``; :class:`ConfigError` when it is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"password too short: {len(password)} characters, at least {MIN_PASSWORD_LENGTH}"
        )
    return _HASHER.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (None: an unknown user, always False)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
