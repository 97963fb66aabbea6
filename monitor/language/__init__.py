"""Language identification behind one small interface, with backends selectable by name."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from monitor.language.base import (
    LanguageDetector,
    arabic_script_prior,
    available_detectors,
    get_detector,
    register_detector,
)
from monitor.language.fast import FastTextDetector

if TYPE_CHECKING:
    from monitor.language.langdetect_backend import LangdetectDetector

__all__ = [
    "FastTextDetector",
    "LangdetectDetector",
    "LanguageDetector",
    "arabic_script_prior",
    "available_detectors",
    "detect_language",
    "get_detector",
    "register_detector",
]


def _langdetect() -> LanguageDetector:
    # Imported when chosen: langdetect takes ~0.2 s to import, a cost every command paid.
    from monitor.language.langdetect_backend import LangdetectDetector

    return LangdetectDetector()


def __getattr__(name: str) -> Any:
    if name == "LangdetectDetector":
        from monitor.language.langdetect_backend import LangdetectDetector

        return LangdetectDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_detector("fast", FastTextDetector)
register_detector("langdetect", _langdetect)


@cache
def _default_detector(name: str) -> LanguageDetector:
    return get_detector(name)


def detect_language(text: str, *, backend: str = "fast") -> str | None:
    """The language of ``text`` (``ar``, ``fa``, ``ckb``, ``en``, ``ru``...) or None if too short."""
    return _default_detector(backend).detect(text)
