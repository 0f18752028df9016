"""Painting a mask in the browser (static/js/mask-editor.js): strokes and rectangles with real
pointer events, undo, the mask sent as a PNG of the first image's size, and images added by
paste and by drag and drop. Jobs run in the real worker on the offline emulator, which repaints
exactly the mask's fully transparent pixels.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image as PILImage

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in, mask_file, png_file, submit_edit

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

COLOR = (40, 110, 200, 255)


def open_edit_tab(page, designer):
    log_in(page, designer)
    page.get_by_role("tab", name="Edit").click()
    form = page.locator("#edit-form")
    expect(form).to_be_visible()
    expect(form).to_have_attribute("data-mask-editor", "ready")
    return form


def image_to_client(canvas, width=1024, height=1024):
    """Where a pixel of the (fitted, centred) image is on the page."""
    box = canvas.bounding_box()
    scale = min(box["width"] / width, box["height"] / height)
    left = box["x"] + (box["width"] - width * scale) / 2
    top = box["y"] + (box["height"] - height * scale) / 2
    return lambda x, y: (left + x * scale, top + y * scale)


def drag(page, to_client, points):
    page.mouse.move(*to_client(*points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*to_client(*point), steps=8)
    page.mouse.up()


def mask_alpha(page, x, y):
    """The alpha of the mask file now in the form's mask input at (x, y); None if there is none."""
    return page.evaluate("""async ([x, y]) => {
        const file = document.querySelector('#edit-form input[name=mask]').files[0];
        if (!file) return null;
        const bitmap = await createImageBitmap(file);
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext('2d');
        context.drawImage(bitmap, 0, 0);
        return [file.name, bitmap.width, bitmap.height, context.getImageData(x, y, 1, 1).data[3]];
    }""", [x, y])


def test_paint_a_mask_undo_a_stroke_and_only_the_painted_area_changes(
        page, worker, designer, console_errors, tmp_path):
    from gallery.models import Image, InputImage

    png_file(tmp_path / "wall.png", color=COLOR)
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")

    editor = form.locator("[data-mask-editor]")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("mask applies to it")
    expect(editor).to_have_attribute("data-width", "1024")
    canvas = editor.get_by_role("application", name="Painting canvas")
    expect(canvas).to_be_visible()

    # A rectangle in the centre, then a brush stroke near the bottom, which is undone.
    editor.get_by_role("button", name="Rectangle").click()
    expect(editor.get_by_role("button", name="Rectangle")).to_have_attribute("aria-pressed", "true")
    canvas.scroll_into_view_if_needed()  # the click may have scrolled the toolbar into view
    to_client = image_to_client(canvas)
    drag(page, to_client, [(384, 384), (512, 512), (640, 640)])
    expect(editor.get_by_role("button", name="Undo")).to_be_enabled()
    expect(editor).to_have_attribute("data-mask", "set")
    page.keyboard.press("b")  # the canvas has the focus: shortcuts work
    expect(editor.get_by_role("button", name="Brush")).to_have_attribute("aria-pressed", "true")
    to_client = image_to_client(canvas)
    drag(page, to_client, [(120, 900), (200, 900), (300, 900)])
    expect(editor).to_have_attribute("data-mask", "set")
    expect(editor).to_have_attribute("data-mask", "set")  # the painted mask is in the form's mask input
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 0]
    assert mask_alpha(page, 200, 900)[3] == 0
    assert mask_alpha(page, 50, 50)[3] == 255

    editor.get_by_role("button", name="Undo").click()
    expect(editor.get_by_role("button", name="Redo")).to_be_enabled()
    expect(editor).to_have_attribute("data-mask", "set")
    # The mask in the form follows the undo: the stroke's pixels are opaque again, the rectangle stays.
    assert mask_alpha(page, 200, 900)[3] == 255
    assert mask_alpha(page, 512, 512)[3] == 0

    submit_edit(page, form, "A round window in the middle of the wall")

    mask = InputImage.objects.get(role=InputImage.Role.MASK)
    with mask.file.open("rb") as stored:
        stored_mask = PILImage.open(stored)
        stored_mask.load()
    assert stored_mask.size == (1024, 1024)
    alpha = stored_mask.convert("RGBA").getchannel("A")
    for point in [(512, 512), (400, 400), (620, 620)]:
        assert alpha.getpixel(point) == 0, point
    for point in [(200, 900), (50, 50), (1000, 1000), (300, 512), (720, 512)]:
        assert alpha.getpixel(point) == 255, point

    image = Image.objects.get()
    with image.file.open("rb") as stored:
        result = PILImage.open(stored)
        result.load()
    assert result.size == (1024, 1024)
    result = result.convert("RGBA")
    changed = [point for point in [(512, 512), (420, 420), (600, 600)] if result.getpixel(point) != COLOR]
    assert changed, "nothing changed inside the painted rectangle"
    for point in [(200, 900), (10, 10), (1010, 1010), (300, 512), (720, 512), (512, 300), (512, 720)]:
        assert result.getpixel(point) == COLOR, point

    assert console_errors == []


