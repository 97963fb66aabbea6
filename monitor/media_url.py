"""Which media store a command uses: the data directory's (default) or an S3-compatible bucket.

``MONITOR_MEDIA_URL=s3://bucket/prefix`` puts media in the bucket (endpoint and credentials
from the usual ``AWS_*`` variables), so workers on several machines share one store. A plain
path (or ``file://`` URL) is a directory; a shared mount works across machines too.
"""

from __future__ import annotations

import os
from pathlib import Path

from monitor.errors import ConfigError
from monitor.settings import Settings
from storage.media import MediaStore

__all__ = ["MEDIA_URL_ENV", "media_store_for"]

MEDIA_URL_ENV = "MONITOR_MEDIA_URL"


def media_store_for(settings: Settings) -> MediaStore:
    url = os.environ.get(MEDIA_URL_ENV, "").strip()
    if not url:
        return MediaStore(settings.media_dir)
    if url.startswith("s3://"):
        from storage.errors import StorageError
        from storage.media_s3 import S3MediaStore

        try:
            return S3MediaStore(url)
        except StorageError as exc:
            raise ConfigError(f"{MEDIA_URL_ENV}: {exc}", hint=exc.hint) from None
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    if "://" in url:
        raise ConfigError(
            f"{MEDIA_URL_ENV}={url!r}: unsupported scheme",
            hint="use s3://bucket/prefix or a directory path",
        )
    return MediaStore(Path(url))
