"""Storage: SQLAlchemy 2 models, migrations, repository functions and media files.

Repository functions are async and take the connection keyword-only (``conn=``); the caller owns
the transaction (``async with engine.begin() as conn``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

if TYPE_CHECKING:  # the same names as _EXPORTS below, for type checkers and editors
    from storage.audit_log import audit, list_audit
    from storage.capture_log import log_media, log_versions
    from storage.capture_verify import Mismatch, VerifyReport, verify_archive
    from storage.channels import get_channel, get_peer, list_channels, save_peer, upsert_channel
    from storage.citation_queries import (
        NotArchivedError,
        load_citation_source,
        load_citation_source_for_post,
    )
    from storage.digests import version_digest
    from storage.engine import (
        check_schema,
        create_engine,
        current_revision,
        dialect_insert,
        head_revision,
        prepare_schema,
        stamp,
        upgrade,
    )
    from storage.entities import EntitySync, list_entities, sync_entities
    from storage.errors import SchemaOutOfDateError, StorageError
    from storage.evidence_queries import Evidence, find_post, flagged_posts, load_evidence
    from storage.flags import (
        CreatedFlag,
        Flag,
        NewFlag,
        create_flags,
        get_flag,
        list_flags,
        mark_mention_removed,
        set_flag_status,
        set_flags_status,
    )
    from storage.health import (
        ChannelHealth,
        close_problem,
        load_health,
        newest_post_at,
        open_problem,
        set_failing_since,
    )
    from storage.leases import Lease, WorkerRow, list_leases, list_workers
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
    from storage.provenance import Provenance, version_origins
    from storage.reading import run_reading
    from storage.records import ChannelRecord, ForwardedFrom, MediaRecord, PostRecord
    from storage.search import (
        PostFilters,
        Term,
        TextQuery,
        count_posts,
        export_pages,
        search_posts,
    )
    from storage.search_index import count_pending, index_pending
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
    from storage.users import (
        DeskUser,
        add_user,
        get_user,
        list_users,
        set_user_disabled,
        set_user_password,
    )

# Each public name and the submodule it lives in. Submodules load on first use (PEP 562), so
# ``from storage import X`` costs only X's module: the CLI starts without what it does not need.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "storage.audit_log": (
        "audit",
        "list_audit",
    ),
    "storage.capture_log": (
        "log_media",
        "log_versions",
    ),
    "storage.capture_verify": (
        "Mismatch",
        "VerifyReport",
        "verify_archive",
    ),
    "storage.channels": (
        "get_channel",
        "get_peer",
        "list_channels",
        "save_peer",
        "upsert_channel",
    ),
    "storage.citation_queries": (
        "NotArchivedError",
        "load_citation_source",
        "load_citation_source_for_post",
    ),
    "storage.digests": ("version_digest",),
    "storage.engine": (
        "check_schema",
        "create_engine",
        "current_revision",
        "dialect_insert",
        "head_revision",
        "prepare_schema",
        "stamp",
        "upgrade",
    ),
    "storage.entities": (
        "EntitySync",
        "list_entities",
        "sync_entities",
    ),
    "storage.errors": (
        "SchemaOutOfDateError",
        "StorageError",
    ),
    "storage.evidence_queries": (
        "Evidence",
        "find_post",
        "flagged_posts",
        "load_evidence",
    ),
    "storage.flags": (
        "CreatedFlag",
        "Flag",
        "NewFlag",
        "create_flags",
        "get_flag",
        "list_flags",
        "mark_mention_removed",
        "set_flag_status",
        "set_flags_status",
    ),
    "storage.health": (
        "ChannelHealth",
        "close_problem",
        "load_health",
        "newest_post_at",
        "open_problem",
        "set_failing_since",
    ),
    "storage.leases": (
        "Lease",
        "WorkerRow",
        "list_leases",
        "list_workers",
    ),
    "storage.media": (
        "MediaStore",
        "StoredFile",
        "link_post_media",
        "record_media",
    ),
    "storage.models": ("metadata",),
    "storage.post_queries": (
        "album_posts",
        "get_post",
        "get_post_by_key",
        "list_metrics",
        "list_post_media",
        "list_versions",
    ),
    "storage.posts": (
        "PostKey",
        "UpsertResult",
        "content_hashes",
        "mark_deleted",
        "posts_to_recheck",
        "touch_checked",
        "upsert_posts",
    ),
    "storage.provenance": ("Provenance", "version_origins"),
    "storage.reading": ("run_reading",),
    "storage.records": (
        "ChannelRecord",
        "ForwardedFrom",
        "MediaRecord",
        "PostRecord",
    ),
    "storage.search": (
        "PostFilters",
        "Term",
        "TextQuery",
        "count_posts",
        "export_pages",
        "search_posts",
    ),
    "storage.search_index": (
        "count_pending",
        "index_pending",
    ),
    "storage.state": (
        "CollectorState",
        "advance_cursor",
        "get_state",
        "list_states",
        "park",
        "record_error",
        "record_success",
        "schedule",
    ),
    "storage.users": (
        "DeskUser",
        "add_user",
        "get_user",
        "list_users",
        "set_user_disabled",
        "set_user_password",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "ChannelHealth",
    "DeskUser",
    "add_user",
    "get_user",
    "list_users",
    "set_user_disabled",
    "set_user_password",
    "Evidence",
    "Mismatch",
    "VerifyReport",
    "find_post",
    "flagged_posts",
    "load_evidence",
    "log_media",
    "log_versions",
    "verify_archive",
    "ChannelRecord",
    "CollectorState",
    "CreatedFlag",
    "EntitySync",
    "Flag",
    "ForwardedFrom",
    "Lease",
    "MediaRecord",
    "MediaStore",
    "NewFlag",
    "NotArchivedError",
    "PostKey",
    "PostRecord",
    "Provenance",
    "SchemaOutOfDateError",
    "StorageError",
    "StoredFile",
    "UpsertResult",
    "WorkerRow",
    "advance_cursor",
    "album_posts",
    "audit",
    "check_schema",
    "close_problem",
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
    "list_leases",
    "list_metrics",
    "list_post_media",
    "list_states",
    "list_versions",
    "list_workers",
    "link_post_media",
    "load_citation_source",
    "load_citation_source_for_post",
    "load_health",
    "mark_deleted",
    "mark_mention_removed",
    "metadata",
    "newest_post_at",
    "open_problem",
    "park",
    "posts_to_recheck",
    "prepare_schema",
    "record_error",
    "record_media",
    "record_success",
    "run_reading",
    "save_peer",
    "schedule",
    "set_failing_since",
    "set_flag_status",
    "set_flags_status",
    "stamp",
    "sync_entities",
    "touch_checked",
    "upgrade",
    "upsert_channel",
    "upsert_posts",
    "version_digest",
    "version_origins",
    # search (issue 11)
    "PostFilters",
    "Term",
    "TextQuery",
    "count_posts",
    "count_pending",
    "export_pages",
    "index_pending",
    "search_posts",
]


__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
