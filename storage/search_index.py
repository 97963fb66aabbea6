"""The full-text index of every post version, kept in step by the transaction that stores them.

What is indexed is the version's text after the matcher's normalisation, which lives in
``monitor`` and so is handed in by the caller as a function (``index_text``): storage never
imports ``monitor``. A version stored without one (an import script, a test) is queued in
``search_pending`` and indexed by :func:`index_pending` (``monitor db upgrade`` and
``monitor search`` run it), so no write path leaves a version out.

Backends:

- SQLite: ``post_search``, a contentless FTS5 table (tokenizer ``unicode61 remove_diacritics 0``:
  the text is already folded) whose rowid is :func:`doc_key` (the post's date, then the version
  id), and ``search_doc`` mapping that rowid to the version and its post;
- PostgreSQL: ``post_search`` (version_id, post_id, posted_at, body tsvector) with a GIN index
  on ``body`` (built with ``to_tsvector('simple', ...)``) and a btree on ``posted_at``.

Neither table is in ``storage.models.metadata`` (an FTS5 virtual table cannot be); migration
0004 creates them with :func:`create_search_tables`, and :func:`include_name` keeps Alembic's
comparison from reporting them.

Text read from a photo (OCR, migration 0011) is indexed as one more document of the version of
the post that carries the photo (its newest version when the text was read), keyed by
``(version_id, media_sha256)``: a search for a word only in a photo finds the post, through the
same queries as any other word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text

from storage.batching import chunked
from storage.models import post, post_version, search_pending

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "DOC_TABLE",
    "SEARCH_TABLE",
    "IndexText",
    "doc_key",
    "doc_range",
    "count_pending",
    "create_search_tables",
    "drop_search_tables",
    "include_name",
    "index_media_text",
    "index_pending",
    "index_versions",
]

SEARCH_TABLE = "post_search"
DOC_TABLE = "search_doc"  # SQLite: FTS5 rowid -> version (see doc_key)
DOC_SHIFT = 20
DOC_MASK = (1 << DOC_SHIFT) - 1
# FTS5 keeps its data in shadow tables named after the virtual table.
_FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")
_IGNORED = frozenset([SEARCH_TABLE, DOC_TABLE, *(f"{SEARCH_TABLE}_{s}" for s in _FTS5_SHADOWS)])

IndexText = Callable[[str], str]


def include_name(name: str | None, type_: str, _parents: Any = None) -> bool:
    """Alembic ``include_name`` hook: leave the search tables (and FTS5 shadows) alone."""
    return not (type_ == "table" and name in _IGNORED)


def create_search_tables(conn: Connection) -> None:
    """Create the index (empty) on a synchronous connection (used by migration 0004)."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5("
                "body, content='', tokenize='unicode61 remove_diacritics 0')"
            )
        )
        conn.execute(
            text(
                f"CREATE TABLE {DOC_TABLE} ("
                " doc INTEGER PRIMARY KEY,"
                " version_id INTEGER NOT NULL UNIQUE"
                " REFERENCES post_version (id) ON DELETE CASCADE,"
                " post_id INTEGER NOT NULL)"
            )
        )
        return
    conn.execute(
        text(
            f"CREATE TABLE {SEARCH_TABLE} ("
            " version_id BIGINT PRIMARY KEY REFERENCES post_version (id) ON DELETE CASCADE,"
            " post_id BIGINT NOT NULL,"
            " posted_at TIMESTAMP WITH TIME ZONE NOT NULL,"
            " body TSVECTOR NOT NULL)"
        )
    )
    conn.execute(text(f"CREATE INDEX ix_{SEARCH_TABLE}_posted_at ON {SEARCH_TABLE} (posted_at)"))
    conn.execute(text(f"CREATE INDEX ix_{SEARCH_TABLE}_body ON {SEARCH_TABLE} USING GIN (body)"))
    conn.execute(text(f"CREATE INDEX ix_{SEARCH_TABLE}_post_id ON {SEARCH_TABLE} (post_id)"))


