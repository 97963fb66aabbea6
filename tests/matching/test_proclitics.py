"""Every Arabic proclitic and pair glued to an alias is matched: و ف ب ل ك, وب ول وك فب فل فك,
with ل + ال written لل. Each form is written out here, not derived the way the matcher does."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from monitor.matching import Matcher


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(
        [
            Entity("khazali", "Qais al-Khazali", ["قيس الخزعلي"]),
            Entity("ambassador", "Cui Wei", ["السفير الصيني"]),
        ]
    )


# (proclitic, the alias without an article glued, the alias with ال glued)
FORMS = [
    ("و", "وقيس الخزعلي", "والسفير الصيني"),
    ("ف", "فقيس الخزعلي", "فالسفير الصيني"),
    ("ب", "بقيس الخزعلي", "بالسفير الصيني"),
    ("ل", "لقيس الخزعلي", "للسفير الصيني"),
    ("ك", "كقيس الخزعلي", "كالسفير الصيني"),
    ("وب", "وبقيس الخزعلي", "وبالسفير الصيني"),
    ("ول", "ولقيس الخزعلي", "وللسفير الصيني"),
    ("وك", "وكقيس الخزعلي", "وكالسفير الصيني"),
    ("فب", "فبقيس الخزعلي", "فبالسفير الصيني"),
    ("فل", "فلقيس الخزعلي", "فللسفير الصيني"),
    ("فك", "فكقيس الخزعلي", "فكالسفير الصيني"),
]


@pytest.mark.parametrize(("proclitic", "plain", "with_article"), FORMS, ids=[f[0] for f in FORMS])
def test_each_proclitic_glued_to_an_alias_is_matched(
    matcher: Matcher, proclitic: str, plain: str, with_article: str
) -> None:
    for written, entity in ((plain, "khazali"), (with_article, "ambassador")):
        text = f"قال {written} اليوم"
        found = [(m.entity_id, m.rule, m.matched) for m in matcher.match(text)]
        assert found == [(entity, "clitic", written)], (proclitic, written)


def test_a_glued_letter_that_is_no_proclitic_is_not_matched(matcher: Matcher) -> None:
    assert matcher.match("قال مقيس الخزعلي و تالسفير الصيني") == []


def test_lam_before_the_article_is_written_once() -> None:
    """ل + الخزعلي is للخزعلي: the alef goes, never the ل; a word that merely ends like the
    alias, or the alias without its alef and without a proclitic, is not a mention."""
    matcher = Matcher.compile([Entity("khazali", "الخزعلي")])
    found = {t: [m.rule for m in matcher.match(t)] for t in
             ("للخزعلي", "وللخزعلي", "والخزعلي", "لالخزعلي", "لخزعلي", "مالخزعلي", "الخزعلي")}  # fmt: skip
    assert found == {
        "للخزعلي": ["clitic"],
        "وللخزعلي": ["clitic"],
        "والخزعلي": ["clitic"],
        "لالخزعلي": [],
        "لخزعلي": [],
        "مالخزعلي": [],
        "الخزعلي": ["exact"],
    }
