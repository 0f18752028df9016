"""The factories seed what the worker would have left: rows whose files exist and match them."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image as PILImage

from studio.models import Job
from teams.services import personal_space
from tests.factories import CollectionFactory, ImageFactory, ShareLinkFactory

pytestmark = pytest.mark.django_db


def test_an_image_has_its_original_thumbnail_and_job(alice, team):
    image = ImageFactory(created_by=alice, space=team, prompt="a red fox", pixels=(1536, 1024))
    with image.file.open("rb") as handle:
        data = handle.read()
    assert (image.byte_size, image.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    with image.file.open("rb") as handle, PILImage.open(handle) as picture:
        assert picture.size == (image.width, image.height) == (1536, 1024)
    with image.thumbnail.open("rb") as handle, PILImage.open(handle) as thumbnail:
        assert thumbnail.format == "WEBP"
    assert image.job.status == Job.Status.SUCCEEDED and image.job.space == team == image.space
    assert image.job.created_by == alice and image.request["prompt"] == image.job.prompt == "a red fox"


def test_defaults_land_in_the_creators_personal_space(alice):
    image = ImageFactory(created_by=alice)
    assert image.space == personal_space(user=alice) and image.deleted_at is None


def test_a_collection_and_its_share_link(alice):
    images = ImageFactory.create_batch(2, created_by=alice)
    board = CollectionFactory(created_by=alice, images=images)
    assert list(board.images.order_by("pk")) == images
    assert set(board.items.values_list("added_by", flat=True)) == {alice.pk}
    link = ShareLinkFactory(created_by=alice, collection=board)
    assert link.is_active and link.image is None
