"""The seed scenario's photos for OCR and tracing: posters Tesseract reads back, and reposts of
one meeting photo that are altered copies (other bytes, other size) posted later elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from monitor.matching import normalize
from monitor.simulator.scenario import ScenarioError, load_scenario

MEDIA_OFFICE, NEWS_EN, NEWS_FA = 1351196199, 1161405147, 1822946296


@pytest.fixture(scope="module")
def seed():
    scenario = load_scenario("seed")
    scenario.apply_history()
    return scenario


def size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_the_posters_name_him_in_their_text_and_not_in_their_captions(seed, tesseract):
    for (channel, message), langs, name in [
        (seed.refs["poster_condolence"], ["ara"], "قيس الخزعلي"),
        (seed.refs["poster_fa"], ["fas"], "قیس خزعلی"),
    ]:
        assert (channel, message) in {(MEDIA_OFFICE, 115), (NEWS_FA, 94)}
        caption = seed.backend.message(channel, message).text
        assert "خزعل" not in caption
        text = tesseract.read_text(seed.backend.photo_bytes(channel, message), langs)
        assert normalize(name) in normalize(text)


def test_reposts_of_the_meeting_photo_are_altered_copies_posted_later(seed):
    original = seed.backend.photo_bytes(MEDIA_OFFICE, 125)  # meeting_2024, first photo
    posted = seed.backend.message(MEDIA_OFFICE, 125).date
    reposts = {key: seed.backend.photo_bytes(*key) for key in [(NEWS_EN, 137), (NEWS_FA, 90)]}
    assert size(original) == (1280, 960)
    # 1.5 % cropped off each side then 80 %; 2 % off each side then 60 %.
    assert size(reposts[(NEWS_EN, 137)]) == (994, 746)
    assert size(reposts[(NEWS_FA, 90)]) == (737, 553)
    assert len({original, *reposts.values()}) == 3  # re-encoded: no two the same bytes
    for key in reposts:
        assert seed.backend.message(*key).date > posted
    assert seed.backend.photo_bytes(NEWS_EN, 134) == original  # the forward is the same file


def test_a_derive_from_an_unknown_photo_names_the_event_and_its_line(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "synthetic: true\nseed: 1\nchannels:\n  - {key: a, username: a_sim, title: A}\n"
        "timeline:\n"
        "  - post: a\n    at: 2024-01-01T00:00:00Z\n"
        "    photo: {derive: {from: 99, resize: 0.5}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"line 6.*'derive: from: 99' names no photo"):
        load_scenario(path)
