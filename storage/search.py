"""Full-text search and filtered listing of posts: the SQL behind `monitor search`, `monitor
export posts` and the web desk.

The query arrives parsed and normalised (``monitor.search`` turns what a person types into a
:class:`TextQuery`); this module renders it for FTS5 (SQLite) or ``to_tsquery('simple')``
(PostgreSQL) over ``post_search`` (see :mod:`storage.search_index`). Every post version is
indexed, so a post is found by words it no longer says; each hit names the newest version that
matched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    column,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    table,
    text,
)

from storage.errors import StorageError
from storage.models import channel, flag, post, post_media, post_version
from storage.review import post_link
from storage.search_index import DOC_TABLE, SEARCH_TABLE, doc_range

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "PostFilters",
    "Term",
    "TextQuery",
    "count_posts",
    "export_pages",
    "search_posts",
]

Sort = Literal["date", "rank"]


@dataclass(frozen=True, slots=True)
class Term:
    """Normalised words that must appear in this order (one word, or a phrase); with
    ``prefix`` the last word may continue (``khaz*``)."""

    words: tuple[str, ...]
    prefix: bool = False

    def __post_init__(self) -> None:
        if not self.words:
            raise StorageError("a search term needs at least one word")
        for word in self.words:
            if not word or not all(ch.isalnum() for ch in word):
                raise StorageError(
                    f"search word {word!r} is not normalised (letters and digits only)",
                    hint="build search terms with monitor.search.parse_query",
                )


@dataclass(frozen=True, slots=True)
class TextQuery:
    """Every group must match (a group matches when any of its terms does); no ``excluded``
    term may match. Matching is per version: a version that says all of it finds the post."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        if not self.groups or not all(self.groups):
            raise StorageError("a search needs at least one word that must match")


@dataclass(frozen=True, slots=True)
class PostFilters:
    """Conditions on the post. ``channels``: ids or usernames (with or without ``@``);
    ``entities``: posts flagged for any of these entity ids; ``since``/``until``: posted
    between (inclusive); the three booleans: ``None`` means either."""

    channels: tuple[int | str, ...] = ()
    entities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    has_photo: bool | None = None
    deleted: bool | None = None
    edited: bool | None = None


# ── rendering the text query ──────────────────────────────────────────────────────────────────


def _fts5_term(term: Term) -> str:
    phrase = '"' + " ".join(term.words).replace('"', '""') + '"'
    return f"{phrase} *" if term.prefix else phrase


def fts5_query(query: TextQuery) -> str:
    """The FTS5 MATCH expression of ``query``."""
    groups = " AND ".join("(" + " OR ".join(map(_fts5_term, g)) + ")" for g in query.groups)
    return "".join([f"({groups})", *(f" NOT {_fts5_term(t)}" for t in query.excluded)])


def _ts_term(term: Term) -> str:
    words = [f"'{w}'" for w in term.words]
    if term.prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


def tsquery(query: TextQuery) -> str:
    """The ``to_tsquery('simple', ...)`` text of ``query``."""
    groups = " & ".join("(" + " | ".join(map(_ts_term, g)) + ")" for g in query.groups)
    return "".join([f"({groups})", *(f" & !{_ts_term(t)}" for t in query.excluded)])


def _hits(query: TextQuery, dialect: str, filters: PostFilters, *, ranked: bool) -> Any:
    """One row per matching post: ``post_id``, the newest matching ``version_id``, ``score``
    (higher is better; 0 unless ``ranked``)."""
    if dialect == "sqlite":
        lo, hi = doc_range(filters.since, filters.until)
        score = "-min(s.rank)" if ranked else "0.0"
        sql = (
            f"SELECT d.post_id AS post_id, max(d.version_id) AS version_id, {score} AS score "
            f"FROM {SEARCH_TABLE} s JOIN {DOC_TABLE} d ON d.doc = s.rowid "
            f"WHERE {SEARCH_TABLE} MATCH :match AND s.rowid BETWEEN :lo AND :hi "
            "GROUP BY d.post_id"
        )
        params: dict[str, Any] = {"match": fts5_query(query), "lo": lo, "hi": hi}
    else:
        score = "max(ts_rank(s.body, q))" if ranked else "0.0"
        sql = (
            f"SELECT s.post_id AS post_id, max(s.version_id) AS version_id, {score} AS score "
            f"FROM {SEARCH_TABLE} s, to_tsquery('simple', :match) q "
            "WHERE s.body @@ q GROUP BY s.post_id"
        )
        params = {"match": tsquery(query)}
    return (
        text(sql)
        .bindparams(**params)
        .columns(post_id=BigInteger, version_id=BigInteger, score=Float)
        .subquery("hit")
    )


