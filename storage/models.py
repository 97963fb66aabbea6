"""The schema: one ``metadata`` with every table (SQLAlchemy Core). Alembic migrations mirror it.

Natural keys carry unique constraints so upserts are idempotent on SQLite and PostgreSQL alike.
Every datetime column is :class:`~storage.types.UTCDateTime` (aware UTC in, aware UTC out).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.types import BigIntPK, JSONType, UTCDateTime

__all__ = [
    "DESK_ROLES",
    "FLAG_STATUSES",
    "JOIN_STATES",
    "OUTBOX_KINDS",
    "OUTBOX_STATUSES",
    "account_join",
    "account_peer",
    "alert_outbox",
    "audit_event",
    "capture_log",
    "channel",
    "channel_health",
    "channel_snapshot",
    "collector_state",
    "desk_user",
    "entity",
    "flag",
    "media",
    "media_text",
    "metadata",
    "photo_hash",
    "post",
    "post_media",
    "post_metric",
    "post_version",
    "worker",
    "worker_lease",
    "search_pending",
]

FLAG_STATUSES = ("new", "confirmed", "dismissed", "escalated")
OUTBOX_KINDS = ("alert", "followup", "digest", "health")
OUTBOX_STATUSES = ("pending", "sending", "delivered", "failed")
DESK_ROLES = ("desk", "analyst", "operator", "admin")  # the review desk's roles (0006)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

channel = Table(
    "channel",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # bare Telegram channel id
    Column("username", String(64)),
    Column("title", Text, nullable=False),
    Column("about", Text),
    Column("subscribers", Integer),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_channel_username", channel.c.username)

channel_snapshot = Table(
    "channel_snapshot",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("channel_id", BigInteger, ForeignKey("channel.id", ondelete="CASCADE"), nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("username", String(64)),
    Column("title", Text, nullable=False),
    Column("about", Text),
    Column("subscribers", Integer),
    Index(None, "channel_id", "captured_at"),
)

# Access hashes are per Telegram account. ``handle`` is the canonical handle from channels.yaml
# (lowercased username without "@", or the numeric id as text). No FK to channel: a peer may be
# cached before the channel row is written.
account_peer = Table(
    "account_peer",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("handle", String(128), primary_key=True),
    Column("channel_id", BigInteger, nullable=False),
    Column("access_hash", BigInteger, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=False),
    UniqueConstraint("account", "channel_id"),
)

post = Table(
    "post",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("channel_id", BigInteger, ForeignKey("channel.id"), nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("grouped_id", BigInteger),
    Column("posted_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("first_captured_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    Column("text", Text, nullable=False, default=""),
    Column("language", String(16)),
    Column("views", Integer),
    Column("forwards", Integer),
    Column("replies", Integer),
    Column("reactions", JSONType),
    Column("fwd_from_channel_id", BigInteger),
    Column("fwd_from_message_id", BigInteger),
    Column("fwd_from_date", UTCDateTime),
    Column("fwd_from_name", Text),
    Column("reply_to_message_id", BigInteger),
    Column("raw", JSONType),
    Column("content_hash", String(64), nullable=False),
    UniqueConstraint("channel_id", "message_id"),
    Index(None, "channel_id", "grouped_id"),
    Index(None, "channel_id", "posted_at"),
)

post_version = Table(
    "post_version",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("post_id", BigInteger, ForeignKey("post.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    # "collected" (our capture) or "imported" (source: the export's file name) (0007)
    Column("provenance", String(16), nullable=False, server_default="collected"),
    Column("source", Text),
    UniqueConstraint("post_id", "content_hash"),
)

# Versions stored without the normalised text the search index needs (storage/search_index.py);
# indexed, then removed, by `monitor db upgrade` or the next search (0004).
search_pending = Table(
    "search_pending",
    metadata,
    Column(
        "version_id",
        BigInteger,
        ForeignKey("post_version.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
)

post_metric = Table(
    "post_metric",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("post_id", BigInteger, ForeignKey("post.id", ondelete="CASCADE"), nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("views", Integer),
    Column("forwards", Integer),
    Column("replies", Integer),
    Column("reactions", JSONType),
    Index(None, "post_id", "captured_at"),
)

media = Table(
    "media",
    metadata,
    Column("sha256", String(64), primary_key=True),  # lowercase hex
    Column("mime", String(127)),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("path", String(255), nullable=False),  # relative to the media root: ab/cd/<sha>.<ext>
    Column("first_seen_at", UTCDateTime, nullable=False),
)

# Text read from a photo (OCR), once per media file: the same bytes are never read twice.
media_text = Table(
    "media_text",
    metadata,
    Column("sha256", String(64), ForeignKey("media.sha256", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("languages", String(64), nullable=False),  # tesseract's -l: "ara+fas"
    Column("engine", String(32), nullable=False),
    Column("engine_version", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

post_media = Table(
    "post_media",
    metadata,
    Column("post_id", BigInteger, ForeignKey("post.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("telegram_id", BigInteger),
    Column("sha256", String(64), ForeignKey("media.sha256")),  # NULL: metadata only
    Column("mime", String(127)),
    Column("size", BigInteger),
    Column("width", Integer),
    Column("height", Integer),
    PrimaryKeyConstraint("post_id", "position"),
    Index(None, "sha256"),
)

# A perceptual hash per photo file (0012, storage/photo_hashes.py): the 64-bit hash as a signed
# BIGINT and its four 16-bit bands, each indexed, so a near-duplicate query probes the bands.
photo_hash = Table(
    "photo_hash",
    metadata,
    Column(
        "sha256",
        String(64),
        ForeignKey("media.sha256", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("phash", BigInteger, nullable=False),
    Column("band0", Integer, nullable=False),
    Column("band1", Integer, nullable=False),
    Column("band2", Integer, nullable=False),
    Column("band3", Integer, nullable=False),
    Column("hashed_at", UTCDateTime, nullable=False),
    # (band, phash): candidates are checked from the index alone, without reading the rows
    Index(None, "band0", "phash"),
    Index(None, "band1", "phash"),
    Index(None, "band2", "phash"),
    Index(None, "band3", "phash"),
)

# No FK to channel: state may be recorded (errors, flood waits) before the channel row exists.
collector_state = Table(
    "collector_state",
    metadata,
    Column("account", String(64), nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("last_message_id", BigInteger, nullable=False, default=0),
    Column("last_poll_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime),
    Column("flood_wait_until", UTCDateTime),
    Column("consecutive_errors", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("account", "channel_id"),
)

# Watchlist entities from channels.yaml. Removed entities stay (flags point at them) with
# ``removed_at`` set.
entity = Table(
    "entity",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("aliases", JSONType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
)

flag = Table(
    "flag",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("post_id", BigInteger, nullable=False),  # the album's lead (caption) message
    Column("channel_id", BigInteger, ForeignKey("channel.id"), nullable=False),
    Column("grouped_id", BigInteger),
    Column("entity_id", String(128), ForeignKey("entity.id"), nullable=False),
    Column("aliases", JSONType, nullable=False),
    Column("spans", JSONType, nullable=False),  # [{start, end, alias, rule}, ...]
    Column("snippet", Text, nullable=False),
    Column("language", String(16)),
    Column("status", String(16), nullable=False, default="new"),
    Column("mention_removed_at", UTCDateTime),
    Column("reviewer", String(128)),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["post_id"], ["post.id"], ondelete="CASCADE"),
    UniqueConstraint("post_id", "entity_id"),
    Index(None, "status", "created_at"),
    Index(None, "entity_id"),
    # `flags list`: newest first, all of them or by entity, channel or date (0002).
    Index(None, "created_at", "id"),
    Index(None, "entity_id", "created_at", "id"),
    Index(None, "channel_id", "created_at", "id"),
)

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(128), nullable=False),
    Column("details", JSONType),
    Index(None, "subject_type", "subject_id"),
    Index(None, "at"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("route", String(128), nullable=False),
    # NULL for a channel health alert (kind "health", 0008): about a channel, not a post.
    Column("post_id", BigInteger, ForeignKey("post.id", ondelete="CASCADE"), nullable=True),
    Column("flag_ids", JSONType, nullable=False),
    Column("kind", String(16), nullable=False, default="alert"),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("payload", JSONType),
    Column("lease_owner", String(255)),  # "host|pid|start" of the worker sending it (0003)
    Index(None, "status", "next_attempt_at"),
    Index(None, "post_id"),  # a flagged post's earlier alerts (0002)
)

# Channel health (0008): one row per watched channel (its canonical handle) that ever had a
# problem: what is wrong now (NULL: healthy), since when, and how many problems it has had
# (``episode``, part of the health alerts' idempotency keys). ``failing_since``: the first
# failed poll of the current streak, so "failed every poll for an hour" survives a restart.
channel_health = Table(
    "channel_health",
    metadata,
    Column("handle", String(128), primary_key=True),
    Column("channel_id", BigInteger),
    Column("problem", String(32)),
    Column("detail", Text),
    Column("since", UTCDateTime),
    Column("episode", Integer, nullable=False, default=0, server_default="0"),
    Column("failing_since", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Collector workers sharing one PostgreSQL database (storage/leases.py): each worker's heartbeat,
# and the leases that give one worker at a time an account or a channel (kind, name).
worker = Table(
    "worker",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("account", String(64)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("parked_until", UTCDateTime),  # its account is flood-waited: it takes no channels
    Column("stopped_at", UTCDateTime),
)

worker_lease = Table(
    "worker_lease",
    metadata,
    Column("kind", String(16), nullable=False),  # "account" or "channel"
    Column("name", String(255), nullable=False),
    Column("owner", String(255)),
    Column("acquired_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    PrimaryKeyConstraint("kind", "name"),
    Index("ix_worker_lease_owner", "owner"),
)

# Live updates (0013, 0014): which account joined each channel. At most one current row
# (state claimed or joined) per channel, so across workers a channel is joined by one account;
# an account's current rows count against its join limit. A claim is provisional (``claimed``,
# by a worker) until Telegram answered the join; rows of channels the account left stay as
# history (``left``). ``origin``: ``joined`` (we joined it) or ``found`` (in its dialogs already).
JOIN_STATES = ("claimed", "joined", "left")
account_join = Table(
    "account_join",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("channel_id", BigInteger, nullable=False),
    Column("handle", String(128), nullable=False),
    Column("account", String(64), nullable=False),
    Column("state", String(8), nullable=False),
    Column("origin", String(8), nullable=False),
    Column("claimed_by", String(255)),  # the worker whose claim it is (``claimed``)
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("joined_at", UTCDateTime),  # when the join was confirmed (or found)
    Column("left_at", UTCDateTime),
    Column("left_reason", String(32)),
    # The channel while the row is current, NULL once left: unique, so one current row per
    # channel (NULLs differ on both backends; no dialect's partial index needed).
    Column("current_channel_id", BigInteger),
    Index("ix_account_join_account", "account"),
    UniqueConstraint("current_channel_id"),
)

# Accounts of the review desk (``monitor users``, 0006). ``name`` is stored as given, compared
# lowercased; ``password_hash`` is an argon2id hash string. Disabled accounts stay (the audit trail
# names them).
desk_user = Table(
    "desk_user",
    metadata,
    Column("id", BigIntPK, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

# The tamper-evident capture log (0005): a hash chain over every stored post version and media
# file, append-only (see storage/capture_log.py). No foreign keys: an entry outlives what it logs.
capture_log = Table(
    "capture_log",
    metadata,
    Column("seq", BigIntPK, primary_key=True),
    Column("kind", String(8), nullable=False),  # "version" or "media"
    Column("version_id", BigInteger, unique=True),  # post_version.id
    Column("media_sha256", String(64), unique=True),  # media.sha256
    Column("channel_id", BigInteger),  # of a version: names the post even if its row is gone
    Column("message_id", BigInteger),
    Column("content_sha256", String(64), nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    # One successor per entry: an entry's seq is its predecessor's plus one (the primary key).
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)
