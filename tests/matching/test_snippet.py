"""snippet(): a window around the first match that never cuts a word."""

from dataclasses import dataclass

from monitor.matching import Matcher, snippet


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: tuple[str, ...] = ()


MATCHER = Matcher.compile([Entity("khazali", "Qais al-Khazali", ("قيس الخزعلي",))])
ARABIC = (
    "أعلنت وزارة الخارجية العراقية في بيان رسمي صدر صباح اليوم أن الوفد الحكومي سيزور "
    "المحافظات الجنوبية وقال قيس الخزعلي في كلمة متلفزة إن الفصائل لن تسلم سلاحها "
    "للحكومة قبل انسحاب القوات الأجنبية من جميع الأراضي العراقية في موعد أقصاه نهاية العام"
)


def test_window_contains_the_match_and_cuts_only_between_words() -> None:
    matches = MATCHER.match(ARABIC)
    result = snippet(ARABIC, matches, width=60)
    assert "قيس الخزعلي" in result
    assert result.startswith("…") and result.endswith("…")
    words = set(ARABIC.split())
    assert all(w in words for w in result.strip("…").split())
    assert len(result) < 100


def test_short_text_is_returned_whole() -> None:
    text = "Qais al-Khazali\nspoke"
    assert snippet(text, MATCHER.match(text)) == "Qais al-Khazali spoke"


def test_no_match_gives_the_start_of_the_text() -> None:
    result = snippet(ARABIC, [], width=40)
    assert result.startswith("أعلنت") and result.endswith("…")


def test_a_cut_never_leaks_bidi_embedding() -> None:
    text = "intro " * 30 + "\u202bقيس الخزعلي " + "word " * 40 + "\u202c end"
    result = snippet(text, MATCHER.match(text), width=40)
    assert result.count("\u202b") == result.count("\u202c") == 1
    assert result.index("\u202b") < result.index("\u202c")


def test_empty_text() -> None:
    assert snippet("", []) == ""
