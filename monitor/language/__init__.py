"""Language identification behind one small interface, with backends selectable by name."""

from __future__ import annotations

from functools import cache

from monitor.language.base import (
    LanguageDetector,
    arabic_script_prior,
    available_detectors,
    get_detector,
    register_detector,
)
from monitor.language.fast import FastTextDetector
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

register_detector("fast", FastTextDetector)
register_detector("langdetect", LangdetectDetector)


@cache
def _default_detector(name: str) -> LanguageDetector:
    return get_detector(name)


def detect_language(text: str, *, backend: str = "fast") -> str | None:
    """The language of ``text`` (``ar``, ``fa``, ``ckb``, ``en``, ``ru``...) or None if too short."""
    return _default_detector(backend).detect(text)
