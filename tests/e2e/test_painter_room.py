"""The painter with room (issue 14): full screen on a 1440×900 desktop shows the picture at least
800 px on its long side with the tools in one row above it; on a phone it fills the width; the
overlay colour can be changed; painting in full screen still makes the exact mask.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_mask_editor import drag, image_to_client, mask_alpha, open_edit_tab
from .test_studio_flow import assert_accessible_in_both_color_schemes, png_file

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
# `STUDIO_SCREENSHOTS=docs pytest -m e2e tests/e2e/test_painter_room.py` refreshes the README's pictures.
SCREENSHOTS = os.environ.get("STUDIO_SCREENSHOTS")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "has_touch": True, "is_mobile": True}


def shown_image_size(canvas, width, height):
    """The size on screen of a ``width``×``height`` picture fitted into the canvas."""
    box = canvas.bounding_box()
    scale = min(box["width"] / width, box["height"] / height)
    return width * scale, height * scale


def toolbar_rows(editor) -> int:
    """How many rows the painting's controls take (by their distinct vertical centres)."""
    return editor.get_by_role("toolbar", name="Painting tools").evaluate("""toolbar => new Set(
        Array.from(toolbar.querySelectorAll('button, input, label'))
            .filter(element => element.getClientRects().length)
            .map(element => { const r = element.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 4); })
    ).size""")


def overlay_pixel(canvas, x, y):
    """The canvas's colour (RGBA) at the page point (x, y)."""
    return canvas.evaluate("""(canvas, [x, y]) => {
        const rect = canvas.getBoundingClientRect(), ratio = canvas.width / rect.width;
        return Array.from(canvas.getContext('2d').getImageData(
            Math.round((x - rect.left) * ratio), Math.round((y - rect.top) * ratio), 1, 1).data);
    }""", [x, y])


