"""Pages and fragments are gzip-compressed, files are not, and a page carrying secrets never
compresses to the same length twice (BREACH: masked CSRF token + random gzip padding)."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.security.world import make_world

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.fixture
def world(alice, bob):
    return make_world(alice, bob)


def test_the_studio_page_is_compressed(alice_client):
    plain = alice_client.get("/")
    compressed = alice_client.get("/", **GZIP)
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert 'id="edit-form"' in html
    assert len(compressed.content) < len(plain.content) / 3


def test_fragments_and_other_pages_are_compressed(world, alice_client):
    for url, extra in ((f"/jobs/{world.job.pk}/", {"HTTP_HX_REQUEST": "true"}), ("/gallery/", {}),
                       (f"/gallery/{world.image.pk}/", {}), ("/teams/", {})):
        response = alice_client.get(url, **GZIP, **extra)
        assert response.status_code == 200, url
        assert response["Content-Encoding"] == "gzip", url
        gzip.decompress(response.content)


def test_without_accept_encoding_nothing_is_compressed(alice_client):
    response = alice_client.get("/")
    assert "Content-Encoding" not in response
    assert b"<html" in response.content


def test_files_are_not_compressed(world, alice_client):
    for url in (f"/gallery/{world.image.pk}/original/", f"/gallery/{world.image.pk}/thumbnail/",
                f"/gallery/inputs/{world.input_pk}/"):
        response = alice_client.get(url, **GZIP)
        assert response.status_code == 200
        assert "Content-Encoding" not in response, url
        assert int(response["Content-Length"]) > 0


def test_a_page_with_secrets_never_compresses_to_the_same_length_twice(alice_client):
    lengths, tokens = set(), set()
    for _ in range(10):
        response = alice_client.get("/", **GZIP)
        html = gzip.decompress(response.content).decode()
        tokens.add(re.search(r'"X-CSRFToken": "([^"]+)"', html)[1])
        lengths.add(len(response.content))
    assert len(tokens) == 10  # the CSRF token is masked afresh every time
    assert len(lengths) > 1  # and random padding hides length differences
