"""The edit form's inputs in a real browser (static/js/edit-inputs.js): files and gallery images
in one list, picked from the gallery in a dialog, reordered by dragging and with the arrow
buttons, removed; the job receives them in the order shown, and the mask editor paints over
whichever is first.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in, png_file, submit_edit

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def gallery_image(user, *, prompt: str, size: str = "1024x1024"):
    from studio import services

    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": size, "quality": "low", "output_format": "png"})
    services.job_run(job_id=job.pk)
    return job.images.get()


def input_names(form) -> list[str]:
    return form.locator("[data-input-list] [data-input-name]").all_inner_texts()


def tokens(form) -> list[str]:
    return form.locator("[data-input-list] input[name=inputs]").evaluate_all("inputs => inputs.map(i => i.value)")


def drag_thumbnail(page, source, target) -> None:
    """Press on one thumbnail and let go over the left half of another, with real pointer events."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] * 0.25, end["y"] + end["height"] / 2, steps=10)
    page.mouse.up()


def test_pick_from_the_gallery_reorder_remove_and_the_job_gets_them_in_order(
        page, worker, designer, django_user_model, console_errors, tmp_path):
    from studio.models import Job

    harbour = gallery_image(designer, prompt="A harbour at dawn", size="1536x1024")
    gallery_image(designer, prompt="A lighthouse in fog")
    stranger = django_user_model.objects.create_user("someone", "someone@example.com", "pw-someone-else")
    gallery_image(stranger, prompt="A secret garden")
    png_file(tmp_path / "wall.png")
    png_file(tmp_path / "floor.png", color=(200, 60, 40, 255))

    log_in(page, designer)
    page.get_by_role("tab", name="Edit").click()
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-inputs", "ready")
    form.get_by_label("Input images").set_input_files(tmp_path / "wall.png")
    expect(form.locator("[data-inputs-count]")).to_have_text("1 of 16")
    # A second choice in the file picker adds to the first instead of replacing it.
    form.get_by_label("Input images").set_input_files(tmp_path / "floor.png")
    expect(form.locator("[data-inputs-count]")).to_have_text("2 of 16")
    assert input_names(form) == ["wall.png", "floor.png"]
    editor = form.locator("[data-mask-editor]")
    expect(editor.locator("[data-base-name]")).to_contain_text("wall.png")

    form.get_by_role("link", name="Pick from gallery").click()
    dialog = page.get_by_role("dialog", name="Pick from the gallery")
    expect(dialog).to_be_visible()
    harbour_tile = dialog.get_by_role("button", name="A harbour at dawn")
    expect(harbour_tile).to_have_attribute("aria-pressed", "false")
    expect(dialog.get_by_role("button", name="A lighthouse in fog")).to_be_visible()
    expect(dialog).not_to_contain_text("A secret garden")  # another person's image
    dialog.get_by_role("searchbox", name="Search prompts").fill("harbour")
    expect(dialog.get_by_role("button", name="A lighthouse in fog")).to_have_count(0)
    harbour_tile = dialog.get_by_role("button", name="A harbour at dawn")
    harbour_tile.click()
    expect(harbour_tile).to_have_attribute("aria-pressed", "true")
    expect(dialog.locator("[data-pick-status]")).to_have_text("3 of 16 inputs chosen.")
    assert_accessible_in_both_color_schemes(page)
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    assert tokens(form) == ["upload:0", "upload:1", f"gallery:{harbour.pk}"]

    # Drag the gallery image to the front: the mask now applies to it, at its full size.
    items = form.locator("[data-input-list] > li")
    drag_thumbnail(page, items.nth(2).locator(".input-frame"), items.nth(0).locator(".input-frame"))
    assert tokens(form) == [f"gallery:{harbour.pk}", "upload:0", "upload:1"]
    expect(items.nth(0).locator(".input-first")).to_be_visible()
    expect(items.nth(1).locator(".input-first")).to_be_hidden()
    expect(editor).to_have_attribute("data-width", "1536")
    expect(page.locator("#announcer")).to_contain_text("1 of 3, the mask applies to it")

    # The arrows: floor.png one place earlier; then wall.png goes, and floor.png's file moves up.
    form.get_by_role("button", name="Move earlier: floor.png").click()
    assert input_names(form) == [harbour.prompt, "floor.png", "wall.png"]
    form.get_by_role("button", name="Remove: wall.png").click()
    assert tokens(form) == [f"gallery:{harbour.pk}", "upload:0"]
    assert form.get_by_label("Input images").evaluate("input => Array.from(input.files, f => f.name)") == ["floor.png"]
    expect(form.locator("[data-inputs-count]")).to_have_text("2 of 16")

    submit_edit(page, form, "Put the harbour on the floor")
    job = Job.objects.get(kind=Job.Kind.EDIT)
    links = list(job.job_inputs.select_related("input_image"))
    assert [link.input_image.source_image_id for link in links] == [harbour.pk, None]
    assert links[1].input_image.original_name == "floor.png"
    # The form kept its inputs, in order, ready for the next variation.
    form = page.locator("#edit-form")
    expect(form.locator("[data-inputs-count]")).to_have_text("2 of 16")
    assert input_names(form) == [harbour.prompt, "floor.png"]

    assert console_errors == []


def test_the_keyboard_reorders_and_a_refused_submit_keeps_the_order(page, designer, console_errors, tmp_path):
    from studio.models import Job

    files = [tmp_path / "one.png", tmp_path / "two.png", tmp_path / "three.png"]
    for path, grey in zip(files, (10, 90, 180), strict=True):
        png_file(path, color=(grey, grey, grey, 255))
    log_in(page, designer)
    page.get_by_role("tab", name="Edit").click()
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-inputs", "ready")
    form.get_by_label("Input images").set_input_files(files)
    expect(form.get_by_role("button", name="Move earlier: one.png")).to_be_disabled()
    expect(form.get_by_role("button", name="Move later: three.png")).to_be_disabled()

    form.get_by_role("button", name="Move later: one.png").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # at the end now; the focus moved to its other arrow
    assert input_names(form) == ["two.png", "three.png", "one.png"]
    expect(form.get_by_role("button", name="Move earlier: one.png")).to_be_focused()

    form.get_by_role("button", name="Edit").click()  # no prompt: refused
    expect(page.locator("#edit-form .field-prompt .error")).to_be_visible()
    form = page.locator("#edit-form")
    expect(form).to_have_attribute("data-inputs", "ready")
    assert input_names(form) == ["two.png", "three.png", "one.png"]
    assert tokens(form) == ["upload:1", "upload:2", "upload:0"]
    expect(form.locator("[data-mask-editor] [data-base-name]")).to_contain_text("two.png")
    assert not Job.objects.exists()

    assert console_errors == []
