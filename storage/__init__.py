"""Storage: SQLAlchemy 2 models, migrations, repository functions and media files.

Repository functions are async and take the connection keyword-only (``conn=``); the caller owns
the transaction (``async with engine.begin() as conn``).
"""

from storage.audit import audit, list_audit
from storage.channels import get_channel, get_peer, list_channels, save_peer, upsert_channel
from storage.engine import (
    check_schema,
    create_engine,
    current_revision,
    dialect_insert,
    head_revision,
    stamp,
    upgrade,
)
from storage.entities import EntitySync, list_entities, sync_entities
from storage.errors import SchemaOutOfDateError, StorageError
from storage.flags import (
    CreatedFlag,
    Flag,
    NewFlag,
    create_flags,
    get_flag,
    list_flags,
    mark_mention_removed,
    set_flag_status,
)
from storage.media import MediaStore, StoredFile, link_post_media, record_media
from storage.models import metadata
from storage.post_queries import (
    album_posts,
    get_post,
    get_post_by_key,
    list_metrics,
    list_post_media,
    list_versions,
)
from storage.posts import (
    PostKey,
    UpsertResult,
    content_hashes,
    mark_deleted,
    posts_to_recheck,
    touch_checked,
    upsert_posts,
)
from storage.records import ChannelRecord, ForwardedFrom, MediaRecord, PostRecord
from storage.state import (
    CollectorState,
    advance_cursor,
    get_state,
    list_states,
    park,
    record_error,
    record_success,
    schedule,
)

__all__ = [
    "ChannelRecord",
    "CollectorState",
    "CreatedFlag",
    "EntitySync",
    "Flag",
    "ForwardedFrom",
    "MediaRecord",
    "MediaStore",
    "NewFlag",
    "PostKey",
    "PostRecord",
    "SchemaOutOfDateError",
    "StorageError",
    "StoredFile",
    "UpsertResult",
    "advance_cursor",
    "album_posts",
    "audit",
    "check_schema",
    "content_hashes",
    "create_engine",
    "create_flags",
    "current_revision",
    "dialect_insert",
    "get_channel",
    "get_flag",
    "get_peer",
    "get_post",
    "get_post_by_key",
    "get_state",
    "head_revision",
    "list_audit",
    "list_channels",
    "list_entities",
    "list_flags",
    "list_metrics",
    "list_post_media",
    "list_states",
    "list_versions",
    "link_post_media",
    "mark_deleted",
    "mark_mention_removed",
    "metadata",
    "park",
    "posts_to_recheck",
    "record_error",
    "record_media",
    "record_success",
    "save_peer",
    "schedule",
    "set_flag_status",
    "stamp",
    "sync_entities",
    "touch_checked",
    "upgrade",
    "upsert_channel",
    "upsert_posts",
]
