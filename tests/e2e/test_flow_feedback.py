"""Feedback and flow (issue 14), at desktop and phone sizes: a broken size is outlined, said plainly
and fixed with one click; "Save to" shows without scrolling; Edit from the gallery starts with an
empty prompt and the source's as the hint; pages say what they show in their titles; gallery URLs
carry only the filters in use; Cancel says "Cancelling…" at once; a job card takes its picture's shape.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import base64
import re

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM, SIZES
from .test_edit_inputs import gallery_image
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKm"
                           "MIQAAAABJRU5ErkJggg==")


def in_first_screen(locator) -> bool:
    return locator.evaluate("el => { const r = el.getBoundingClientRect(); "
                            "return r.top >= 0 && r.bottom <= innerHeight; }")


@pytest.mark.parametrize("size", SIZES)
def test_a_broken_size_is_outlined_said_plainly_and_fixed_in_one_click(
        open_page, designer, console_errors, size):
    from teams.services import team_create

    team_create(user=designer, name="Harbour")  # two places to save to: the choice shows
    page = open_page(**SIZES[size])
    log_in(page, designer)
    expect(page).to_have_title("Create an image · Studio")
    form = page.locator("#generate-form")
    if size == "desktop":
        assert in_first_screen(form.get_by_label("Save to"))
    form.get_by_label("Size preset").select_option("custom")
    form.get_by_label("Width (px)").fill("1000")
    form.get_by_label("Height (px)").fill("1024")
    feedback = form.locator(".size-feedback")
    expect(feedback).to_contain_text("Width must be a multiple of 16 (1000 is not).")
    expect(form.get_by_label("Width (px)")).to_have_attribute("aria-invalid", "true")
    assert form.get_by_label("Width (px)").evaluate("el => getComputedStyle(el).borderColor") != \
        form.get_by_label("Quality").evaluate("el => getComputedStyle(el).borderColor")
    assert_accessible_in_both_color_schemes(page)
    feedback.get_by_role("button", name="Use nearest valid size: 1008×1024").click()
    expect(form.get_by_label("Width (px)")).to_have_value("1008")
    expect(feedback).to_contain_text("1008×1024")
    expect(form.get_by_label("Width (px)")).not_to_have_attribute("aria-invalid", "true")
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_edit_from_the_gallery_starts_empty_with_the_source_prompt_as_hint(open_page, designer, console_errors, size):
    image = gallery_image(designer, prompt="A tiled kitchen wall with copper pans")
    page = open_page(**SIZES[size])
    log_in(page, designer)
    page.goto(f"/gallery/{image.pk}/")
    expect(page).to_have_title("A tiled kitchen wall with copper pans · Studio")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_title("Edit an image · Studio")
    prompt = page.locator("#edit-form").get_by_label("Prompt")
    expect(prompt).to_have_value("")
    expect(prompt).to_have_attribute("placeholder", re.compile("A tiled kitchen wall with copper pans"))
    # The file control tells the whole state: the gallery image counts, no "No file chosen".
    form = page.locator("#edit-form")
    state = form.locator("[data-inputs-state]")
    expect(state).to_have_text("1 image chosen")
    expect(state).to_have_attribute("aria-live", "polite")
    expect(form.get_by_text("Add images…", exact=True)).to_be_visible()
    file_input = form.get_by_label("Add images…")
    assert file_input.evaluate("el => el.id") == "edit-image"  # the label names the native input
    assert file_input.bounding_box()["width"] <= 1  # drawn by its label, yet focusable and operable
    expect(file_input).to_have_attribute("aria-describedby", re.compile(r"\bedit-image-state\b"))
    file_input.set_input_files([{"name": "extra.png", "mimeType": "image/png", "buffer": PNG_1PX}])
    expect(state).to_have_text("2 images chosen")
    form.get_by_role("button", name="Remove: extra.png").click()
    expect(state).to_have_text("1 image chosen")
    assert_accessible_in_both_color_schemes(page)
    assert console_errors == []


def test_gallery_urls_carry_only_the_filters_in_use(page, designer, console_errors):
    gallery_image(designer, prompt="A fox at dawn")
    gallery_image(designer, prompt="A heron")
    log_in(page, designer)
    page.goto("/gallery/")
    page.get_by_label("Search prompts").fill("fox")
    expect(page).to_have_url(re.compile(r"/gallery/\?q=fox$"))  # applied as typed, nothing else in the URL
    expect(page.locator("#grid .tile")).to_have_count(1)
    expect(page).to_have_title("“fox” in the gallery · Studio")
    page.get_by_label("Favourites only").check()
    expect(page).to_have_url(re.compile(r"/gallery/\?q=fox&favourite=on$"))
    expect(page.locator("#grid .tile")).to_have_count(0)
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_cancel_says_cancelling_at_once_and_a_card_takes_its_pictures_shape(
        open_page, designer, console_errors, size, settings):
    from studio import services

    wide = gallery_image(designer, prompt="A wide harbour", size="1536x1024")
    services.job_submit_generation(user=designer, request={  # queued: no worker runs in this test
        "model": "gpt-image-2", "prompt": "A slow one", "n": 1, "size": "1024x1024", "quality": "low"})
    page = open_page(**SIZES[size])
    log_in(page, designer)
    done = page.locator("#jobs article.job", has_text="A wide harbour")
    picture = done.locator(".job-images img")
    box = picture.bounding_box()
    assert abs(box["width"] / box["height"] - 1.5) < 0.05  # the whole picture, no bars
    assert done.locator(".job-media").evaluate(
        "m => Math.abs(m.getBoundingClientRect().height - m.querySelector('img').getBoundingClientRect().height) < 2"
    ) or size == "phone"
    expect(done).to_contain_text("Saved to your space")

    card = page.locator("#jobs article.job", has_text="A slow one")
    page.route("**/cancel/", lambda route: page.wait_for_timeout(800) or route.continue_())
    card.get_by_role("button", name="Cancel").click()
    expect(card.get_by_role("button", name="Cancelling…")).to_be_disabled(timeout=500)
    expect(page.locator("#jobs article.job", has_text="A slow one").locator(".status")).to_have_text("Cancelled")
    assert wide.pk
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_activity_links_what_it_names_in_plain_counts(open_page, designer, console_errors, size):
    from studio import services
    from teams.services import team_create

    team = team_create(user=designer, name="Harbour")
    job = services.job_submit_generation(user=designer, space=team, request={
        "model": "gpt-image-2", "prompt": "Two gulls", "n": 2, "size": "1024x1024", "quality": "low",
        "output_format": "png"})
    services.job_run(job_id=job.pk)
    first = job.images.order_by("pk").first()
    page = open_page(**SIZES[size])
    log_in(page, designer)
    page.goto(f"/teams/{team.pk}/activity/")
    expect(page).to_have_title("Activity · Harbour · Studio")
    entry = page.get_by_role("row", name=re.compile("generated 2 images"))
    entry.get_by_role("link", name=f"#{first.pk}").click()
    expect(page).to_have_url(re.compile(rf"/gallery/{first.pk}/$"))
    expect(page).to_have_title("Two gulls · Studio")
    page.go_back()
    assert_accessible_in_both_color_schemes(page)
    assert console_errors == []
