"""Which media store a command uses: the data directory's (default) or an S3-compatible bucket.

``MONITOR_MEDIA_URL=s3://bucket/prefix`` (the ``media_url`` setting) puts media in the bucket
(endpoint and credentials from the usual ``AWS_*`` variables), so workers on several machines
share one store. A plain path (or ``file://`` URL) is a directory; a shared mount works across
machines too. Every reader (the collector, alerts, ``monitor verify``, evidence bundles, the
desk's ``/media``) takes its store from here.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import ConfigError
from monitor.settings import Settings
from storage.media import MediaStore

__all__ = ["MEDIA_URL_ENV", "media_store_for"]

MEDIA_URL_ENV = "MONITOR_MEDIA_URL"


def media_store_for(settings: Settings) -> MediaStore:
    url = settings.media_url
    if not url:
        return MediaStore(settings.media_dir)
    if url.startswith("s3://"):
        from storage.errors import StorageError
        from storage.media_s3 import S3MediaStore

        try:
            return S3MediaStore(url)
        except StorageError as exc:
            raise ConfigError(f"{MEDIA_URL_ENV}: {exc}", hint=exc.hint) from None
    return MediaStore(Path(url.removeprefix("file://")))
