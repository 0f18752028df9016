"""Gallery tiles (issue 14): each picture whole in justified rows (its own aspect ratio, one height a
row), favourite and download on hover or focus; collections list covers and counts; a new collection
says how to add images. Desktop and phone.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM, SIZES
from .test_edit_inputs import gallery_image
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

@pytest.mark.parametrize("size", SIZES)
def test_tiles_keep_their_shape_and_offer_favourite_and_download(open_page, designer, console_errors, size):
    from gallery.models import Favourite

    wide = gallery_image(designer, prompt="A wide harbour", size="1536x1024")
    tall = gallery_image(designer, prompt="A tall lighthouse", size="1024x1536")
    gallery_image(designer, prompt="A square window")
    page = open_page(**SIZES[size])
    log_in(page, designer)
    page.goto("/gallery/")
    frames = {name: page.locator(".tile", has_text=name).locator(".tile-frame")
              for name in ("A wide harbour", "A tall lighthouse", "A square window")}
    expect(page.locator(".grid.is-justified")).to_have_count(1)
    boxes = {name: frame.bounding_box() for name, frame in frames.items()}
    assert abs(boxes["A wide harbour"]["width"] / boxes["A wide harbour"]["height"] - 1.5) < 0.05
    assert abs(boxes["A tall lighthouse"]["width"] / boxes["A tall lighthouse"]["height"] - 2 / 3) < 0.05
    rows = {}
    for box in boxes.values():
        rows.setdefault(round(box["y"]), []).append(round(box["height"]))
    assert all(max(heights) - min(heights) <= 2 for heights in rows.values()), rows  # a row, one height
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]

    tile = page.locator(".tile", has_text="A wide harbour")
    star = tile.get_by_role("button", name="Favourite", exact=True)
    expect(star).to_have_accessible_description("A wide harbour")
    actions = tile.locator(".tile-actions")
    if size == "desktop":
        page.mouse.move(2, 2)  # away from the grid
        expect(actions).to_have_css("opacity", "0")
        tile.hover()
    expect(actions).to_have_css("opacity", "1")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    assert Favourite.objects.filter(user=designer, image=wide).exists()
    download = tile.get_by_role("link", name="Download", exact=True)
    assert download.get_attribute("href") == f"/gallery/{wide.pk}/original/?download=1"
    assert_accessible_in_both_color_schemes(page)
    star.click()
    expect(star).to_have_attribute("aria-pressed", "false")
    assert not Favourite.objects.filter(user=designer, image=wide).exists()
    assert tall.pk
    assert console_errors == []


def test_keyboard_focus_shows_the_tile_actions(page, designer, console_errors):
    gallery_image(designer, prompt="A quiet bay")
    log_in(page, designer)
    page.goto("/gallery/")
    star = page.get_by_role("button", name="Favourite", exact=True)
    expect(page.locator(".tile-actions")).to_have_css("opacity", "0")
    star.focus()
    expect(page.locator(".tile-actions")).to_have_css("opacity", "1")
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_a_new_collection_is_confirmed_then_listed_with_cover_and_count(open_page, designer, console_errors, size):
    gallery_image(designer, prompt="A heron")
    page = open_page(**SIZES[size])
    log_in(page, designer)
    page.goto("/gallery/collections/")
    page.get_by_label("Name").fill("Birds")
    page.get_by_role("button", name="Create collection").click()
    expect(page.locator(".message-success")).to_have_text("Collection “Birds” created.")
    expect(page.get_by_role("heading", name="This collection is empty")).to_be_visible()
    assert_accessible_in_both_color_schemes(page)

    page.get_by_role("link", name="Choose images in the gallery").click()
    page.get_by_role("checkbox", name="Select image: A heron").check()
    page.get_by_role("region", name="Selected images").get_by_role("button", name="Add to collection").click()
    page.goto("/gallery/collections/")
    item = page.locator(".collection-item", has_text="Birds")
    expect(item).to_contain_text("1 image ·")
    expect(item.locator("img.collection-cover")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
    assert_accessible_in_both_color_schemes(page)
    assert console_errors == []