@pytest.mark.parametrize("size", [(1024, 1024), (1536, 1024), (1024, 1536)])
def test_on_a_desktop_full_screen_paints_the_picture_large_with_the_tools_in_one_row(
        open_page, designer, console_errors, tmp_path, size):
    page = open_page(**DESKTOP)
    png_file(tmp_path / "wall.png", size=size, color=(200, 30, 30, 255))  # red: the default overlay vanishes
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_have_attribute("data-width", str(size[0]))
    canvas = editor.get_by_role("application", name="Painting canvas")

    editor.get_by_role("button", name="Full screen").click()
    expect(editor).to_have_class("mask-editor is-focus")
    expect(editor.get_by_role("button", name="Full screen")).to_have_attribute("aria-pressed", "true")
    expect(canvas).to_be_focused()
    assert max(shown_image_size(canvas, *size)) >= 800
    assert toolbar_rows(editor) == 1
    assert editor.get_by_role("toolbar", name="Painting tools").evaluate(
        "toolbar => toolbar.scrollWidth <= toolbar.clientWidth")  # all of it in view, nothing scrolled away
    # Behind it the page is out of reach: Tab stays among the painting's controls.
    assert page.locator("#generate-form, .topbar, .jobs-panel").evaluate_all(
        "elements => elements.every(element => element.closest('[inert]'))")
    if size == (1024, 1024):
        assert_accessible_in_both_color_schemes(page)

    # Paint in full screen: the mask is exact, in the picture's own pixels.
    to_client = image_to_client(canvas, *size)
    editor.get_by_role("button", name="Rectangle").click()
    drag(page, to_client, [(size[0] // 4, size[1] // 4), (size[0] // 2, size[1] // 2)])
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, size[0] // 3, size[1] // 3) == ["mask.png", *size, 0]
    assert mask_alpha(page, size[0] - 10, size[1] - 10)[3] == 255

    # The overlay colour: a red picture is painted over in another colour, remembered next time.
    inside = to_client(size[0] // 3, size[1] // 3)
    red_overlay = overlay_pixel(canvas, *inside)
    editor.get_by_label("Colour").fill("#00c8ff")
    blue_overlay = overlay_pixel(canvas, *inside)
    assert blue_overlay[2] > red_overlay[2] + 80, (red_overlay, blue_overlay)
    assert mask_alpha(page, size[0] // 3, size[1] // 3)[3] == 0  # the mask itself is unchanged
    assert page.evaluate("localStorage.getItem('studio.maskColour')") == "#00c8ff"
    if SCREENSHOTS and size == (1536, 1024):
        page.emulate_media(color_scheme="light")
        page.screenshot(path=Path(SCREENSHOTS) / "painter-full-screen.png")

    # Escape gives the page back, the painting kept.
    canvas.focus()
    page.keyboard.press("Escape")
    expect(editor).to_have_class("mask-editor")
    expect(editor.get_by_role("button", name="Full screen")).to_be_focused()
    expect(editor.get_by_role("button", name="Full screen")).to_have_attribute("aria-pressed", "false")
    assert page.locator("[inert]").count() == 0
    expect(editor).to_have_attribute("data-mask", "set")
    # Shift+F opens it again from the keyboard.
    canvas.focus()
    page.keyboard.press("Shift+F")
    expect(editor).to_have_class("mask-editor is-focus")
    expect(editor.get_by_label("Colour")).to_have_value("#00c8ff")
    assert console_errors == []


def test_on_a_phone_the_painting_fills_the_width_inline_and_full_screen(open_page, designer, console_errors, tmp_path):
    page = open_page(**PHONE)
    png_file(tmp_path / "wall.png", size=(1536, 1024))
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_have_attribute("data-width", "1536")
    canvas = editor.get_by_role("application", name="Painting canvas")
    canvas.scroll_into_view_if_needed()
    assert canvas.bounding_box()["width"] >= 360  # the composer's edges, not its padding

    editor.get_by_role("button", name="Full screen").tap()
    expect(editor).to_have_class("mask-editor is-focus")
    box = canvas.bounding_box()
    assert box["x"] == 0 and box["width"] == 390
    assert shown_image_size(canvas, 1536, 1024)[0] >= 389
    toolbar = editor.get_by_role("toolbar", name="Painting tools")
    assert toolbar.evaluate("t => t.getBoundingClientRect().right <= 390 && t.getBoundingClientRect().left >= 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / "painter-phone.png", scale="css")

    editor.get_by_role("button", name="Full screen").tap()
    expect(editor).to_have_class("mask-editor")
    assert console_errors == []


@pytest.mark.skipif(not SCREENSHOTS, reason="set STUDIO_SCREENSHOTS=docs to refresh the README's pictures")
def test_readme_screenshots_of_the_painter(open_page, designer, console_errors):
    """The README's pictures of the painter: full screen on a desktop with a mask being painted, and
    the painting on a phone."""
    from .test_edit_inputs import gallery_image

    image = gallery_image(designer, prompt="A harbour at dusk, boats and a lighthouse", size="1536x1024")
    for name, options in (("painter-full-screen.png", DESKTOP), ("painter-phone.png", PHONE)):
        page = open_page(**options)
        page.emulate_media(color_scheme="light")
        from .test_studio_flow import log_in

        log_in(page, designer)
        page.goto(f"/?edit={image.pk}")
        editor = page.locator("#edit-form [data-mask-editor]")
        expect(editor).to_have_attribute("data-width", "1536")
        canvas = editor.get_by_role("application", name="Painting canvas")
        if options is DESKTOP:
            editor.get_by_role("button", name="Full screen").click()
            expect(editor).to_have_class("mask-editor is-focus")
            assert max(shown_image_size(canvas, 1536, 1024)) >= 800
            editor.get_by_label("Colour").fill("#00c8ff")
            editor.get_by_role("button", name="Lasso").click()
            drag(page, image_to_client(canvas, 1536, 1024),
                 [(900, 300), (1150, 280), (1250, 600), (1000, 700), (880, 520), (900, 310)])
        else:
            from .test_mask_tools import Fingers

            editor.get_by_role("button", name="Rectangle").tap()
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            fingers = Fingers(page)
            for k in range(6):
                fingers.touch((box["x"] + box["width"] * (0.55 + k * 0.05),
                               box["y"] + box["height"] * (0.3 + k * 0.08)))
            fingers.lift_all()
            editor.evaluate("el => el.scrollIntoView({block: 'center'})")
        expect(editor).to_have_attribute("data-mask", "set")
        page.screenshot(path=Path(SCREENSHOTS) / name, scale="css")
    assert console_errors == []
