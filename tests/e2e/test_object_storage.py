"""Images from an S3-compatible bucket in a real browser: the page's <img> asks the app, the app
checks permission and redirects to a signed URL on another origin (moto's S3 server standing in
for MinIO), and the page's Content-Security-Policy lets exactly that origin in.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import pytest

from tests.s3 import moto_server, use_bucket

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_gallery_bulk import make_images
from .test_studio_flow import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="session")
def s3_server():
    yield from moto_server()


@pytest.fixture
def s3(s3_server, settings):
    bucket = use_bucket(settings, s3_server)
    # What the settings add for STUDIO_STORAGE=s3 with redirects: the bucket's origin for images.
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "img-src": [*policy["DIRECTIVES"]["img-src"], bucket.public]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    return bucket


def test_the_gallery_shows_thumbnails_from_the_bucket(page, designer, s3, console_errors):
    images = make_images(designer, 2)
    assert len(s3.listing("thumbs/")) == 2
    from_bucket = []
    page.on("response", lambda response: from_bucket.append(response.status)
            if response.url.startswith(s3.public) else None)
    log_in(page, designer)
    page.goto("/gallery/")
    tiles = page.locator("#grid img")
    expect(tiles).to_have_count(2)
    for index in range(2):
        tile = tiles.nth(index)
        tile.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=tile.element_handle())
    assert from_bucket.count(200) >= 2  # the bytes came from the bucket, not through the app
    page.goto(f"/gallery/{images[0].pk}/")
    original = page.locator(f'img[src="/gallery/{images[0].pk}/original/"]')
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=original.element_handle())
    assert console_errors == []  # no CSP violation, no broken image
