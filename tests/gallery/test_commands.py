"""seed_gallery: bulk images with real files for benchmarks, and its refusals."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from gallery.models import Image
from teams.models import Space

pytestmark = pytest.mark.django_db


def test_seed_gallery_fills_a_new_team_with_images_that_have_files():
    out = io.StringIO()
    call_command("seed_gallery", "--images", "4", "--team", "Bench", "--members", "2", stdout=out)
    team = Space.objects.get(kind=Space.Kind.TEAM, name="Bench")
    images = list(Image.objects.filter(space=team))
    assert len(images) == 4
    assert team.memberships.count() == 2
    assert all(default_storage.exists(image.file.name) and default_storage.exists(image.thumbnail.name)
               for image in images)
    assert "Seeded 4 images" in out.getvalue() and "now holds 4" in out.getvalue()


def test_seeding_again_adds_to_the_same_team():
    call_command("seed_gallery", "--images", "2", "--team", "Bench", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_gallery", "--images", "3", "--team", "Bench", stdout=out)
    assert Space.objects.filter(name="Bench").count() == 1
    assert Image.objects.filter(space__name="Bench").count() == 5 and "now holds 5" in out.getvalue()


@pytest.mark.parametrize("count", ["0", "-3"])
def test_seed_gallery_refuses_fewer_than_one_image(count):
    with pytest.raises(CommandError, match="--images must be at least 1"):
        call_command("seed_gallery", "--images", count, stdout=io.StringIO())
    assert not Image.objects.exists()
