"""Reads of the gallery: search, filters and keyset pages that cost the same at any depth."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .models import Favourite, Image, InputImage, Tag
from .permissions import User, visible_collections, visible_images

GALLERY_PAGE_SIZE = 48
COUNT_LIMIT = 1000  # beyond this the grid says "1,000+": counting every match would grow with the gallery

SORTS = {
    # name: (fields, descending)
    "newest": (("created_at", "id"), True),
    "oldest": (("created_at", "id"), False),
    "cost": (("cost_usd", "id"), True),
}


@dataclass
class GalleryPage:
    images: list[Image]
    next_cursor: str | None
    previous_cursor: str | None
    count: int
    count_is_capped: bool
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def count_label(self) -> str:
        return f"{COUNT_LIMIT:,}+" if self.count_is_capped else f"{self.count:,}"


def filtered_images(*, user: User, filters: dict[str, Any]) -> QuerySet[Image]:
    """The user's visible images narrowed by ``filters`` (see GalleryFilterForm)."""
    images = visible_images(user)
    if space := filters.get("space"):
        images = images.filter(space_id=space)
    if text := (filters.get("q") or "").strip():
        images = _search(images, text)
    if creator := filters.get("creator"):
        images = images.filter(created_by_id=creator)
    if date_from := filters.get("date_from"):
        images = images.filter(created_at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to := filters.get("date_to"):
        images = images.filter(created_at__lte=timezone.make_aware(datetime.combine(date_to, time.max)))
    for name in ("size", "quality", "model", "format"):
        if value := filters.get(name):
            images = images.filter(**{name: value})
    if filters.get("favourite"):
        images = images.filter(Exists(Favourite.objects.filter(user_id=user.pk, image_id=OuterRef("pk"))))
    if collection := filters.get("collection"):
        images = images.filter(collection_items__collection__in=visible_collections(user).filter(pk=collection))
    if tag := filters.get("tag"):
        images = images.filter(tags__in=Tag.objects.filter(name=tag.strip().lower()))
    if (cost_min := filters.get("cost_min")) is not None:
        images = images.filter(cost_usd__gte=cost_min)
    if (cost_max := filters.get("cost_max")) is not None:
        images = images.filter(cost_usd__lte=cost_max)
    return images


def _search(images: QuerySet[Image], text: str) -> QuerySet[Image]:
    if connection.vendor == "postgresql":
        # Matches the GIN index on to_tsvector('english', prompt) (gallery migration 0006).
        return images.filter(pk__in=RawSQL(
            "SELECT id FROM gallery_image WHERE to_tsvector('english', prompt) @@ websearch_to_tsquery('english', %s)",
            [text]))
    # SQLite: every word must appear somewhere in the prompt.
    condition = Q()
    for word in text.split()[:10]:
        condition &= Q(prompt__icontains=word.strip('"'))
    return images.filter(condition)


def gallery_page(*, user: User, filters: dict[str, Any], cursor: str | None = None,
                 direction: str = "next", page_size: int = GALLERY_PAGE_SIZE) -> GalleryPage:
    """One page of the filtered gallery after (or, with ``direction="previous"``, before) ``cursor``.

    Keyset pagination: a deep page costs what the first one does, however many images there are.
    """
    sort = filters.get("sort") or "newest"
    fields, descending = SORTS.get(sort, SORTS["newest"])
    base = filtered_images(user=user, filters=filters)
    position = decode_cursor(cursor, sort=sort)
    backwards = direction == "previous" and position is not None
    page = base
    if position is not None:
        page = page.filter(_beyond(fields, position, descending=descending != backwards))
    order = [f"-{name}" if descending != backwards else name for name in fields]
    rows = list(page.order_by(*order).select_related("space")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = (more if backwards else position is not None) and bool(rows)
    count = base.order_by()[: COUNT_LIMIT + 1].count()
    _mark_favourites(user, rows)
    return GalleryPage(
        images=rows,
        next_cursor=encode_cursor(rows[-1], sort=sort) if rows and has_next else None,
        previous_cursor=encode_cursor(rows[0], sort=sort) if rows and has_previous else None,
        count=min(count, COUNT_LIMIT), count_is_capped=count > COUNT_LIMIT, filters=filters,
    )


def neighbours(*, user: User, image: Image, filters: dict[str, Any]) -> tuple[Image | None, Image | None]:
    """The images before and after ``image`` in the filtered, sorted view (for ← and →)."""
    sort = filters.get("sort") or "newest"
    fields, descending = SORTS.get(sort, SORTS["newest"])
    base = filtered_images(user=user, filters=filters).only("id", "created_at", "cost_usd")
    position = tuple(getattr(image, name) for name in fields)
    earlier = base.filter(_beyond(fields, position, descending=not descending)).order_by(
        *[name if descending else f"-{name}" for name in fields]).first()
    later = base.filter(_beyond(fields, position, descending=descending)).order_by(
        *[f"-{name}" if descending else name for name in fields]).first()
    return earlier, later


def _beyond(fields: tuple[str, str], position: tuple[Any, Any], *, descending: bool) -> Q:
    """Rows after ``position`` in (first, id) order: a row comparison written out for every database."""
    first, tie = fields
    value, pk = position
    op = "lt" if descending else "gt"
    return Q(**{f"{first}__{op}": value}) | Q(**{first: value, f"{tie}__{op}": pk})


def encode_cursor(image: Image, *, sort: str) -> str:
    fields, _ = SORTS.get(sort, SORTS["newest"])
    value = getattr(image, fields[0])
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(f"{text}|{image.pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, sort: str) -> tuple[Any, int] | None:
    """The (value, id) a cursor points at; None for a missing or tampered cursor."""
    if not cursor:
        return None
    try:
        text, _, pk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().rpartition("|")
        fields, _ = SORTS.get(sort, SORTS["newest"])
        value: Any = datetime.fromisoformat(text) if fields[0] == "created_at" else Decimal(text)
        return value, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error, InvalidOperation):
        return None


def _mark_favourites(user: User, images: list[Image]) -> None:
    """One query for the page: ``image.is_favourite`` for each image shown."""
    favourites = set(Favourite.objects.filter(user_id=user.pk, image__in=images).values_list("image_id", flat=True))
    for image in images:
        image.is_favourite = image.pk in favourites


def image_inputs(*, image: Image) -> list[InputImage]:
    """The input images of an edit, in the order they were sent."""
    return [link.input_image for link in image.image_inputs.select_related("input_image")]


def space_tags(*, space_id: int) -> list[str]:
    return list(Tag.objects.filter(space_id=space_id).order_by("name").values_list("name", flat=True))
