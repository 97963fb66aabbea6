"""Deterministic synthetic photos for scenarios: seeded shapes, a caption bar and a watermark.

The same ``seed``, label and size give the same JPEG bytes on every run (with the same Pillow and
libjpeg). Every image carries a large "SYNTHETIC" watermark so it can never pass for a real
photograph. Film grain keeps the files at a realistic 100-400 KB at 1280x960, so downloading one
takes several ``upload.GetFile`` chunks, as on Telegram.

Labels are drawn with Pillow's bundled Latin font: write them in Latin script.
"""

from __future__ import annotations

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

__all__ = ["generate_jpeg"]

# Strength of the film grain (0-255). It is what makes the JPEG as large as a real photo.
_GRAIN = 20


def generate_jpeg(
    seed: int, *, label: str, width: int = 1280, height: int = 960, quality: int = 85
) -> bytes:
    """A deterministic JPEG of ``width`` x ``height`` with ``label`` and a SYNTHETIC watermark."""
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise ValueError(f"photo size {width}x{height} is out of range (16-4096 pixels a side)")
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality {quality} is out of range (1-95)")
    rng = random.Random(f"monitor.simulator.photos:{seed}")
    image = _shapes(rng, width, height)
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), _GRAIN / 255)
    image = _caption(image, label)
    image = _watermark(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _colour(rng: random.Random, alpha: int | None = None) -> tuple[int, ...]:
    rgb = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    return rgb if alpha is None else (*rgb, alpha)


def _shapes(rng: random.Random, width: int, height: int) -> Image.Image:
    """A gradient with translucent rectangles, ellipses and polygons, drawn at half size and
    scaled up so the edges are soft like an out-of-focus background."""
    w, h = max(8, width // 2), max(8, height // 2)
    top, bottom = _colour(rng), _colour(rng)
    gradient = Image.linear_gradient("L").resize((w, h))
    canvas = Image.composite(
        Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), gradient
    )
    draw = ImageDraw.Draw(canvas, "RGBA")
    for _ in range(rng.randint(18, 30)):
        fill = _colour(rng, rng.randrange(60, 200))
        x0, y0 = rng.randrange(-w // 4, w), rng.randrange(-h // 4, h)
        box = (x0, y0, x0 + rng.randrange(w // 12, w // 2), y0 + rng.randrange(h // 12, h // 2))
        kind = rng.randrange(3)
        if kind == 0:
            draw.rectangle(box, fill=fill)
        elif kind == 1:
            draw.ellipse(box, fill=fill)
        else:
            points = [(rng.randrange(w), rng.randrange(h)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=fill)
    return canvas.resize((width, height), Image.Resampling.BICUBIC)


def _caption(image: Image.Image, label: str) -> Image.Image:
    width, height = image.size
    bar = max(12, height // 8)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, height - bar, width, height), fill=(0, 0, 0, 150))
    font = ImageFont.load_default(size=max(10, height // 24))
    draw.text((width // 40, height - bar // 2), label, font=font, fill="white", anchor="lm")
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def _watermark(image: Image.Image) -> Image.Image:
    """A big diagonal SYNTHETIC across the middle of the image."""
    width, height = image.size
    tile = _watermark_tile(width, height)
    base = image.convert("RGBA")
    base.alpha_composite(
        tile, (max(0, (width - tile.width) // 2), max(0, (height - tile.height) // 2))
    )
    return base.convert("RGB")


@lru_cache(maxsize=16)
def _watermark_tile(width: int, height: int) -> Image.Image:
    """The rotated watermark for an image size (pure, so cached; callers only read it)."""
    font = ImageFont.load_default(size=max(6, min(height // 7, width // 8)))
    left, top, right, bottom = (int(v) for v in font.getbbox("SYNTHETIC", stroke_width=3))
    tile = Image.new("RGBA", (right - left + 8, bottom - top + 8), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text(
        (4 - left, 4 - top),
        "SYNTHETIC",
        font=font,
        fill=(255, 255, 255, 120),
        stroke_width=3,
        stroke_fill=(0, 0, 0, 120),
    )
    return tile.rotate(25, resample=Image.Resampling.BICUBIC, expand=True)
