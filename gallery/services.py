"""Writes of the gallery: storing received images and uploaded inputs."""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image as PILImage

from audit.models import AuditEvent
from audit.services import audit_record
from imageapi.client import GeneratedImage
from imageapi.params import ImageInfo, resolve_snapshot

from .models import Collection, CollectionItem, Favourite, Image, ImageInput, InputImage, ShareLink, Tag

THUMBNAIL_EDGE = 512
THUMBNAIL_QUALITY = 80


@dataclass(frozen=True)
class ImageOrigin:
    """Where a batch of received images comes from: one API call and what it was asked."""

    created_by: Any
    space: Any
    job: Any
    request: dict[str, Any]
    model: str
    size: str = ""
    quality: str = ""
    background: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    latency_ms: int | None = None
    inputs: tuple[InputImage, ...] = ()
    mask: InputImage | None = None


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
        return _thumbnail(source)


def _thumbnail(source: PILImage.Image) -> bytes:
    source.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # fast JPEG downscale
    if source.mode in ("RGB", "RGBA"):
        source.load()
        picture = source  # already what WebP takes: no copy of every pixel (8.3 MP at 4K)
    else:
        picture = source.convert("RGBA" if source.mode in ("LA", "P", "PA") else "RGB")
    picture.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


def input_image_create(
    *,
    created_by: Any,
    data: bytes | File,
    info: ImageInfo,
    role: str,
    original_name: str = "",
    source_image: Image | None = None,
    ledger: FileLedger,
) -> InputImage:
    """Store an edit's input image or mask (already validated by the caller). ``data`` may be a
    file (an upload spooled to disk): it is hashed and copied a chunk at a time, never held whole."""
    content = ContentFile(data) if isinstance(data, bytes) else data
    digest = hashlib.sha256()
    content.seek(0)
    for chunk in content.chunks():
        digest.update(chunk)
    content.seek(0)
    extension = "jpg" if info.format == "jpeg" else (info.format or "bin")
    input_image = InputImage(
        created_by=created_by, role=role, original_name=original_name[:255], format=info.format or "",
        width=info.width, height=info.height, byte_size=content.size,
        sha256=digest.hexdigest(), source_image=source_image,
    )
    input_image.file.save(_file_name(extension), content, save=False)
    ledger.track(input_image.file.name)
    input_image.save()
    return input_image


@dataclass(frozen=True)
class PreparedImage:
    """A received image decoded, measured and stored (original and thumbnail): the slow part of an
    ingest, done before the transaction that writes its row, so no lock is held meanwhile."""

    received: GeneratedImage
    width: int
    height: int
    sha256: str
    file_name: str
    thumbnail_name: str


def image_prepare(*, received: GeneratedImage, ledger: FileLedger) -> PreparedImage:
    """Decode once, store the original bytes exactly as returned and a WebP thumbnail; no
    database work. The files are tracked by ``ledger`` for the caller to discard on failure."""
    with PILImage.open(io.BytesIO(received.data)) as picture:
        width, height = picture.size
        thumbnail = _thumbnail(picture)
    extension = "jpg" if received.format == "jpeg" else received.format
    file_name = _store(Image._meta.get_field("file"), _file_name(extension), received.data)
    ledger.track(file_name)
    thumbnail_name = _store(Image._meta.get_field("thumbnail"), _file_name("webp"), thumbnail)
    ledger.track(thumbnail_name)
    return PreparedImage(received=received, width=width, height=height,
                         sha256=hashlib.sha256(received.data).hexdigest(),
                         file_name=file_name, thumbnail_name=thumbnail_name)


def _store(field: Any, name: str, data: bytes) -> str:
    # The field's own folder (upload_to) and storage, as FieldFile.save would choose them.
    return field.storage.save(field.generate_filename(None, name), ContentFile(data))


def image_ingest(*, received: GeneratedImage, origin: ImageOrigin, cost_usd: Decimal | None, ledger: FileLedger,
                 prepared: PreparedImage | None = None) -> Image:
    """Write the original bytes exactly as returned, a WebP thumbnail, and the row. Given
    ``prepared`` (``image_prepare``, outside the transaction), only the rows are written.
    ``cost_usd`` is this image's share of the call, ``None`` when its price is unknown."""
    prepared = prepared or image_prepare(received=received, ledger=ledger)
    width, height = prepared.width, prepared.height
    usage = origin.usage
    image = Image(
        created_by=origin.created_by, space=origin.space, job=origin.job,
        kind=Image.Kind.EDIT if origin.inputs else Image.Kind.GENERATE, index=received.index,
        prompt=origin.request.get("prompt", ""), request=origin.request, model=origin.model,
        snapshot=resolve_snapshot(origin.model), mask=origin.mask, format=received.format, width=width,
        height=height, byte_size=len(received.data), sha256=prepared.sha256,
        size=origin.size or f"{width}x{height}", quality=origin.quality, background=origin.background, usage=usage,
        input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=Decimal(0) if cost_usd is None else cost_usd, price_unknown=cost_usd is None,
        request_id=origin.request_id, latency_ms=origin.latency_ms,
        file=prepared.file_name, thumbnail=prepared.thumbnail_name,
    )
    image.save()
    ImageInput.objects.bulk_create(
        ImageInput(image=image, input_image=input_image, position=position)
        for position, input_image in enumerate(origin.inputs)
    )
    return image


# -- organising -------------------------------------------------------------------------------

TRASH_DAYS = 30
SHARE_LINK_DAYS_MAX = 365
ZIP_CHUNK = 256 * 1024


