"""Compare anything (issue 14): any two images checked in the gallery, or two results of one job,
open side by side or in a slider whose split follows a drag on the picture itself.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_edit_inputs import gallery_image
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True, "is_mobile": True}


def split_value(page) -> int:
    return int(page.get_by_role("slider", name=re.compile("^Split between image A")).input_value())


def drag_on_picture(page, *, to_fraction: float) -> None:
    frame = page.locator(".compare-a .compare-frame")
    box = frame.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * to_fraction, y, steps=6)
    page.mouse.up()


def test_check_two_unrelated_gallery_images_and_drag_the_slider_on_the_picture(page, designer, console_errors):
    first = gallery_image(designer, prompt="A red bicycle")
    second = gallery_image(designer, prompt="A blue boat")
    gallery_image(designer, prompt="A green kite")
    log_in(page, designer)
    page.goto("/gallery/")
    bar = page.get_by_role("region", name="Selected images")
    page.get_by_role("checkbox", name="Select image: A red bicycle").click()
    compare = bar.get_by_role("button", name="Compare")
    expect(compare).to_be_disabled()  # one is not a pair
    page.get_by_role("checkbox", name="Select image: A blue boat").click()
    expect(compare).to_be_enabled()
    page.get_by_role("checkbox", name="Select image: A green kite").click()
    expect(compare).to_be_disabled()  # three are too many
    page.get_by_role("checkbox", name="Select image: A green kite").click()
    compare.click()
    expect(page).to_have_url(re.compile(rf"/gallery/compare/\?a=({first.pk}&b={second.pk}|{second.pk}&b={first.pk})$"))

    page.get_by_role("button", name="Slider").click()
    assert split_value(page) == 50
    drag_on_picture(page, to_fraction=0.2)
    assert 15 <= split_value(page) <= 25
    drag_on_picture(page, to_fraction=0.85)
    assert 80 <= split_value(page) <= 90
    assert page.locator(".compare").evaluate("el => getComputedStyle(el).getPropertyValue('--split')").strip() == \
        f"{split_value(page)}%"
    assert_accessible_in_both_color_schemes(page)
    assert console_errors == []


def test_a_job_of_two_results_offers_to_compare_them_on_a_phone(open_page, designer, console_errors):
    from studio import services

    job = services.job_submit_generation(user=designer, request={
        "model": "gpt-image-2", "prompt": "Two takes on a lighthouse", "n": 2, "size": "1024x1024",
        "quality": "low", "output_format": "png"})
    services.job_run(job_id=job.pk)
    one, two = job.images.order_by("pk")
    page = open_page(**PHONE)
    log_in(page, designer)
    card = page.locator("#jobs article.job", has_text="Two takes on a lighthouse")
    expect(card).to_contain_text("Saved to your space")
    card.get_by_role("link", name="Compare results 1 and 2").tap()
    expect(page).to_have_url(re.compile(rf"/gallery/compare/\?a=({one.pk}&b={two.pk}|{two.pk}&b={one.pk})$"))
    page.get_by_role("button", name="Slider").tap()
    frame = page.locator(".compare-a .compare-frame").bounding_box()
    page.touchscreen.tap(frame["x"] + frame["width"] * 0.25, frame["y"] + frame["height"] / 2)
    assert 20 <= split_value(page) <= 30
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert console_errors == []
