"""Telegram-like photo sizes (s/m/x/y/w) derived deterministically from one JPEG."""

from __future__ import annotations

import io

from monitor.simulator.entities import SimulatorError

__all__ = ["PHOTO_SIZE_BOXES", "derive_photo_sizes"]

# Telegram's photo size types and the longest side each is scaled to.
PHOTO_SIZE_BOXES: dict[str, int] = {"s": 100, "m": 320, "x": 800, "y": 1280, "w": 2560}


def derive_photo_sizes(data: bytes) -> tuple[dict[str, bytes], dict[str, tuple[int, int]]]:
    """Telegram-like sizes from one JPEG: the original bytes under the type matching its size,
    plus smaller JPEG thumbnails (deterministic) for the smaller types."""
    from PIL import Image

    try:
        opened = Image.open(io.BytesIO(data))
        width, height = opened.size
        longest = max(width, height)
        top = next((t for t, box in PHOTO_SIZE_BOXES.items() if longest <= box), "w")
        smaller = [t for t in PHOTO_SIZE_BOXES if PHOTO_SIZE_BOXES[t] < PHOTO_SIZE_BOXES[top]]
        if smaller:
            # Let the JPEG decoder scale down while decoding (fast), then scale each size from
            # the next larger one.
            opened.draft("RGB", (PHOTO_SIZE_BOXES[smaller[-1]],) * 2)
        image = opened.convert("RGB")
    except Exception as exc:  # Pillow raises several unrelated types for bad input
        raise SimulatorError(f"photo bytes are not a readable image: {exc}") from exc
    sizes: dict[str, bytes] = {}
    dims: dict[str, tuple[int, int]] = {}
    for size_type in reversed(smaller):
        box = PHOTO_SIZE_BOXES[size_type]
        image.thumbnail((box, box), Image.Resampling.BILINEAR, reducing_gap=2.0)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        if len(out.getvalue()) < len(data):
            sizes[size_type] = out.getvalue()
            dims[size_type] = image.size
    sizes[top] = data
    dims[top] = (width, height)
    return dict(sorted(sizes.items(), key=lambda kv: len(kv[1]))), dict(
        sorted(dims.items(), key=lambda kv: kv[1])
    )
