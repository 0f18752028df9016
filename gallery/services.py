"""Writes of the gallery: storing received images and uploaded inputs."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from imageapi.params import ImageInfo, resolve_snapshot

from .models import Image, ImageInput, InputImage

THUMBNAIL_EDGE = 512
THUMBNAIL_QUALITY = 80


@dataclass(frozen=True)
class ReceivedImage:
    """One image as the API returned it."""

    data: bytes
    format: str
    index: int


class FileLedger:
    """Remembers the files a unit of work wrote, so a failure can remove them all:
    a database rollback cannot take files back."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def track(self, *names: str) -> None:
        self.names.extend(name for name in names if name)

    def discard_all(self) -> None:
        for name in self.names:
            default_storage.delete(name)
        self.names.clear()


def _file_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def make_thumbnail(data: bytes) -> bytes:
    """A WebP of at most THUMBNAIL_EDGE px a side, for the grid."""
    with PILImage.open(io.BytesIO(data)) as source:
        source.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # fast JPEG downscale
        picture = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") else "RGB")
    picture.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


def input_image_create(
    *,
    created_by: Any,
    data: bytes,
    info: ImageInfo,
    role: str,
    original_name: str = "",
    source_image: Image | None = None,
    ledger: FileLedger,
) -> InputImage:
    """Store an edit's input image or mask (already validated by the caller)."""
    extension = "jpg" if info.format == "jpeg" else (info.format or "bin")
    input_image = InputImage(
        created_by=created_by, role=role, original_name=original_name[:255], format=info.format or "",
        width=info.width, height=info.height, byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), source_image=source_image,
    )
    input_image.file.save(_file_name(extension), ContentFile(data), save=False)
    ledger.track(input_image.file.name)
    input_image.save()
    return input_image


def image_ingest(
    *,
    created_by: Any,
    job: Any,
    received: ReceivedImage,
    request: dict[str, Any],
    model: str,
    size: str,
    quality: str,
    background: str,
    usage: dict[str, Any],
    cost_usd: Decimal,
    request_id: str,
    latency_ms: int | None,
    inputs: list[InputImage],
    mask: InputImage | None,
    ledger: FileLedger,
) -> Image:
    """Write the original bytes exactly as returned, a WebP thumbnail, and the row."""
    with PILImage.open(io.BytesIO(received.data)) as picture:
        width, height = picture.size
    image = Image(
        created_by=created_by, job=job, kind="edit" if inputs else "generate", index=received.index,
        prompt=request.get("prompt", ""), request=request, model=model, snapshot=resolve_snapshot(model),
        mask=mask, format=received.format, width=width, height=height, byte_size=len(received.data),
        sha256=hashlib.sha256(received.data).hexdigest(),
        size=size or f"{width}x{height}", quality=quality, background=background, usage=usage,
        input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=cost_usd, request_id=request_id, latency_ms=latency_ms,
    )
    extension = "jpg" if received.format == "jpeg" else received.format
    image.file.save(_file_name(extension), ContentFile(received.data), save=False)
    ledger.track(image.file.name)
    image.thumbnail.save(_file_name("webp"), ContentFile(make_thumbnail(received.data)), save=False)
    ledger.track(image.thumbnail.name)
    image.save()
    ImageInput.objects.bulk_create(
        ImageInput(image=image, input_image=input_image, position=position)
        for position, input_image in enumerate(inputs)
    )
    return image