PASTE = """async (name) => {
    const canvas = new OffscreenCanvas(64, 48);
    const context = canvas.getContext('2d');
    context.fillStyle = '#c04020';
    context.fillRect(0, 0, 64, 48);
    const blob = await canvas.convertToBlob({type: 'image/png'});
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, {type: 'image/png'}));
    const event = new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true});
    document.body.dispatchEvent(event);
}"""

DROP = """async (name) => {
    const canvas = new OffscreenCanvas(64, 48);
    const context = canvas.getContext('2d');
    context.fillStyle = '#20a040';
    context.fillRect(0, 0, 64, 48);
    const blob = await canvas.convertToBlob({type: 'image/png'});
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, {type: 'image/png'}));
    const target = document.querySelector('#edit-form textarea');
    for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }
}"""


def test_paste_and_drop_add_input_images_and_the_open_editor_is_accessible(page, designer, console_errors):
    form = open_edit_tab(page, designer)
    image_input = form.get_by_label("Input images")

    page.evaluate(PASTE, "pasted.png")
    names = form.locator("[data-input-list] [data-input-name]")
    expect(names).to_have_text(["pasted.png"])
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("data-width", "64")
    expect(editor).to_contain_text("pasted.png")

    page.evaluate(DROP, "dropped.png")
    expect(names).to_have_text(["pasted.png", "dropped.png"])
    assert image_input.evaluate("input => Array.from(input.files, file => file.name)") == ["pasted.png", "dropped.png"]
    expect(editor).to_contain_text("pasted.png")  # the mask still applies to the first

    assert_accessible_in_both_color_schemes(page)

    page.set_viewport_size({"width": 390, "height": 844})
    canvas = editor.get_by_role("application", name="Painting canvas")
    expect(canvas).to_be_visible()
    assert canvas.bounding_box()["width"] <= 390
    # The form and the editor fit (the top bar is not this test's business).
    assert form.evaluate("form => form.getBoundingClientRect().right") <= 390
    assert editor.evaluate("""editor => editor.getBoundingClientRect().right <= 390
        && editor.scrollWidth <= editor.clientWidth
        && Array.from(editor.querySelectorAll('*')).every(e => e.getBoundingClientRect().right <= 390)""")

    assert console_errors == []


def test_an_uploaded_mask_loads_to_be_refined_and_survives_a_refused_submit(
        page, designer, console_errors, tmp_path):
    from studio.models import Job

    png_file(tmp_path / "wall.png", color=COLOR)
    mask_file(tmp_path / "hole.png")  # transparent from (256, 256) to (768, 768)
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    form.locator("input[name=mask]").set_input_files(tmp_path / "hole.png")
    editor = form.locator("[data-mask-editor]")
    expect(editor.locator("[data-status]")).to_contain_text("Loaded the mask hole.png")

    canvas = editor.get_by_role("application", name="Painting canvas")
    canvas.focus()
    page.keyboard.press("i")  # invert: everything but the hole
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 255]
    assert mask_alpha(page, 50, 50)[3] == 0
    page.keyboard.press("Control+z")
    expect(editor.get_by_role("button", name="Redo")).to_be_enabled()
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 512, 512)[3] == 0
    assert mask_alpha(page, 50, 50)[3] == 255

    # No prompt: the server refuses; the new form gets the files back and a working editor.
    form.get_by_role("button", name="Edit").click()
    expect(page.locator("#edit-form .field-prompt .error")).to_be_visible()
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-mask-editor", "ready")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("data-width", "1024")
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 0]
    assert not Job.objects.exists()

    assert console_errors == []


