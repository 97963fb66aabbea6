"""A 64-bit perceptual hash of a photo (pHash), with Pillow only.

The photo is reduced to 32 x 32 grey pixels; the lowest 8 x 8 frequencies of its 2-D DCT-II are
compared with their median, one bit each. Re-encoding, resizing and a slight crop move few of
those bits (see ``bench/photos.py`` and tests/photos for measured distances), while unrelated
photos differ in about half of them. Hashes are unsigned 64-bit integers; :func:`to_signed`
turns one into the signed value a ``BIGINT`` column holds.

Pillow loads inside the functions that decode images, so importing this module stays cheap.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import TYPE_CHECKING

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "HASH_BITS",
    "NEAR_DISTANCE",
    "PhotoHashError",
    "from_signed",
    "hamming",
    "phash",
    "phash_image",
    "to_signed",
]

HASH_BITS = 64
NEAR_DISTANCE = 6  # "the same photo": at most this many of the 64 bits differ
_SIDE = 32  # the image is reduced to _SIDE x _SIDE grey pixels
_LOW = 8  # the _LOW x _LOW lowest frequencies make the hash


class PhotoHashError(MonitorError):
    """The bytes are not an image Pillow can decode."""


def phash(data: bytes, *, name: str = "photo") -> int:
    """The perceptual hash of an encoded image (JPEG, PNG, WebP...); ``name`` names it in errors."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            # JPEG: decode at a reduced scale (1/2 .. 1/8), still at least 2 x _SIDE a side.
            image.draft("L", (_SIDE * 2, _SIDE * 2))
            return phash_image(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoHashError(
            f"{name} ({len(data)} bytes) is not an image Pillow can read: {exc}"
        ) from exc


def phash_image(image: Image) -> int:
    """The perceptual hash of a decoded Pillow image."""
    from PIL import Image as PILImage

    grey = image.convert("L").resize((_SIDE, _SIDE), PILImage.Resampling.LANCZOS)
    pixels = list(grey.tobytes())
    rows = [pixels[i * _SIDE : (i + 1) * _SIDE] for i in range(_SIDE)]
    basis = _basis()
    # Separable DCT: the low frequencies of each column (basis x rows), then of each row.
    partial = [[sum(b[k] * rows[k][x] for k in range(_SIDE)) for x in range(_SIDE)] for b in basis]
    coeffs = [sum(b[k] * row[k] for k in range(_SIDE)) for row in partial for b in basis]
    median = sorted(coeffs)[len(coeffs) // 2]
    value = 0
    for coeff in coeffs:
        value = (value << 1) | (coeff > median)
    return value


@lru_cache(maxsize=1)
def _basis() -> tuple[tuple[float, ...], ...]:
    """The first _LOW DCT-II basis vectors of length _SIDE (unnormalised: only order matters)."""
    return tuple(
        tuple(math.cos(math.pi * u * (2 * k + 1) / (2 * _SIDE)) for k in range(_SIDE))
        for u in range(_LOW)
    )


def hamming(a: int, b: int) -> int:
    """How many bits differ between two (unsigned or signed) 64-bit hashes."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer a BIGINT column stores."""
    if not 0 <= value < 1 << HASH_BITS:
        raise ValueError(f"hash {value!r} is not an unsigned 64-bit integer")
    return value - (1 << HASH_BITS) if value >= 1 << (HASH_BITS - 1) else value


def from_signed(value: int) -> int:
    """The unsigned 64-bit hash of a signed BIGINT value."""
    return value & 0xFFFF_FFFF_FFFF_FFFF
