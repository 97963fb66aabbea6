"""Hypothesis properties: normalisation is idempotent and its map is exact; noise never hides a
mention; spans always point at the matched text."""

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.matching import Matcher, fold_with_map, normalize
from monitor.matching.normalize import prefold, resolve_zwnj
from monitor.matching.spans import IndexMap


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)


WATCHLIST = [
    Entity("khazali", "Qais al-Khazali", ["قيس الخزعلي", "Khazālī"]),
    Entity("aah", "Asa'ib Ahl al-Haq", ["عصائب أهل الحق", "AAH"]),
    Entity("ambassador", "Cui Wei", ["السفير الصيني"]),
    Entity("irgc", "سپاه پاسداران", ["IRGC"]),
    Entity("khamenei", "علی خامنه‌ای"),
]
MATCHER = Matcher.compile(WATCHLIST)
MENTIONS = [
    ("khazali", "Qais al-Khazali"),
    ("khazali", "Qais Khazali's"),
    ("khazali", "وقيس الخزعلي"),
    ("khazali", "#QaisAlKhazali"),
    ("aah", "فعصائب أهل الحق"),
    ("aah", "AAH"),
    ("ambassador", "للسفير الصيني"),
    ("ambassador", "Cui Wei"),
    ("irgc", "سپاه پاسداران"),
    ("khamenei", "علي خامنه اي"),
    # inferred spellings (issue 16)
    ("khazali", "Qays al-Khazaly"),
    ("khazali", "قیس خزعلی"),
    ("aah", "Asaib Ahl al-Hak"),
]
FILLER = ["said", "today", "قال", "اليوم", "گفت", "امروز", "في", "و", "2024", "—", "!"]
NOISE = [
    "\u200c", "\u200d", "\u200b", "\u200e", "\u200f", "\u061c", "\ufeff", "\u00ad",
    "\u202a", "\u202c", "\u2066", "\u2069",  # zero-width and bidi controls
    "\u0640",  # tatweel
    "\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b",  # tashkeel
    "\u0301", "\u0300", "\u0304", "\u0308",  # Latin combining accents
]  # fmt: skip

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60
) | st.lists(st.sampled_from(FILLER + [m for _, m in MENTIONS] + NOISE + ["'s", "_", "#"])).map(
    "".join
)


@settings(deadline=None)
@given(texts)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert normalize(text, zwnj_as_space=True) == normalize(
        normalize(text, zwnj_as_space=True), zwnj_as_space=True
    )


@settings(deadline=None)
@given(texts, st.booleans())
def test_map_agrees_with_normalize(text: str, zwnj_as_space: bool) -> None:
    folded, origin = fold_with_map(text, zwnj_as_space=zwnj_as_space)
    assert folded == normalize(text, zwnj_as_space=zwnj_as_space)
    assert len(origin) == len(folded)
    assert all(0 <= i < len(text) for i in origin)
    assert origin == sorted(origin)


@st.composite
def noisy_posts(draw: st.DrawFn) -> tuple[str, str]:
    entity, mention = draw(st.sampled_from(MENTIONS))
    before = draw(st.lists(st.sampled_from(FILLER), max_size=3))
    after = draw(st.lists(st.sampled_from(FILLER), max_size=3))
    chars = list(" ".join([*before, mention, *after]))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(chars)))
        chars.insert(pos, draw(st.sampled_from(NOISE)))
    return entity, "".join(chars)


@settings(max_examples=300, deadline=None)
@given(noisy_posts())
def test_noise_never_loses_a_match(post: tuple[str, str]) -> None:
    entity, text = post
    assert entity in {m.entity_id for m in MATCHER.match(text)}


@settings(deadline=None)
@given(texts)
def test_spans_point_at_the_matched_text(text: str) -> None:
    matches = MATCHER.match(text)
    for m in matches:
        assert text[m.start : m.end] == m.matched
        assert m.start < m.end
    assert [m.start for m in matches] == sorted(m.start for m in matches)


@settings(deadline=None)
@given(texts, st.booleans())
def test_index_map_agrees_with_the_reference_map(text: str, zwnj_as_space: bool) -> None:
    folded = resolve_zwnj(prefold(text), zwnj_as_space=zwnj_as_space)
    fast = IndexMap(text, folded)
    reference, origin = fold_with_map(text, zwnj_as_space=zwnj_as_space)
    assert fast.text == reference
    for i, c in enumerate(reference):
        if c != " ":
            assert fast[i] == origin[i]
