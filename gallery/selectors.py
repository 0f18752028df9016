"""Reads of the gallery."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from .models import Image, InputImage
from .permissions import User, visible_images

GALLERY_PAGE_SIZE = 24


def gallery_page(*, user: User, page_number: str | int | None) -> Page:
    """Newest first; an out-of-range page number gives the last page, not an error."""
    images = visible_images(user).only(
        "id", "prompt", "width", "height", "format", "created_at", "cost_usd", "thumbnail", "created_by_id"
    )
    return Paginator(images, GALLERY_PAGE_SIZE).get_page(page_number)


def image_inputs(*, image: Image) -> list[InputImage]:
    """The input images of an edit, in the order they were sent."""
    return [link.input_image for link in image.image_inputs.select_related("input_image")]
