"""Deterministic synthetic photos for scenarios: seeded shapes, a caption bar and a watermark.

The same ``seed``, label and size give the same JPEG bytes on every run (with the same Pillow and
libjpeg). Every image carries a large "SYNTHETIC" watermark so it can never pass for a real
photograph. Film grain keeps the files at a realistic 100-400 KB at 1280x960, so downloading one
takes several ``upload.GetFile`` chunks, as on Telegram.

Labels are drawn with Pillow's bundled Latin font: write them in Latin script. A ``text`` (e.g. a
poster's Arabic or Persian lines) is drawn on a light panel with an Arabic-script font the machine
has (Noto Naskh Arabic, else DejaVu Sans), shaped and ordered right to left by Pillow's libraqm
layout, so an OCR engine can read it back. :func:`derive_jpeg` makes a repost of a photo:
re-encoded, resized and slightly cropped, as channels copy each other's pictures.
"""

from __future__ import annotations

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

__all__ = ["ARABIC_FONTS", "derive_jpeg", "generate_jpeg"]

# Strength of the film grain (0-255). It is what makes the JPEG as large as a real photo.
_GRAIN = 20
_TEXT_MAX = 64
# Fonts with Arabic and Persian letters, first found wins (fonts-noto-core, fonts-dejavu-core).
ARABIC_FONTS = (
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


def generate_jpeg(
    seed: int,
    *,
    label: str,
    width: int = 1280,
    height: int = 960,
    quality: int = 85,
    text: str = "",
) -> bytes:
    """A deterministic JPEG of ``width`` x ``height`` with ``label`` and a SYNTHETIC watermark,
    or, given ``text`` (lines, any script), a poster of that text with the label and watermark."""
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise ValueError(f"photo size {width}x{height} is out of range (16-4096 pixels a side)")
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality {quality} is out of range (1-95)")
    rng = random.Random(f"monitor.simulator.photos:{seed}")
    if text:  # a poster: its text above, the watermark in the band below it
        image = _caption(_poster(rng, width, height, text), label)
        image = _watermark(image, top=height * 5 // 8)
    else:
        image = _shapes(rng, width, height)
        grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
        image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), _GRAIN / 255)
        image = _caption(image, label)
        image = _watermark(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def derive_jpeg(data: bytes, *, resize: float = 1.0, crop: float = 0.0, quality: int = 85) -> bytes:
    """A repost of the JPEG ``data``: ``crop`` (share of each side cut off, 0-0.4), then scaled
    by ``resize`` (0.1-2), re-encoded at ``quality``. Deterministic for the same input."""
    if not 0.1 <= resize <= 2.0:
        raise ValueError(f"resize {resize} is out of range (0.1-2)")
    if not 0.0 <= crop <= 0.4:
        raise ValueError(f"crop {crop} is out of range (0-0.4 of each side)")
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality {quality} is out of range (1-95)")
    with Image.open(io.BytesIO(data)) as source:
        image = source.convert("RGB")
    width, height = image.size
    dx, dy = round(width * crop), round(height * crop)
    image = image.crop((dx, dy, width - dx, height - dy))
    size = (max(16, round(image.width * resize)), max(16, round(image.height * resize)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _arabic_font(size: int) -> ImageFont.FreeTypeFont:
    from PIL import features

    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    for path in ARABIC_FONTS:
        try:
            return ImageFont.truetype(path, size, layout_engine=layout)
        except OSError:
            continue
    # No Arabic font here: the poster still exists (its letters drawn as boxes), so a scenario
    # plays everywhere; only OCR finds nothing on it. Install fonts-noto-core or -dejavu-core.
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def _poster(rng: random.Random, width: int, height: int, text: str) -> Image.Image:
    """A poster: ``text``'s lines, dark on a light paper with a coloured frame, centred in the
    upper part (the watermark goes below it). Without libraqm, Pillow cannot join or reorder
    Arabic letters: the lines are then drawn unshaped (legible to no one), so keep libraqm
    installed where the scenario is generated."""
    lines = [line for line in text.splitlines() if line.strip()] or [text]
    size = max(12, min(height // (3 * len(lines) + 3), width // 14, _TEXT_MAX))
    font = _arabic_font(size)
    raqm = getattr(font, "layout_engine", None) == ImageFont.Layout.RAQM
    direction = "rtl" if raqm else None
    paper = tuple(rng.randrange(232, 250) for _ in range(3))
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    frame = max(4, min(width, height) // 40)
    draw.rectangle((0, 0, width - 1, height - 1), outline=_colour(rng), width=frame)
    line_h = round(size * 1.7)
    top = (height * 5 // 8 - line_h * len(lines)) // 2
    for n, line in enumerate(lines):
        draw.text(
            (width // 2, top + line_h * n + line_h // 2),
            line,
            font=font,
            fill=(20, 20, 20),
            anchor="mm",
            direction=direction,
        )
    return image


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


def _watermark(image: Image.Image, *, top: int = 0) -> Image.Image:
    """A big diagonal SYNTHETIC across the middle of the image (of the part below ``top``)."""
    width, height = image.size
    tile = _watermark_tile(width, height - top)
    base = image.convert("RGBA")
    base.alpha_composite(
        tile, (max(0, (width - tile.width) // 2), top + max(0, (height - top - tile.height) // 2))
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
