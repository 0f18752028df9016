"""Reading uploaded image bytes safely, for the rules in ``imageapi.params``."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from .params import ImageInfo

# Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; the studio treats both
# as a decompression bomb. gpt-image-2's inputs never need more than ~50 MP.
MAX_DECODED_PIXELS = 50_000_000
_PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}


class DecompressionBomb(ValueError):
    """The image claims more pixels than any input needs."""


def inspect_image(data: bytes | BinaryIO) -> ImageInfo:
    """Format, size and alpha of ``data``, judged by its content, never by a file name.

    Raises ``DecompressionBomb`` for images that would decode to absurd sizes; returns
    ``format=None`` for bytes that are not a readable image.
    """
    if not isinstance(data, bytes):
        data.seek(0)  # a file (an upload spooled to disk) is read in place, a chunk at a time
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
                width, height = image.size
                if width * height > MAX_DECODED_PIXELS:
                    raise DecompressionBomb(f"{width}x{height}")
                image.verify()
                fmt = _PILLOW_FORMATS.get(image.format or "", (image.format or "").lower() or None)
                has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
                    image.mode == "P" and "transparency" in image.info
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecompressionBomb(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, DecompressionBomb):
            raise
        return ImageInfo(format=None, width=0, height=0, has_alpha=False, byte_size=_size(data))
    return ImageInfo(format=fmt, width=width, height=height, has_alpha=has_alpha, byte_size=_size(data))


def _size(data: bytes | BinaryIO) -> int:
    """The byte count of ``data``; a file is measured by seeking (never read into memory) and
    left at its start for the next reader."""
    if isinstance(data, bytes):
        return len(data)
    size = data.seek(0, io.SEEK_END)
    data.seek(0)
    return size


# The output formats the Images API produces, by their magic numbers (GIF: 2.6's animations).
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))


def sniff_format(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif`` or ``webp`` judged by the first bytes alone (no decoding), else None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None
