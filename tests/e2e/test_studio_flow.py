"""A designer's day in the studio, in a real browser: log in, generate, watch the job, find the
image in the gallery and download it; edit with an uploaded image and mask; be told about a bad
size before anything is spent. Jobs run in the real worker on the offline emulator.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from PIL import Image as PILImage

from .conftest import HAS_CHROMIUM, JOB_TIMEOUT_MS, NO_CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


# ---- helpers --------------------------------------------------------------------------------

def log_in(page, user) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # the studio asks who you are first
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.raw_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Recent jobs")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))


def mark_document(page) -> None:
    """Leave a mark on this document: it survives htmx swaps, not a page load."""
    page.evaluate("window.e2eMark = 'same document'")


def same_document(page) -> bool:
    return page.evaluate("window.e2eMark") == "same document"


def wait_until_loaded(image) -> None:
    """The picture is there and decoded, not just its <img> tag (a broken file has no width)."""
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()  # thumbnails load lazily
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def serious_accessibility_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def assert_accessible_in_both_color_schemes(page) -> None:
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        # Colours ease between schemes: judge contrast once they have arrived (or after 2 s at most,
        # as a page.evaluate promise has no timeout of its own).
        page.evaluate("""() => Promise.race([
            Promise.all(document.getAnimations().filter(a => a instanceof CSSTransition)
                        .map(a => a.finished.catch(() => null))),
            new Promise(resolve => setTimeout(resolve, 2000)),
        ])""")
        assert serious_accessibility_violations(page) == [], f"axe, {scheme} scheme, {page.url}"


def submit_edit(page, form, prompt: str, *, status: str = "Succeeded"):
    """Sends the edit form at low quality (the quickest) and waits for its job's card to reach
    ``status``; gives the card."""
    form.get_by_label("Prompt").fill(prompt)
    form.get_by_label("Quality").select_option("low")
    form.get_by_role("button", name="Edit").click()
    card = page.locator("#jobs article.job", has_text=prompt).first
    expect(card.locator(".status")).to_have_text(status, timeout=JOB_TIMEOUT_MS)
    return card


def png_file(path, *, size=(1024, 1024), color=(40, 110, 200, 255)) -> bytes:
    picture = PILImage.new("RGBA", size, color)
    out = io.BytesIO()
    picture.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return out.getvalue()


def mask_file(path, *, size=(1024, 1024), hole=(256, 256, 768, 768)) -> bytes:
    """Opaque everywhere but a fully transparent rectangle: the area to edit."""
    mask = PILImage.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), hole)
    out = io.BytesIO()
    mask.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return out.getvalue()


# ---- the flows ------------------------------------------------------------------------------

def test_generate_watch_the_job_then_find_open_and_download_the_image(page, worker, designer, console_errors):
    from gallery.models import Image

    log_in(page, designer)
    assert_accessible_in_both_color_schemes(page)  # the empty studio

    form = page.locator("#generate-form")
    form.get_by_label("Prompt").fill("A lighthouse at dusk, risograph print in two inks")
    form.get_by_label("Size preset").select_option("1024x1024")
    form.get_by_label("Quality").select_option("low")
    form.get_by_label("Live previews").select_option("1")
    expect(form.locator(".size-feedback")).to_contain_text("1024×1024")  # live shape and cost
    expect(form.locator(".size-feedback")).to_contain_text("output tokens")
    mark_document(page)
    form.get_by_role("button", name="Generate").click()

    card = page.locator("#jobs article.job").first
    expect(card).to_contain_text("A lighthouse at dusk")
    expect(card.locator(".status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    expect(card.locator(".job-spec")).to_have_text("Generate · gpt-image-2 · 1024x1024 · low")
    thumbnail = card.locator(".job-images img")
    expect(thumbnail).to_have_count(1)
    wait_until_loaded(thumbnail)
    assert same_document(page), "submitting and watching the job must not reload the page"
    expect(page.locator("#generate-form").get_by_label("Prompt")).to_have_value(
        "A lighthouse at dusk, risograph print in two inks")  # kept for the next variation
    assert_accessible_in_both_color_schemes(page)  # the studio with a finished job

    image = Image.objects.get()
    assert image.created_by == designer and (image.width, image.height) == (1024, 1024)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Gallery").click()
    expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_visible()
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(1)
    expect(tiles.first).to_contain_text("A lighthouse at dusk")
    wait_until_loaded(tiles.first.locator("img"))
    assert_accessible_in_both_color_schemes(page)

    tiles.first.get_by_role("link", name=re.compile("^A lighthouse at dusk")).click()  # not its Download link
    expect(page).to_have_url(re.compile(rf"/gallery/{image.pk}/$"))
    metadata = page.locator("dl.meta")
    expect(metadata.locator("dt", has_text="Tokens")).to_be_visible()
    tokens = metadata.locator("dt:has-text('Tokens') + dd")
    assert image.output_tokens > 0
    expect(tokens).to_contain_text(f"{image.output_tokens:,} out")
    expect(tokens).to_contain_text(f"{image.input_tokens:,} in")
    cost = image.cost_usd.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)  # as the page rounds it
    assert cost > 0
    expect(metadata.locator("dt:has-text('Cost') + dd")).to_have_text(f"${cost}")
    expect(metadata.locator("dt:has-text('Size') + dd")).to_contain_text("1024×1024")
    expect(metadata.locator("dt:has-text('Quality') + dd")).to_contain_text("low")
    wait_until_loaded(page.locator(".detail-image img"))

    download = page.get_by_role("link", name="Download PNG")
    response = page.request.get(download.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("attachment")
    with image.file.open("rb") as stored:
        assert response.body() == stored.read()  # the original bytes, as the API returned them

    assert console_errors == []


def test_edit_with_an_uploaded_image_and_mask_shows_both_on_the_image_page(
        page, worker, designer, console_errors, tmp_path):
    from gallery.models import Image

    source_bytes = png_file(tmp_path / "room.png")
    mask_bytes = mask_file(tmp_path / "window-mask.png")

    log_in(page, designer)
    page.get_by_role("tab", name="Edit").click()
    form = page.locator("#edit-form")
    expect(form).to_be_visible()
    expect(page.locator("#generate-form")).to_be_hidden()

    form.get_by_label("Input images").set_input_files(tmp_path / "room.png")
    form.get_by_label("Mask").set_input_files(tmp_path / "window-mask.png")
    expect(form.locator("[data-input-list] .input-item", has_text="room.png").locator("img")).to_be_visible()
    expect(form.get_by_role("img", name="Chosen file 1: window-mask.png")).to_be_visible()
    form.get_by_label("Live previews").select_option("1")
    card = submit_edit(page, form, "Put a round window where the mask is")
    expect(card).to_contain_text("Edit ·")
    card.locator(".job-images a").first.click()

    image = Image.objects.get()
    expect(page).to_have_url(re.compile(rf"/gallery/{image.pk}/$"))
    expect(page.get_by_role("heading", name="Inputs")).to_be_visible()
    source = page.get_by_role("img", name=re.compile(r"^Input 1"))
    mask = page.get_by_role("img", name="Mask", exact=True)
    wait_until_loaded(source)
    wait_until_loaded(mask)
    # What the page shows is what was uploaded, byte for byte.
    assert page.request.get(source.get_attribute("src")).body() == source_bytes
    mask_response = page.request.get(mask.get_attribute("src"))
    assert mask_response.status == 200 and mask_response.headers["content-type"] == "image/png"
    assert mask_response.body() == mask_bytes
    expect(page.locator("dl.meta dt:has-text('Tokens') + dd")).to_contain_text(f"{image.output_tokens:,} out")

    assert console_errors == []


def test_a_bad_custom_size_is_explained_beside_the_size_and_nothing_is_created(page, worker, designer,
                                                                                 console_errors):
    from studio.models import Job

    log_in(page, designer)
    form = page.locator("#generate-form")
    form.get_by_label("Prompt").fill("A quiet harbour")
    form.get_by_label("Size preset").select_option("custom")
    form.get_by_label("Width (px)").fill("1000")
    form.get_by_label("Height (px)").fill("1000")
    feedback = form.locator(".size-feedback")
    expect(feedback).to_contain_text("Width and height must be a multiple of 16")  # while typing, before submit
    expect(form.get_by_label("Width (px)")).to_have_attribute("aria-invalid", "true")  # outlined
    expect(feedback.get_by_role("button", name="Use nearest valid size: 1008×1008")).to_be_visible()

    mark_document(page)
    form.get_by_role("button", name="Generate").click()
    form = page.locator("#generate-form")
    size_error = form.locator(".size-group .error")
    expect(size_error).to_contain_text("Width and height must be a multiple of 16 (1000 and 1000 are not).")
    expect(form.get_by_label("Width (px)")).to_have_attribute("aria-invalid", "true")  # outlined on submit too
    expect(form.get_by_label("Size preset")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Size preset")).to_be_focused()  # the keyboard is taken to what needs fixing
    expect(form.get_by_label("Width (px)")).to_have_value("1000")  # values kept to correct
    expect(form.get_by_label("Prompt")).to_have_value("A quiet harbour")
    assert same_document(page), "the error must come back without a page load"
    expect(page.locator("#jobs article.job")).to_have_count(0)
    assert not Job.objects.exists()

    assert console_errors == []
