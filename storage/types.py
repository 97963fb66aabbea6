"""Column types: timezone-aware UTC datetimes on every backend, JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigIntPK", "JSONType", "UTCDateTime"]


class _JSONDocument(TypeDecorator[Any]):
    """JSON everywhere, JSONB on PostgreSQL (indexable, compact). Python None is SQL NULL.

    What ``JSON().with_variant(JSONB(), "postgresql")`` gives, except that PostgreSQL's dialect
    package (all its drivers, ~0.1 s) is imported only when a PostgreSQL database is used: every
    command on SQLite starts without it.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


JSONType = _JSONDocument()

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
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given to a UTC column; "
                "pass a timezone-aware value, e.g. datetime.now(UTC)"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