_fts = table(SEARCH_TABLE, column("rowid", BigInteger))
_doc = table(DOC_TABLE, column("doc", BigInteger), column("version_id"), column("post_id"))


_pg_index = table(
    SEARCH_TABLE,
    column("version_id", BigInteger),
    column("post_id", BigInteger),
    column("posted_at"),
)


async def _newest(query: TextQuery, filters: PostFilters, conn: AsyncConnection, limit: int) -> Any:
    """The newest ``limit`` matching posts straight from the index, which holds each version's
    post date: SQLite's FTS5 rowids are in post date order (:func:`storage.search_index.doc_key`),
    so FTS5 walks them newest first and stops after a page; PostgreSQL's ``post_search`` has a
    ``posted_at`` index, so for a common word the planner walks it newest first and checks the
    words, and for a rare one it takes the GIN matches and sorts only those. Either way, never
    every match joined and sorted. A hit subquery like :func:`_hits`."""
    if conn.dialect.name == "sqlite":
        lo, hi = doc_range(filters.since, filters.until)
        match = text(f"{SEARCH_TABLE} MATCH :match").bindparams(match=fts5_query(query))
        joined = _fts.join(_doc, _doc.c.doc == _fts.c.rowid)
        joined = joined.join(post, post.c.id == _doc.c.post_id)
        found = select(_doc.c.post_id, _doc.c.version_id).select_from(joined)
        found = found.where(match, _fts.c.rowid.between(lo, hi))
        order: tuple[Any, ...] = (_fts.c.rowid.desc(),)
    else:
        match = text(f"{SEARCH_TABLE}.body @@ to_tsquery('simple', :match)").bindparams(
            match=tsquery(query)
        )
        joined = _pg_index.join(post, post.c.id == _pg_index.c.post_id)
        found = select(_pg_index.c.post_id, _pg_index.c.version_id).select_from(joined)
        found = found.where(match)
        if filters.since is not None:
            found = found.where(_pg_index.c.posted_at >= filters.since)
        if filters.until is not None:
            found = found.where(_pg_index.c.posted_at <= filters.until)
        order = (_pg_index.c.posted_at.desc(), _pg_index.c.version_id.desc())
    base = _filtered(found, filters).order_by(*order)
    fetch = limit * 2 + 8
    while True:
        rows = (await conn.execute(base.limit(fetch))).all()
        newest: dict[int, int] = {}
        for post_id, version_id in rows:
            newest[post_id] = max(version_id, newest.get(post_id, 0))
        if len(newest) >= limit or len(rows) < fetch:
            break
        fetch *= 4
    chosen = list(newest.values())[:limit]  # first seen = newest
    return (
        select(
            post_version.c.post_id,
            post_version.c.id.label("version_id"),
            literal(0.0, Float).label("score"),
        )
        .where(post_version.c.id.in_(chosen or [0]))
        .subquery("hit")
    )


# ── filters and columns ───────────────────────────────────────────────────────────────────────


def _filtered(query: Select[Any], filters: PostFilters) -> Select[Any]:
    if filters.channels:
        ids = [int(c) for c in filters.channels if isinstance(c, int) or str(c).isdigit()]
        names = [
            str(c).lstrip("@").lower()
            for c in filters.channels
            if not (isinstance(c, int) or str(c).isdigit())
        ]
        wanted = select(channel.c.id).where(
            or_(
                channel.c.id.in_(ids) if ids else false(),
                func.lower(channel.c.username).in_(names) if names else false(),
            )
        )
        query = query.where(post.c.channel_id.in_(wanted))
    if filters.entities:
        flagged = select(flag.c.post_id).where(flag.c.entity_id.in_(filters.entities))
        query = query.where(post.c.id.in_(flagged))
    if filters.languages:
        query = query.where(post.c.language.in_(filters.languages))
    if filters.since is not None:
        query = query.where(post.c.posted_at >= filters.since)
    if filters.until is not None:
        query = query.where(post.c.posted_at <= filters.until)
    if filters.has_photo is not None:
        photo = exists().where(post_media.c.post_id == post.c.id, post_media.c.kind == "photo")
        query = query.where(photo if filters.has_photo else ~photo)
    if filters.deleted is not None:
        gone = post.c.deleted_at.is_not(None)
        query = query.where(gone if filters.deleted else ~gone)
    if filters.edited is not None:
        changed = post.c.edited_at.is_not(None)
        query = query.where(changed if filters.edited else ~changed)
    return query


_POST_COLUMNS = (
    post.c.id.label("post_id"),
    post.c.channel_id,
    post.c.message_id,
    post.c.grouped_id,
    post.c.posted_at,
    post.c.edited_at,
    post.c.deleted_at,
    post.c.first_captured_at,
    post.c.language,
    post.c.text,
    post.c.views,
    post.c.forwards,
    post.c.replies,
    channel.c.username,
    channel.c.title.label("channel_title"),
)