def favourite_set(*, user: Any, image: Image, favourite: bool) -> bool:
    if favourite:
        Favourite.objects.get_or_create(user=user, image=image)
    else:
        Favourite.objects.filter(user=user, image=image).delete()
    return favourite


def tag_name(raw: str) -> str:
    return Tag.normalise(raw)


def tags_add(*, images: Iterable[Image], names: Iterable[str]) -> list[Tag]:
    """Tag each image with each name, in the image's own space (tags never cross spaces)."""
    images = list(images)
    clean = sorted({tag_name(name) for name in names} - {""})
    added = []
    for space_id in {image.space_id for image in images}:
        tags = [Tag.objects.get_or_create(space_id=space_id, name=name)[0] for name in clean]
        added += tags
        through = Image.tags.through
        through.objects.bulk_create(
            [through(image_id=image.pk, tag_id=tag.pk) for image in images if image.space_id == space_id
             for tag in tags],
            ignore_conflicts=True,
        )
    return added


def tag_remove(*, image: Image, name: str) -> None:
    image.tags.remove(*image.tags.filter(name=tag_name(name)))


def collection_create(*, space: Any, user: Any, name: str) -> Collection:
    collection, _ = Collection.objects.get_or_create(space=space, name=name.strip()[:100],
                                                     defaults={"created_by": user})
    return collection


def collection_add(*, collection: Collection, images: Iterable[Image], user: Any) -> int:
    """Add the images of the collection's own space; returns how many were new to it."""
    items = [CollectionItem(collection=collection, image=image, added_by=user)
             for image in images if image.space_id == collection.space_id]
    before = collection.items.count()
    CollectionItem.objects.bulk_create(items, ignore_conflicts=True)
    return collection.items.count() - before


def collection_remove(*, collection: Collection, images: Iterable[Image]) -> None:
    collection.items.filter(image__in=list(images)).delete()


# -- trash -------------------------------------------------------------------------------------


@transaction.atomic
def images_trash(*, user: Any, images: Iterable[Image]) -> int:
    now = timezone.now()
    images = [image for image in images if image.deleted_at is None]
    Image.objects.filter(pk__in=[image.pk for image in images]).update(deleted_at=now, deleted_by=user)
    for image in images:
        audit_record(actor=user, action=AuditEvent.Action.DELETED, obj=image, summary=f"moved #{image.pk} to the trash")
    return len(images)


@transaction.atomic
def images_restore(*, user: Any, images: Iterable[Image]) -> int:
    images = [image for image in images if image.deleted_at is not None]
    Image.objects.filter(pk__in=[image.pk for image in images]).update(deleted_at=None, deleted_by=None)
    for image in images:
        audit_record(actor=user, action=AuditEvent.Action.RESTORED, obj=image, summary=f"restored #{image.pk}")
    return len(images)


def images_purge(*, user: Any | None, images: Iterable[Image]) -> int:
    """Delete images for good, with their files. Inputs are kept (other images may use them), and so
    is a file another row still points at (seeded demo galleries share a pool of files)."""
    purged = 0
    for image in images:
        with transaction.atomic():
            audit_record(actor=user, action=AuditEvent.Action.PURGED, obj=image, summary=f"purged #{image.pk}")
            image.delete()
            names = [name for name in (image.file.name, image.thumbnail.name) if name and not Image.objects.filter(
                Q(file=name) | Q(thumbnail=name)).exists()]
        transaction.on_commit(lambda names=names: [default_storage.delete(name) for name in names])
        purged += 1
    return purged


def trash_purge_expired(*, now: Any = None) -> int:
    """Purge what has been in the trash for more than TRASH_DAYS days (run daily)."""
    cutoff = (now or timezone.now()) - timedelta(days=TRASH_DAYS)
    return images_purge(user=None, images=Image.objects.filter(deleted_at__lt=cutoff).iterator())


# -- zip --------------------------------------------------------------------------------------


class _ChunkSink(io.RawIOBase):
    """A write-only file that keeps what is written until the zip generator hands it on."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_stream(images: Iterable[Image]) -> Iterator[bytes]:
    """The originals as a zip, produced piece by piece: memory stays flat whatever the count.

    Images are already compressed, so entries are stored, not deflated.
    """
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for image in images:
            info = zipfile.ZipInfo(image.download_name, date_time=image.created_at.timetuple()[:6])
            try:
                source = image.file.open("rb")
            except FileNotFoundError:
                continue
            with source, archive.open(info, mode="w", force_zip64=True) as entry:
                while chunk := source.read(ZIP_CHUNK):
                    entry.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()


# -- share links ------------------------------------------------------------------------------


def share_link_create(*, user: Any, target: Image | Collection, days: int, show_prompt: bool) -> ShareLink:
    days = max(1, min(days, SHARE_LINK_DAYS_MAX))
    link = ShareLink.objects.create(
        token=secrets.token_urlsafe(24), created_by=user, show_prompt=show_prompt,
        expires_at=timezone.now() + timedelta(days=days),
        image=target if isinstance(target, Image) else None,
        collection=target if isinstance(target, Collection) else None,
    )
    audit_record(actor=user, action=AuditEvent.Action.SHARED, obj=target,
                 summary=f"shared {target._meta.verbose_name} #{target.pk} for {days} days")
    return link


def share_link_revoke(*, user: Any, link: ShareLink) -> None:
    if link.revoked_at is None:
        ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        audit_record(actor=user, action=AuditEvent.Action.UNSHARED, obj=link.target, space=link.space,
                     summary=f"revoked a share link to {link.target._meta.verbose_name} #{link.target.pk}")
