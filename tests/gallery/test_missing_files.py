"""Files that vanish under a request (deleted from storage, replaced by the worker) make the
request do without them, never an HTTP 500."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage

from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def _zip(client, ids) -> zipfile.ZipFile:
    response = client.post("/gallery/bulk/", {"action": "zip", "image": ids})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_zip_leaves_out_an_image_whose_file_is_missing(alice, alice_client):
    kept = ImageFactory(created_by=alice, prompt="kept")
    lost = ImageFactory(created_by=alice, prompt="lost")
    default_storage.delete(lost.file.name)
    with _zip(alice_client, [kept.pk, lost.pk]) as archive:
        assert archive.namelist() == [kept.download_name]
        assert archive.testzip() is None
        with kept.file.open("rb") as original:
            assert archive.read(kept.download_name) == original.read()


def test_a_zip_of_only_missing_files_is_an_empty_archive(alice, alice_client):
    lost = ImageFactory(created_by=alice)
    default_storage.delete(lost.file.name)
    with _zip(alice_client, [lost.pk]) as archive:
        assert archive.namelist() == []


def test_a_missing_original_or_thumbnail_is_not_found(alice, alice_client):
    image = ImageFactory(created_by=alice)
    default_storage.delete(image.file.name)
    default_storage.delete(image.thumbnail.name)
    assert alice_client.get(f"/gallery/{image.pk}/original/").status_code == 404
    assert alice_client.get(f"/gallery/{image.pk}/thumbnail/").status_code == 404
    assert alice_client.get(f"/gallery/{image.pk}/").status_code == 200  # the page still shows


def test_a_shared_image_whose_file_is_missing_is_not_found_but_the_page_shows(alice):
    from django.test import Client

    from tests.factories import CollectionFactory, ShareLinkFactory

    kept, lost = ImageFactory(created_by=alice, prompt="kept"), ImageFactory(created_by=alice, prompt="lost")
    board = CollectionFactory(created_by=alice, images=[kept, lost])
    link = ShareLinkFactory(created_by=alice, collection=board)
    default_storage.delete(lost.file.name)
    default_storage.delete(lost.thumbnail.name)
    visitor = Client()
    assert visitor.get(f"/s/{link.token}/").status_code == 200
    assert visitor.get(f"/s/{link.token}/0/image/").status_code == 200
    assert visitor.get(f"/s/{link.token}/1/image/").status_code == 404
    assert visitor.get(f"/s/{link.token}/1/thumbnail/").status_code == 404
