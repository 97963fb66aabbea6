"""Column types: timezone-aware UTC datetimes on every backend, JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigIntPK", "JSONType", "UTCDateTime"]


class JSONType(TypeDecorator[Any]):
    """JSON everywhere, JSONB on PostgreSQL (indexable, compact). Python None is SQL NULL.

    Not ``JSON().with_variant(JSONB(), "postgresql")``: that imports the PostgreSQL dialect (all
    its drivers' modules, about 40 ms) into every command, SQLite ones too. Alembic compares the
    type as compiled for the connected database, so it still sees JSONB on PostgreSQL.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


# A 64-bit surrogate key that still autoincrements on SQLite (only INTEGER PRIMARY KEY does there).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that must be timezone-aware; stored as UTC and always returned as aware UTC.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so the value is stored as naive
    UTC text (which sorts correctly) and the UTC zone is re-attached on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the text SQLAlchemy's DATETIME would store, in one step.

        ``2024-05-13 09:12:00.000000``: the same characters as its default storage format (a
        first pass binds about nine datetimes a post; its ``%``-formatting of seven fields was
        the costliest part of binding a post)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: Any) -> str | None:
            if value is None:
                return None
            if type(value) is not datetime or value.tzinfo is not UTC:  # most are UTC already
                value = _utc(value)
            return value.isoformat(" ", "microseconds")[:26]  # without "+00:00"

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utc(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} given to a UTC column; "
            "pass a timezone-aware value, e.g. datetime.now(UTC)"
        )
    return value.astimezone(UTC)