def _version_count(upto: Any = None) -> Any:
    other = post_version.alias("other_version")
    query = select(func.count()).where(other.c.post_id == post.c.id)
    if upto is not None:
        query = query.where(other.c.id <= upto)
    return query.correlate_except(other).scalar_subquery()


def _base(
    query: TextQuery | None,
    filters: PostFilters,
    dialect: str,
    *,
    ranked: bool,
    hit: Any = None,
) -> Any:
    columns: list[Any] = [*_POST_COLUMNS, _version_count().label("versions")]
    if query is None:
        stmt = select(*columns).select_from(post.join(channel, channel.c.id == post.c.channel_id))
        return _filtered(stmt, filters), None
    if hit is None:
        hit = _hits(query, dialect, filters, ranked=ranked)
    matched = post_version.alias("matched")
    columns += [
        hit.c.score,
        matched.c.id.label("version_id"),
        matched.c.text.label("version_text"),
        matched.c.captured_at.label("version_captured_at"),
        matched.c.edited_at.label("version_edited_at"),
        (matched.c.content_hash == post.c.content_hash).label("version_is_current"),
        _version_count(hit.c.version_id).label("version_number"),
    ]
    joined = (
        hit.join(post, post.c.id == hit.c.post_id)
        .join(channel, channel.c.id == post.c.channel_id)
        .join(matched, matched.c.id == hit.c.version_id)
    )
    return _filtered(select(*columns).select_from(joined), filters), hit


def _row(row: Any) -> dict[str, Any]:
    found = dict(row)
    found["link"] = post_link(row["username"], row["channel_id"], row["message_id"])
    if "version_is_current" in found:
        found["version_is_current"] = bool(found["version_is_current"])
    return found


async def search_posts(
    query: TextQuery | None,
    filters: PostFilters | None = None,
    *,
    conn: AsyncConnection,
    limit: int = 20,
    sort: Sort = "date",
) -> list[dict[str, Any]]:
    """Posts that match ``query`` (every post when ``None``) and ``filters``: newest first, or
    best match first with ``sort="rank"``; at most ``limit``.

    Each dict has the post's columns, ``username``/``channel_title``, ``link``, ``versions``
    and, with a query, the matched version (``version_id``, ``version_number`` counted from 1
    in capture order, ``version_text``, ``version_captured_at``, ``version_is_current``) and a
    ``score`` (higher is better).
    """
    if sort not in ("date", "rank"):
        raise StorageError(f"unknown sort {sort!r}", hint="sort by 'date' or 'rank'")
    ranked = sort == "rank" and query is not None
    filters = filters or PostFilters()
    fast = None
    if query is not None and not ranked:
        fast = await _newest(query, filters, conn, limit)
    stmt, hit = _base(query, filters, conn.dialect.name, ranked=ranked, hit=fast)
    newest = (post.c.posted_at.desc(), post.c.id.desc())
    stmt = stmt.order_by(hit.c.score.desc(), *newest) if ranked else stmt.order_by(*newest)
    rows = (await conn.execute(stmt.limit(limit))).mappings()
    return [_row(row) for row in rows]


async def count_posts(
    query: TextQuery | None, filters: PostFilters | None = None, *, conn: AsyncConnection
) -> int:
    """How many posts :func:`search_posts` would find without a limit."""
    stmt, _ = _base(query, filters or PostFilters(), conn.dialect.name, ranked=False)
    counted = select(func.count()).select_from(stmt.with_only_columns(post.c.id).subquery())
    return int((await conn.execute(counted)).scalar_one())


async def export_pages(
    query: TextQuery | None,
    filters: PostFilters | None = None,
    *,
    conn: AsyncConnection,
    page_size: int = 1000,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every post :func:`search_posts` would find, in post id (capture) order, as pages of at
    most ``page_size`` dicts (each with ``photos``: how many photos it holds).

    Each page is its own query (keyset on ``post.id``), so memory stays flat whatever the
    archive's size and no cursor or snapshot is held open between pages.
    """
    if page_size < 1:
        raise StorageError(f"page size must be positive, not {page_size}")
    stmt, _ = _base(query, filters or PostFilters(), conn.dialect.name, ranked=False)
    photos = (
        select(func.count())
        .where(post_media.c.post_id == post.c.id, post_media.c.kind == "photo")
        .correlate(post)
        .scalar_subquery()
    )
    stmt = stmt.add_columns(photos.label("photos")).order_by(post.c.id).limit(page_size)
    last = 0
    while True:
        page = [_row(row) for row in (await conn.execute(stmt.where(post.c.id > last))).mappings()]
        if not page:
            return
        yield page
        if len(page) < page_size:
            return
        last = page[-1]["post_id"]
