"""The whole editing round on a phone: a 390 × 844 touch screen at three device pixels per CSS
pixel. Take a gallery image, paint a mask with a finger, edit, then walk to the new version and
compare it with its source.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image as PILImage

from .conftest import HAS_CHROMIUM, JOB_TIMEOUT_MS, NO_CHROMIUM
from .test_edit_inputs import gallery_image
from .test_mask_editor import image_to_client, mask_alpha
from .test_mask_tools import Fingers
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "has_touch": True, "is_mobile": True}


def pixels(image):
    with image.file.open("rb") as stored:
        picture = PILImage.open(stored)
        picture.load()
    return picture.convert("RGBA")


def fits_the_screen(locator) -> bool:
    return locator.evaluate("el => el.getBoundingClientRect().left >= 0 && el.getBoundingClientRect().right <= 390")


def test_on_a_phone_paint_a_mask_with_a_finger_edit_and_compare_the_versions(
        open_page, worker, designer, console_errors):
    from studio.models import Job

    source = gallery_image(designer, prompt="A tiled kitchen wall")
    page = open_page(**PHONE)
    log_in(page, designer)

    page.goto("/gallery/")
    page.get_by_role("link", name="A tiled kitchen wall").tap()
    expect(page).to_have_url(re.compile(rf"/gallery/{source.pk}/"))
    page.get_by_role("link", name="Edit", exact=True).tap()

    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-inputs", "ready")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_have_attribute("data-width", "1024")  # the original, whatever the pixel ratio
    canvas = editor.get_by_role("application", name="Painting canvas")
    canvas.scroll_into_view_if_needed()
    assert fits_the_screen(canvas) and fits_the_screen(editor.get_by_role("toolbar", name="Painting tools"))

    # One finger across the middle of the picture, with the brush at 96 image pixels.
    editor.get_by_label("Brush size").fill("96")
    editor.get_by_label("Hardness").fill("100")
    canvas.scroll_into_view_if_needed()
    to_client = image_to_client(canvas)
    fingers = Fingers(page)
    for x in range(352, 673, 16):
        fingers.touch(to_client(x, 512))
    fingers.lift_all()
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 0]
    assert mask_alpha(page, 512, 200)[3] == 255 and mask_alpha(page, 100, 512)[3] == 255

    form.get_by_label("Prompt").fill("A round mirror on the wall")
    form.get_by_label("Quality").select_option("low")
    assert_accessible_in_both_color_schemes(page)
    form.get_by_role("button", name="Edit").tap()
    card = page.locator("#jobs article.job", has_text="A round mirror on the wall")
    expect(card.locator(".status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)

    # Only the painted band changed.
    edit = Job.objects.get(kind=Job.Kind.EDIT).images.get()
    before, after = pixels(source), pixels(edit)
    assert after.size == before.size == (1024, 1024)
    assert any(after.getpixel(point) != before.getpixel(point) for point in [(420, 512), (512, 512), (600, 512)])
    for point in [(512, 200), (512, 800), (100, 512), (900, 512), (10, 10)]:
        assert after.getpixel(point) == before.getpixel(point), point

    # The new version: its tree leads back to the source, and the two compare side by side.
    card.get_by_role("link", name=re.compile("^Result 1")).tap()
    expect(page).to_have_url(re.compile(rf"/gallery/{edit.pk}/"))
    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_role("link", name=f"Image {source.pk}", exact=True)).to_be_visible()
    versions.get_by_role("link", name=f"Compare with image {source.pk}").tap()
    expect(page).to_have_url(re.compile(rf"/gallery/compare/\?a={edit.pk}&b={source.pk}$"))
    compare = page.locator(".compare")
    page.get_by_role("button", name="Slider").tap()
    expect(compare).to_have_attribute("data-mode", "slider")
    expect(page.get_by_role("slider", name=re.compile("^Split between image A"))).to_be_visible()
    assert fits_the_screen(compare)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways

    assert console_errors == []