def drop_search_tables(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {SEARCH_TABLE}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {DOC_TABLE}"))


def doc_key(posted_at: datetime, version_id: int) -> int:
    """The FTS5 rowid of a version on SQLite: its post's date in the high bits, so the index
    itself lists documents newest post first (``ORDER BY rowid DESC`` stops after a page, and a
    date range is a rowid range)."""
    return (max(int(posted_at.timestamp()), 0) << DOC_SHIFT) | (version_id & DOC_MASK)


def doc_range(since: datetime | None, until: datetime | None) -> tuple[int, int]:
    """The rowids of documents posted between ``since`` and ``until`` (inclusive)."""
    lo = doc_key(since, 0) if since is not None else 0
    hi = ((int(until.timestamp()) + 1) << DOC_SHIFT) - 1 if until is not None else 2**63 - 1
    return lo, hi


async def index_versions(
    rows: Iterable[Any],
    index_text: IndexText | None,
    *,
    conn: AsyncConnection,
    posted: Mapping[int, datetime] | None = None,
) -> int:
    """Index stored versions (rows with ``id``, ``post_id`` and ``text``); without
    ``index_text`` they are queued in ``search_pending`` instead. Returns how many were indexed.

    ``posted``: ``post_id -> posted_at`` the caller already knows (posts it just stored); the
    posted times of the others are read.
    """
    rows = list(rows)
    if not rows:
        return 0
    if index_text is None:
        await conn.execute(insert(search_pending), [{"version_id": r.id} for r in rows])
        return 0
    values = [
        {"version_id": r.id, "post_id": r.post_id, "body": index_text(r.text or "")} for r in rows
    ]
    posted = await _posted(values, conn, known=posted or {})
    if conn.dialect.name == "sqlite":
        await _index_sqlite(values, posted, conn)
        return len(values)
    await _insert_postgresql(values, posted, conn)
    return len(values)


async def _insert_postgresql(
    values: list[dict[str, Any]], posted: dict[int, datetime], conn: AsyncConnection
) -> int:
    """Add documents (a version's text, or with ``media_sha256`` a photo's) to the tsvector
    index; one already there stays. Returns the rows added."""
    for value in values:
        value["posted_at"] = posted[value["post_id"]]
        value.setdefault("media_sha256", "")
    statement = (
        f"INSERT INTO {SEARCH_TABLE} (version_id, post_id, posted_at, body, media_sha256) "
        "VALUES (:version_id, :post_id, :posted_at, to_tsvector('simple', :body), "
        ":media_sha256) ON CONFLICT (version_id, media_sha256) DO NOTHING"
    )
    return int((await conn.execute(text(statement), values)).rowcount or 0)


async def _posted(
    values: list[dict[str, Any]], conn: AsyncConnection, *, known: Mapping[int, datetime]
) -> dict[int, datetime]:
    """``post_id -> posted_at`` of the posts these versions belong to."""
    posted: dict[int, datetime] = {
        v["post_id"]: known[v["post_id"]] for v in values if v["post_id"] in known
    }
    for ids in chunked(sorted({v["post_id"] for v in values} - posted.keys())):
        found = await conn.execute(select(post.c.id, post.c.posted_at).where(post.c.id.in_(ids)))
        posted.update({row.id: row.posted_at for row in found})
    return posted


async def _index_sqlite(
    values: list[dict[str, Any]], posted: dict[int, datetime], conn: AsyncConnection
) -> None:
    keys = {v["version_id"]: doc_key(posted[v["post_id"]], v["version_id"]) for v in values}
    taken: set[int] = set()
    for chunk in chunked(list(keys.values())):
        found = await conn.execute(
            text(f"SELECT doc FROM {DOC_TABLE} WHERE doc IN :docs").bindparams(
                bindparam("docs", expanding=True)
            ),
            {"docs": list(chunk)},
        )
        taken.update(found.scalars())
    for value in values:  # two versions with the same key (a 1 in 2**20 chance): the next free
        key = keys[value["version_id"]]
        while key in taken:
            key += 1
        taken.add(key)
        value["doc"] = key
    # Integers and text, bound by sqlite3 itself: no per-row parameter processing to pay for.
    await conn.exec_driver_sql(
        f"INSERT INTO {DOC_TABLE} (doc, version_id, post_id) VALUES (:doc, :version_id, :post_id)",
        values,
    )
    await conn.exec_driver_sql(
        f"INSERT INTO {SEARCH_TABLE} (rowid, body) VALUES (:doc, :body)", values
    )


async def count_pending(*, conn: AsyncConnection) -> int:
    """How many stored versions wait to be indexed."""
    return int((await conn.execute(select(func.count()).select_from(search_pending))).scalar_one())


async def index_pending(
    index_text: IndexText,
    *,
    conn: AsyncConnection,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> int:
    """Index queued versions, ``batch`` at a time (``progress(n)`` after each batch): all of
    them, or about ``limit`` (whole batches) so that a caller can commit between calls.

    Returns how many were indexed. Runs in the caller's transaction.
    """
    done = 0
    while limit is None or done < limit:
        ids: Sequence[int] = (
            (
                await conn.execute(
                    select(search_pending.c.version_id)
                    .order_by(search_pending.c.version_id)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not ids:
            break
        found = (
            await conn.execute(
                select(post_version.c.id, post_version.c.post_id, post_version.c.text).where(
                    post_version.c.id.in_(ids)
                )
            )
        ).all()
        await index_versions(found, index_text, conn=conn)
        for chunk in chunked(list(ids)):
            await conn.execute(delete(search_pending).where(search_pending.c.version_id.in_(chunk)))
        done += len(found)
        if progress is not None:
            progress(len(ids))
    return done


async def index_media_text(
    post_ids: Iterable[int], sha256: str, body: str, *, conn: AsyncConnection
) -> int:
    """Index a photo's text (``body``, already normalised) for each post that carries it, as a
    document of the post's newest version. Indexing the same photo of a post again does nothing.
    Returns how many documents were added."""
    ids = sorted(set(post_ids))
    if not ids or not body.strip():
        return 0
    newest = select(post_version.c.post_id, func.max(post_version.c.id).label("id"))
    newest = newest.where(post_version.c.post_id.in_(ids)).group_by(post_version.c.post_id)
    values = [
        {"version_id": r.id, "post_id": r.post_id, "body": body, "media_sha256": sha256}
        for r in await conn.execute(newest)
    ]
    if not values:
        return 0
    posted = await _posted(values, conn, known={})
    if conn.dialect.name != "sqlite":
        return await _insert_postgresql(values, posted, conn)
    found = await conn.execute(
        text(
            f"SELECT version_id FROM {DOC_TABLE} WHERE media_sha256 = :sha AND version_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"sha": sha256, "ids": [v["version_id"] for v in values]},
    )
    done = set(found.scalars())
    values = [v for v in values if v["version_id"] not in done]
    if not values:
        return 0
    taken: set[int] = set()
    for value in values:
        key = doc_key(posted[value["post_id"]], value["version_id"])
        while key in taken or await _doc_taken(key, conn):
            key += 1
        taken.add(key)
        value["doc"] = key
    await conn.execute(
        text(
            f"INSERT INTO {DOC_TABLE} (doc, version_id, post_id, media_sha256) "
            "VALUES (:doc, :version_id, :post_id, :media_sha256)"
        ),
        values,
    )
    await conn.execute(
        text(f"INSERT INTO {SEARCH_TABLE} (rowid, body) VALUES (:doc, :body)"), values
    )
    return len(values)


async def _doc_taken(key: int, conn: AsyncConnection) -> bool:
    found = await conn.execute(text(f"SELECT 1 FROM {DOC_TABLE} WHERE doc = :doc"), {"doc": key})
    return found.first() is not None
