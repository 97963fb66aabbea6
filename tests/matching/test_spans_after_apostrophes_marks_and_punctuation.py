"""A match's span is the mention in the original text, also where the text holds what
normalisation deletes (apostrophes, marks, tatweel) or squeezes (punctuation, runs of spaces):
the span map skips its regex scans only when there is none of that."""

from dataclasses import dataclass, field

import pytest

from monitor.matching import Matcher, fold_with_map
from monitor.matching.normalize import prefold, resolve_zwnj
from monitor.matching.spans import IndexMap


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)


MATCHER = Matcher.compile(
    [Entity("aah", "Asa'ib Ahl al-Haq", ["عصائب أهل الحق"]), Entity("kh", "Kataib Hezbollah")]
)

TEXTS = [
    "Asa'ib Ahl al-Haq said",  # an apostrophe kept inside a word, then deleted
    "'Asa'ib Ahl al-Haq'",
    "«Kataib Hezbollah",  # a leading space (punctuation folds to a space), no run of spaces
    "said Kataib   Hezbollah",  # a run of spaces, none leading
    "بيان عصـــائب أهلِ الحق اليوم",  # tatweel and a mark, held as NUL then deleted
    "Kataib Hezbollah",  # nothing to delete or squeeze
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_span_map_is_the_reference_map(text: str) -> None:
    fast = IndexMap(text, resolve_zwnj(prefold(text), zwnj_as_space=False))
    reference, origin = fold_with_map(text)
    assert fast.text == reference
    assert [fast[i] for i, c in enumerate(reference) if c != " "] == [
        origin[i] for i, c in enumerate(reference) if c != " "
    ]


def test_spans_are_the_mentions() -> None:
    found = [[(m.entity_id, m.matched) for m in MATCHER.match(text)] for text in TEXTS]
    assert found == [
        [("aah", "Asa'ib Ahl al-Haq")],
        [("aah", "Asa'ib Ahl al-Haq")],
        [("kh", "Kataib Hezbollah")],
        [("kh", "Kataib   Hezbollah")],
        [("aah", "عصـــائب أهلِ الحق")],
        [("kh", "Kataib Hezbollah")],
    ]
