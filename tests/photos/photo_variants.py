"""Copies of a scenario photo as reposting channels make them: re-encoded, resized, cropped."""

from __future__ import annotations

import io

from PIL import Image

from monitor.simulator.photos import generate_jpeg

ORIGINAL_SEED = 41
UNRELATED_SEEDS = (3, 8, 15, 23)


def original() -> bytes:
    return generate_jpeg(ORIGINAL_SEED, label="Meeting of the council")


def unrelated(seed: int = UNRELATED_SEEDS[0]) -> bytes:
    return generate_jpeg(seed, label="Another gathering")


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def reencoded(data: bytes, quality: int = 55) -> bytes:
    return _encode(_open(data), quality)


def resized(data: bytes, width: int = 640) -> bytes:
    image = _open(data)
    height = round(image.height * width / image.width)
    return _encode(image.resize((width, height), Image.Resampling.BILINEAR), 80)


def cropped(data: bytes, percent: float, *, where: str = "centre") -> bytes:
    """``percent`` of the width and of the height cut away: half from each side ("centre"),
    or all from the right and bottom ("corner"), then scaled to 960 px wide."""
    image = _open(data)
    cut_w, cut_h = round(image.width * percent / 100), round(image.height * percent / 100)
    if where == "centre":
        box = (
            cut_w // 2,
            cut_h // 2,
            image.width - (cut_w - cut_w // 2),
            image.height - (cut_h - cut_h // 2),
        )
    else:
        box = (0, 0, image.width - cut_w, image.height - cut_h)
    part = image.crop(box)
    return _encode(part.resize((960, round(960 * part.height / part.width))), 75)
