"""The ``langdetect`` backend: slower, seeded so that the same text always gets the same answer."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import langdetect
from langdetect.detector_factory import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from monitor.language.base import MIN_LETTERS, arabic_script_prior, clip, count_letters

__all__ = ["LangdetectDetector"]

_PROFILES = Path(langdetect.__file__).parent / "profiles"
MAX_CHARS = 160  # a sentence or two is enough; the model's time grows with length


class LangdetectDetector:
    """Own factory (not langdetect's global one), seeded; Arabic-script text gets the prior,
    which is how Sorani is recognised at all (langdetect has no ``ckb`` profile)."""

    name = "langdetect"

    def __init__(self, seed: int = 0) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(str(_PROFILES))
        self._factory.set_seed(seed)

    def detect(self, text: str) -> str | None:
        if not text:
            return None
        sample = clip(text, MAX_CHARS)
        letters, arabic = count_letters(sample)
        if letters < MIN_LETTERS:
            return None
        detector = self._factory.create()
        detector.append(sample)
        try:
            guess: str | None = detector.detect()
        except LangDetectException:
            guess = None
        if guess is not None and guess.startswith("zh"):
            guess = "zh"
        if arabic * 2 > letters:
            return arabic_script_prior(sample, guess)
        return guess

    def detect_many(self, texts: Iterable[str]) -> list[str | None]:
        return [self.detect(t) for t in texts]
