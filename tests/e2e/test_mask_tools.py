"""The mask editor's lasso and its two-finger pinch on touch screens (static/js/mask-editor.js),
with real pointer events: the mouse through Playwright, fingers through the DevTools protocol's
touch events (a context with ``has_touch``, so Chromium turns them into touch pointer events).

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_mask_editor import drag, image_to_client, mask_alpha, open_edit_tab
from .test_studio_flow import png_file

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def open_editor_on_a_picture(page, designer, tmp_path):
    """The edit tab with a 1024×1024 input image: its mask editor and the editor's canvas."""
    png_file(tmp_path / "wall.png")
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_have_attribute("data-width", "1024")
    return editor, editor.get_by_role("application", name="Painting canvas")


def canvas_in_view(canvas):
    """Scrolls the whole canvas into view (clicking a toolbar button above it may have scrolled it
    away) and gives where image pixels are on the page now."""
    canvas.scroll_into_view_if_needed()
    return image_to_client(canvas)


def test_the_lasso_fills_the_polygon_drawn_and_undo_takes_it_back(page, designer, console_errors, tmp_path):
    editor, canvas = open_editor_on_a_picture(page, designer, tmp_path)
    lasso = editor.get_by_role("button", name="Lasso")
    undo = editor.get_by_role("button", name="Undo")

    canvas.focus()
    page.keyboard.press("l")
    expect(lasso).to_have_attribute("aria-pressed", "true")
    expect(editor.get_by_role("button", name="Brush")).to_have_attribute("aria-pressed", "false")

    # A lasso of no area (out along a line and back) paints nothing and leaves no undo step.
    drag(page, canvas_in_view(canvas), [(200, 200), (600, 600), (200, 200)])
    expect(undo).to_be_disabled()
    expect(editor).not_to_have_attribute("data-mask", re.compile(".*"))

    # The button chooses it too; then a right triangle, its right angle at the top left.
    editor.get_by_role("button", name="Brush").click()
    lasso.click()
    expect(lasso).to_have_attribute("aria-pressed", "true")
    drag(page, canvas_in_view(canvas), [(300, 300), (700, 300), (300, 700), (300, 320)])
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 400, 400) == ["mask.png", 1024, 1024, 0]
    assert mask_alpha(page, 320, 650)[3] == 0
    # Inside the triangle's bounding box but across its long side, and outside the box.
    for outside in [(650, 650), (600, 500), (100, 100), (900, 900), (500, 250)]:
        assert mask_alpha(page, *outside)[3] == 255, outside

    canvas.focus()
    page.keyboard.press("Control+z")
    expect(editor).to_have_attribute("data-mask", "none")
    assert mask_alpha(page, 400, 400) is None  # the form sends no mask at all
    expect(undo).to_be_disabled()

    page.keyboard.press("Control+Shift+z")
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 400, 400)[3] == 0

    # Fill (F) paints the whole image; undo goes back to the triangle alone.
    page.keyboard.press("f")
    expect(editor.locator("[data-status]")).to_have_text("Whole image painted.")
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 0, 0)[3] == 0 and mask_alpha(page, 1023, 1023)[3] == 0
    page.keyboard.press("Control+z")
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 1023, 1023)[3] == 255 and mask_alpha(page, 400, 400)[3] == 0

    assert console_errors == []


# ---- Touch ------------------------------------------------------------------------------------

class Fingers:
    """Fingers on the touch screen, through the DevTools protocol. ``touch`` gives where each finger
    down now is (the n-th point is finger n): Chromium presses the new ones, moves the others and
    lifts those left out, one pointer event each. Its touchStart only begins a touch sequence with no
    finger down and its touchEnd lifts them all, so later fingers come and go with touchMove."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.down = False

    def touch(self, *points):
        self.cdp.send("Input.dispatchTouchEvent", {
            "type": "touchMove" if self.down else "touchStart",
            "touchPoints": [{"x": x, "y": y, "id": finger} for finger, (x, y) in enumerate(points)],
        })
        self.down = True

    def lift_all(self):
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        self.down = False


def zoom_percent(editor):
    text = editor.locator("[data-status]").text_content()
    match = re.search(r"Zoom (\d+)%", text)
    assert match, f"no zoom in the status: {text!r}"
    return int(match.group(1))


def test_two_fingers_pinch_zoom_and_pan_without_painting_and_one_finger_paints(
        touch_page, designer, console_errors, tmp_path):
    page = touch_page
    editor, canvas = open_editor_on_a_picture(page, designer, tmp_path)
    to_client = canvas_in_view(canvas)
    box = canvas.bounding_box()
    fitted_scale = min(box["width"], box["height"]) / 1024
    fingers = Fingers(page)

    # The first finger lands on the image's centre and starts a brush stroke; the second lands at
    # once: a pinch. The fingers spread from 40 to 240 px apart (six times the zoom) while their
    # midpoint moves down right by 45 image pixels each way at that zoom.
    start_x, start_y = to_client(512, 512)
    pan_x = pan_y = 45 * 6 * fitted_scale
    fingers.touch((start_x - 20, start_y))
    fingers.touch((start_x - 20, start_y), (start_x + 20, start_y))
    for step in range(1, 11):
        half_spread = 20 + 10 * step
        mid_x, mid_y = start_x + pan_x * step / 10, start_y + pan_y * step / 10
        fingers.touch((mid_x - half_spread, mid_y), (mid_x + half_spread, mid_y))
    fingers.touch((mid_x - half_spread + 30, mid_y))  # one finger lifts; the other moves, painting nothing
    fingers.lift_all()

    expect(editor.locator("[data-status]")).to_contain_text("Zoom")
    assert zoom_percent(editor) > 4 * 100 * fitted_scale  # six times the fitted view, give or take rounding
    # No stray dot from the stroke the first finger began: no paint, no undo step.
    expect(editor.get_by_role("button", name="Undo")).to_be_disabled()
    expect(editor).not_to_have_attribute("data-mask", re.compile(".*"))
    assert mask_alpha(page, 512, 512) is None

    # One finger paints with the brush (48 px wide). The pinch kept the image's centre under the
    # fingers' midpoint: a dab there paints the centre, not where the unpanned view would put it
    # (64 image pixels away, past the brush's reach).
    fingers.touch((mid_x, mid_y))
    fingers.touch((mid_x + 3, mid_y))
    fingers.lift_all()
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 0]
    for away in [(562, 512), (512, 562), (462, 462), (100, 100)]:
        assert mask_alpha(page, *away)[3] == 255, away
    expect(editor.get_by_role("button", name="Undo")).to_be_enabled()

    assert console_errors == []