def test_editing_a_gallery_image_paints_on_it_at_its_full_size(page, designer, console_errors):
    from studio import services

    job = services.job_submit_generation(user=designer, request={
        "model": "gpt-image-2", "prompt": "A plain wall", "n": 1, "size": "1536x1024", "quality": "low",
        "output_format": "png"})
    services.job_run(job_id=job.pk)
    image = job.images.get()

    log_in(page, designer)
    page.goto(f"/?edit={image.pk}")
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-mask-editor", "ready")
    editor = form.locator("[data-mask-editor]")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("data-width", "1536")  # the original, not its thumbnail
    expect(editor).to_have_attribute("data-height", "1024")
    canvas = editor.get_by_role("application", name="Painting canvas")
    canvas.scroll_into_view_if_needed()
    to_client = image_to_client(canvas, 1536, 1024)
    drag(page, to_client, [(700, 500), (760, 520), (820, 540)])
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 760, 520) == ["mask.png", 1536, 1024, 0]
    assert mask_alpha(page, 100, 100)[3] == 255

    assert console_errors == []


def test_fixing_a_failed_edit_refines_its_kept_mask_or_drops_it(page, worker, designer, console_errors, tmp_path):
    from gallery.models import InputImage
    from studio.models import Job

    png_file(tmp_path / "wall.png", color=COLOR)
    mask_file(tmp_path / "hole.png")  # transparent from (256, 256) to (768, 768)
    form = open_edit_tab(page, designer)
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    form.locator("input[name=mask]").set_input_files(tmp_path / "hole.png")
    card = submit_edit(page, form, "A round window [[fault:insufficient_quota]]", status="Failed")
    failed = Job.objects.get()

    card.get_by_role("link", name="Fix and resubmit").click()
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-mask-editor", "ready")
    editor = form.locator("[data-mask-editor]")
    expect(editor.locator("[data-status]")).to_have_text("Loaded the earlier edit's mask to refine.")
    expect(editor.get_by_role("button", name="Undo")).to_be_disabled()  # the starting point, not a step
    assert mask_alpha(page, 512, 512) is None  # nothing uploaded yet: the kept mask is what would go

    # Clearing drops the kept mask too; undoing brings it back, now as a painted mask.
    canvas = editor.get_by_role("application", name="Painting canvas")
    canvas.focus()
    page.keyboard.press("x")
    expect(editor).to_have_attribute("data-mask", "none")
    expect(form.locator("input[name=mask_image]")).to_be_disabled()
    expect(form.locator(".kept-mask")).to_have_class(re.compile(r"\bis-dropped\b"))
    page.keyboard.press("Control+z")
    expect(editor).to_have_attribute("data-mask", "set")
    expect(form.locator("input[name=mask_image]")).to_be_enabled()

    # A stroke near the bottom adds to the hole.
    canvas.scroll_into_view_if_needed()
    drag(page, image_to_client(canvas), [(100, 900), (200, 900), (300, 900)])
    expect(editor).to_have_attribute("data-mask", "set")
    assert mask_alpha(page, 512, 512) == ["mask.png", 1024, 1024, 0]
    assert mask_alpha(page, 200, 900)[3] == 0 and mask_alpha(page, 50, 50)[3] == 255

    submit_edit(page, form, "A round window")
    again = Job.objects.exclude(pk=failed.pk).get()
    assert again.mask_id != failed.mask_id
    with again.mask.file.open("rb") as stored:
        alpha = PILImage.open(stored).convert("RGBA").getchannel("A")
    assert alpha.getpixel((512, 512)) == 0 and alpha.getpixel((200, 900)) == 0 and alpha.getpixel((50, 50)) == 255
    assert InputImage.objects.filter(role=InputImage.Role.MASK).count() == 2

    assert console_errors == []
