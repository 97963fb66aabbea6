"""Accounts of the review desk: name, role, password hash, disabled or not. Every change audited.

Hashing is the caller's business (``monitor.web.passwords`` uses argon2id): this module stores and
returns the hash string and never sees a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.audit_log import audit
from storage.errors import StorageError
from storage.models import DESK_ROLES, desk_user

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "DESK_ROLES",
    "DeskUser",
    "add_user",
    "get_user",
    "list_users",
    "set_user_disabled",
    "set_user_password",
    "valid_user_name",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class DeskUser:
    id: int
    name: str
    role: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:  # never the hash
        return f"DeskUser(name={self.name!r}, role={self.role!r}, active={self.active})"


def valid_user_name(name: str) -> str:
    """``name`` lowercased, or :class:`StorageError` saying what a name may hold."""
    folded = name.strip().lower()
    if not _NAME.fullmatch(folded):
        raise StorageError(
            f"user name {name!r} is not allowed",
            hint="use 1-64 of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
        )
    return folded


def _role(role: str) -> str:
    if role not in DESK_ROLES:
        raise StorageError(f"unknown role {role!r}; expected one of {', '.join(DESK_ROLES)}")
    return role


def _user(row: Any) -> DeskUser:
    return DeskUser(**row)


async def add_user(
    name: str, role: str, password_hash: str, *, conn: AsyncConnection, by: str
) -> DeskUser:
    """Create an account; :class:`StorageError` when the name is taken or the role unknown."""
    folded = valid_user_name(name)
    now = datetime.now(UTC)
    values = {
        "name": folded,
        "role": _role(role),
        "password_hash": password_hash,
        "created_at": now,
        "updated_at": now,
    }
    taken = StorageError(
        f"a user named {folded!r} already exists",
        hint=f"change its password with `monitor users passwd {folded}`",
    )
    if await get_user(folded, conn=conn) is not None:
        raise taken
    try:
        await conn.execute(desk_user.insert().values(**values))
    except IntegrityError:  # created by someone else meanwhile
        raise taken from None
    await audit("user.add", "user", folded, conn=conn, actor=by, details={"role": role}, at=now)
    found = await get_user(folded, conn=conn)
    assert found is not None
    return found


async def get_user(name: str, *, conn: AsyncConnection) -> DeskUser | None:
    query = select(desk_user).where(desk_user.c.name == name.strip().lower())
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _user(row)


async def list_users(*, conn: AsyncConnection) -> list[DeskUser]:
    rows = (await conn.execute(select(desk_user).order_by(desk_user.c.name))).mappings()
    return [_user(row) for row in rows]


async def _change(name: str, values: dict[str, Any], *, conn: AsyncConnection) -> DeskUser:
    folded = name.strip().lower()
    result = await conn.execute(
        update(desk_user).where(desk_user.c.name == folded).values(**values)
    )
    if result.rowcount == 0:
        raise StorageError(f"no user named {folded!r}", hint="see `monitor users list`")
    found = await get_user(folded, conn=conn)
    assert found is not None
    return found


async def set_user_disabled(
    name: str, disabled: bool, *, conn: AsyncConnection, by: str
) -> DeskUser:
    """Disable (or enable again) an account; a disabled user's sessions stop working at once."""
    now = datetime.now(UTC)
    user = await _change(
        name, {"disabled_at": now if disabled else None, "updated_at": now}, conn=conn
    )
    action = "user.disable" if disabled else "user.enable"
    await audit(action, "user", user.name, conn=conn, actor=by, at=now)
    return user


async def set_user_password(
    name: str, password_hash: str, *, conn: AsyncConnection, by: str
) -> DeskUser:
    """Replace an account's password hash (its open sessions end: they carry the old hash's tag)."""
    now = datetime.now(UTC)
    user = await _change(name, {"password_hash": password_hash, "updated_at": now}, conn=conn)
    await audit("user.passwd", "user", user.name, conn=conn, actor=by, at=now)
    return user
