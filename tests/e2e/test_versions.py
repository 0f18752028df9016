"""Versions in a real browser: an edit's page shows its version tree, from the original it was edited
from to the edit made of it; the compare page puts two versions in a slider overlay moved with the
keyboard, or side by side, zoomed together.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def make_version(user, source=None, *, prompt: str):
    """A generation, or with ``source`` an edit of that gallery image (as its Edit button starts one)."""
    from imageapi.images import inspect_image
    from studio import services
    from tests.factories import make_png

    if source is None:
        job = services.job_submit_generation(user=user, request={
            "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low",
            "output_format": "png"})
    else:
        data = make_png(color=(40, 110, 200, 255))
        job = services.job_submit_edit(
            user=user, request={"model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "auto", "quality": "low"},
            images=[services.Upload(data=data, info=inspect_image(data), name="source.png", source_image=source)],
            mask=None)
    services.job_run(job_id=job.pk)
    return job.images.get()


@pytest.fixture
def chain(designer):
    original = make_version(designer, prompt="A lighthouse at noon, gouache")
    edit = make_version(designer, original, prompt="The same lighthouse at dusk")
    edit_of_edit = make_version(designer, edit, prompt="The lighthouse at night, stars")
    return original, edit, edit_of_edit


def test_the_version_tree_and_comparing_two_versions(page, designer, chain, console_errors):
    original, edit, edit_of_edit = chain
    log_in(page, designer)
    page.goto(f"/gallery/{edit.pk}/")

    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_role("link", name=f"Image {original.pk}", exact=True)).to_be_visible()
    expect(versions.get_by_role("link", name=f"Image {edit_of_edit.pk}", exact=True)).to_be_visible()
    wait_until_loaded(versions.get_by_role("img", name=re.compile(rf"^Image {original.pk}: ")))
    cards = versions.locator(".version-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text(f"Image {original.pk}")  # the ancestor above,
    expect(cards.nth(1)).to_contain_text("this image")  # this image highlighted,
    expect(cards.nth(1)).to_have_class(re.compile(r"\bis-current\b"))
    expect(cards.nth(2)).to_contain_text(f"Image {edit_of_edit.pk}")  # the descendant below
    expect(versions.get_by_role("link", name=f"Continue from here (image {original.pk})")).to_have_attribute(
        "href", f"/?edit={original.pk}")
    assert_accessible_in_both_color_schemes(page)

    versions.get_by_role("link", name=f"Compare with image {original.pk}").click()
    expect(page).to_have_url(re.compile(rf"/gallery/compare/\?a={edit.pk}&b={original.pk}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Compare image {edit.pk} and image {original.pk}")
    compare = page.locator(".compare")
    frames = compare.locator(".compare-frame")
    for picture in compare.locator(".compare-img").all():
        wait_until_loaded(picture)

    # Side by side first: the two next to each other.
    side = page.get_by_role("button", name="Side by side")
    slider_mode = page.get_by_role("button", name="Slider")
    expect(side).to_have_attribute("aria-pressed", "true")
    split = page.get_by_role("slider", name=re.compile("^Split between image A"))
    expect(split).to_be_hidden()
    a_box, b_box = frames.nth(0).bounding_box(), frames.nth(1).bounding_box()
    assert b_box["x"] >= a_box["x"] + a_box["width"]

    # The slider overlay: B over A, moved with the keyboard.
    slider_mode.click()
    expect(slider_mode).to_have_attribute("aria-pressed", "true")
    expect(compare).to_have_attribute("data-mode", "slider")
    expect(split).to_be_visible()
    a_box, b_box = frames.nth(0).bounding_box(), frames.nth(1).bounding_box()
    assert (round(b_box["x"]), round(b_box["y"])) == (round(a_box["x"]), round(a_box["y"]))  # one over the other
    expect(split).to_have_value("50")
    split.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(split).to_have_value("60")
    expect(split).to_have_attribute("aria-valuetext", "60% image A, 40% image B")
    clip = "el => getComputedStyle(el).clipPath"
    assert frames.nth(1).evaluate(clip) == "inset(0px 0px 0px 60%)"
    page.keyboard.press("Home")
    expect(split).to_have_value("0")
    assert frames.nth(1).evaluate(clip) == "inset(0px 0px 0px 0%)"  # all B
    page.keyboard.press("End")
    expect(split).to_have_value("100")
    assert_accessible_in_both_color_schemes(page)

    # Zoom: both images at once.
    zoom_in, zoom_out = page.get_by_role("button", name="Zoom in"), page.get_by_role("button", name="Zoom out")
    level = compare.locator(".compare-zoom-level")
    expect(zoom_out).to_be_disabled()
    zoom_in.click()
    zoom_in.click()
    expect(level).to_have_text("200%")
    expect(compare).to_have_attribute("data-zoom", "2")
    page.wait_for_function("""() => [...document.querySelectorAll('.compare-img')]
        .every(el => getComputedStyle(el).transform === 'matrix(2, 0, 0, 2, 0, 0)')""")  # after the easing
    zoom_out.click()
    expect(level).to_have_text("150%")

    # Back to side by side, still zoomed together; panning one pans the other.
    side.click()
    expect(side).to_have_attribute("aria-pressed", "true")
    expect(compare).to_have_attribute("data-mode", "side")
    expect(split).to_be_hidden()
    frames.nth(0).evaluate("el => { el.scrollLeft = 120; el.scrollTop = 80; }")
    page.wait_for_function("el => el.scrollLeft === 120 && el.scrollTop === 80", arg=frames.nth(1).element_handle())
    page.get_by_role("button", name="Fit").click()
    expect(level).to_have_text("100%")
    expect(compare).to_have_attribute("data-zoom", "1")
    assert_accessible_in_both_color_schemes(page)

    # Picking another version to compare with.
    page.get_by_role("link", name=f"Compare image {edit.pk} with another version").click()
    page.get_by_role("link", name=f"Compare with image {edit_of_edit.pk}").click()
    expect(page).to_have_url(re.compile(rf"/gallery/compare/\?a={edit.pk}&b={edit_of_edit.pk}$"))
    expect(page.locator(".compare-img")).to_have_count(2)
    assert console_errors == []
