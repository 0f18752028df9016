import re

import pytest

from gallery.models import Image
from gallery.selectors import GALLERY_PAGE_SIZE
from tests.gallery.conftest import make_image

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_grid_is_newest_first_and_paginated(alice_client, alice):
    images = [make_image(alice, prompt=f"picture number {i}") for i in range(GALLERY_PAGE_SIZE + 2)]
    first = alice_client.get("/gallery/")
    assert [image.pk for image in first.context["page"].object_list] == [i.pk for i in reversed(images)][
        :GALLERY_PAGE_SIZE]
    html = first.content.decode()
    assert f"/gallery/{images[-1].pk}/thumbnail/" in html and "?page=2" in html
    second = alice_client.get("/gallery/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in second  # just the grid, for htmx
    shown = re.findall(r'href="/gallery/(\d+)/"', second)
    assert shown == [str(images[1].pk), str(images[0].pk)]
    assert alice_client.get("/gallery/?page=999").context["page"].number == 2


def test_empty_gallery_invites_to_create(alice_client):
    assert "/" in alice_client.get("/gallery/").content.decode()
    assert alice_client.get("/gallery/").context["page"].paginator.count == 0


def test_detail_shows_all_metadata(alice_client, alice_image):
    html = alice_client.get(f"/gallery/{alice_image.pk}/").content.decode()
    for expected in ["a quiet harbour", "gpt-image-2-2026-04-21", "1024×1024", "low", alice_image.request_id,
                     f"?remix={alice_image.pk}", f"?edit={alice_image.pk}", "196 out"]:
        assert expected in html, expected
    assert f"${alice_image.cost_usd:.5f}" in html


def test_detail_of_an_edit_links_its_inputs_and_mask(alice_client, alice_edit):
    html = alice_client.get(f"/gallery/{alice_edit.pk}/").content.decode()
    input_image = alice_edit.image_inputs.get().input_image
    assert f"/gallery/inputs/{input_image.pk}/" in html
    assert f"/gallery/inputs/{alice_edit.mask_id}/" in html
    response = alice_client.get(f"/gallery/inputs/{alice_edit.mask_id}/")
    assert response["Content-Type"] == "image/png" and _body(response)[:4] == b"\x89PNG"


def test_original_is_the_exact_bytes_and_downloads_as_a_file(alice_client, alice_image):
    with alice_image.file.open("rb") as handle:
        stored = handle.read()
    inline = alice_client.get(f"/gallery/{alice_image.pk}/original/")
    assert inline["Content-Type"] == "image/png" and _body(inline) == stored
    download = alice_client.get(f"/gallery/{alice_image.pk}/original/?download=1")
    assert download["Content-Disposition"] == f'attachment; filename="studio-{alice_image.pk}.png"'
    assert "private" in download["Cache-Control"]


def test_thumbnail_is_webp(alice_client, alice_image):
    response = alice_client.get(f"/gallery/{alice_image.pk}/thumbnail/")
    assert response["Content-Type"] == "image/webp" and _body(response)[8:12] == b"WEBP"


def test_a_missing_file_is_a_404_not_a_500(alice_client, alice_image):
    alice_image.file.storage.delete(alice_image.file.name)
    assert alice_client.get(f"/gallery/{alice_image.pk}/original/").status_code == 404


def test_there_is_no_public_media_url(alice_client, alice_image, settings):
    assert alice_client.get(f"/{settings.MEDIA_URL.strip('/')}/{alice_image.file.name}").status_code == 404
    assert alice_client.get(f"/media/{alice_image.file.name}").status_code == 404
    assert Image.objects.count() == 1
