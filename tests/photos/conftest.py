"""Photo tests: the collector fixtures, and Tesseract for the OCR tests.

OCR tests skip when Tesseract (with Arabic and Persian data) is absent, unless
``MONITOR_TEST_REQUIRE_TESSERACT=1`` (CI sets it): then its absence fails them.
"""

from __future__ import annotations

import os

import pytest

from monitor.photos.ocr import OcrEngine
from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: F401

REQUIRE_TESSERACT_ENV = "MONITOR_TEST_REQUIRE_TESSERACT"


@pytest.fixture
def tesseract() -> OcrEngine:
    """The Tesseract on PATH, with ara, fas and eng data."""
    found = OcrEngine.discover()
    problem = found.reason or (
        f"Tesseract lacks {', '.join(missing)} data"
        if (missing := found.missing(["ara", "fas", "eng"]))
        else None
    )
    if problem is not None:
        if os.environ.get(REQUIRE_TESSERACT_ENV) == "1":
            pytest.fail(f"{REQUIRE_TESSERACT_ENV}=1 but {problem}")
        pytest.skip(problem)
    return found
