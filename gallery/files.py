"""Serving stored images so a browser can only ever treat them as pictures.

Uploaded inputs come from users and could be crafted (a PNG with HTML appended, HTML named
.png): every file goes out with ``Content-Security-Policy: sandbox`` (no script, no same-origin
even if a browser renders it as a document) and ``nosniff``, and the content type is decided by
the file's first bytes, never by its name or the stored format. Anything that is not one of the
image types Studio accepts for that file (``formats``: an edit's inputs are PNG, JPEG or WebP; a
received image may also be a GIF) goes out as an ``application/octet-stream`` attachment."""

from __future__ import annotations

from typing import IO

from django.http import FileResponse

from imageapi.catalogue import MODELS
from imageapi.images import sniff_format
from imageapi.params import INPUT_FORMATS

SNIFF_BYTES = 16
# What a stored file may be served as: an upload (input or mask), and what a model may return.
INPUT_FILE_FORMATS = INPUT_FORMATS
RESULT_FILE_FORMATS = frozenset(fmt for entry in MODELS for fmt in entry.output_formats)
# As GitHub serves user content: nothing may load or run; the inline style lets a browser show an image.
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def sniff_image_type(head: bytes, *, formats: frozenset[str] = INPUT_FILE_FORMATS) -> str | None:
    """The MIME type of bytes of one of ``formats`` from their signature; None for anything else."""
    image_format = sniff_format(head)
    return f"image/{image_format}" if image_format in formats else None


def inert_file_response(handle: IO[bytes], *, download_name: str | None, cache: str,
                        formats: frozenset[str] = INPUT_FILE_FORMATS) -> FileResponse:
    """A response for a stored image file, typed by its bytes and never rendered as a page."""
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    content_type = sniff_image_type(head, formats=formats)
    as_attachment = download_name is not None or content_type is None
    response = FileResponse(handle, content_type=content_type or "application/octet-stream",
                            as_attachment=as_attachment, filename=download_name or "")
    response["Cache-Control"] = cache
    response["Content-Security-Policy"] = FILE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
