"""MONITOR_MEDIA_URL is a setting like the others: checked when settings load (the error names
the variable and what is wrong), shown by `monitor config show`, and it picks the media store."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.media_url import media_store_for
from monitor.settings import Settings
from storage.media import MediaStore


def test_unset_means_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.media_url is None
    store = media_store_for(settings)
    assert type(store) is MediaStore and store.root == tmp_path / "media"


@pytest.mark.parametrize("url", ["/srv/photos", "file:///srv/photos"])
def test_a_path_or_file_url_is_that_directory(tmp_path: Path, url: str) -> None:
    store = media_store_for(Settings(data_dir=tmp_path, media_url=url))
    assert type(store) is MediaStore and store.root == Path("/srv/photos")


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_MEDIA_URL", "s3://desk-media/archive")
    assert Settings().media_url == "s3://desk-media/archive"
    monkeypatch.setenv("MONITOR_MEDIA_URL", "  ")
    assert Settings().media_url is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("gs://bucket/x", "unsupported scheme 'gs'"),
        ("s3:///prefix", "names no bucket"),
    ],
)
def test_a_bad_url_is_refused_naming_the_variable(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"MONITOR_MEDIA_URL: .*{problem}"):
        Settings(media_url=url)


def test_an_s3_url_makes_an_s3_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = media_store_for(Settings(data_dir=tmp_path, media_url="s3://desk-media/a/b"))
    assert (store.location, store.describe("ab/cd/x.jpg")) == (
        "s3://desk-media/a/b",
        "s3://desk-media/a/b/ab/cd/x.jpg",
    )
