"""The admin's image list stays light (issue 14): thumbnails load lazily, so a first look at a page of
50 images costs under 200 KB over the wire, on a desktop and on a phone; images cannot be added.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM, SIZES

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.mark.parametrize("size", SIZES)
def test_the_admin_image_list_is_light_and_offers_no_add(open_page, designer, console_errors, size):
    from studio import services
    from studio.page_weight import _sent_size

    designer.is_staff = designer.is_superuser = True
    designer.save()
    for batch in range(5):
        job = services.job_submit_generation(user=designer, request={
            "model": "gpt-image-2", "prompt": f"Harbour study {batch}", "n": 10, "size": "1024x1024",
            "quality": "low", "output_format": "png"})
        services.job_run(job_id=job.pk)

    page = open_page(**SIZES[size])
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(designer.username)
    page.get_by_label("Password").fill(designer.raw_password)
    page.get_by_role("button", name="Log in").click()
    # The admin index finishes loading first: a response still arriving when the next page is
    # opened has no body left to count.
    page.wait_for_url("**/admin/", wait_until="networkidle")
    sent = []

    def count(response):
        if 300 <= response.status < 400:
            return
        body = response.body()
        headers = response.headers
        sent.append(_sent_size(body, headers.get("content-type", ""), headers.get("content-encoding"),
                               response.request.sizes()["responseBodySize"]))

    page.on("response", count)
    page.goto("/admin/gallery/image/", wait_until="networkidle")
    expect(page.get_by_role("link", name="Add image")).to_have_count(0)
    expect(page.locator("#result_list tbody tr")).to_have_count(50)
    thumbnails = page.locator("#result_list img[loading=lazy]")
    expect(thumbnails).to_have_count(50)
    assert sum(sent) < 200 * 1024, f"{sum(sent) / 1024:.0f} KB in {len(sent)} responses"
    assert len(sent) < 40  # the thumbnails below the fold wait until scrolled to
    console_errors[:] = [e for e in console_errors if "favicon" not in e and "404" not in e]
    assert console_errors == []
