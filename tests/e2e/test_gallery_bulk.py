"""Bulk work on the gallery in a real browser: check a tile, shift-check a range, add the range to a
collection, download a zip of a selection, move an image to the trash; the collections page; and the
image page's arrow keys.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re
import zipfile

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PROMPT = "Harbour study {number}, gouache on grey paper"


def make_images(user, count: int) -> list:
    """``count`` images made by the emulator, oldest first (the grid shows them newest first)."""
    from studio import services

    images = []
    for number in range(1, count + 1):
        job = services.job_submit_generation(user=user, request={
            "model": "gpt-image-2", "prompt": PROMPT.format(number=number), "n": 1, "size": "1024x1024",
            "quality": "low", "output_format": "png"})
        services.job_run(job_id=job.pk)
        images.append(job.images.get())
    return images


def checkboxes(page):
    return page.locator("#grid").get_by_role("checkbox", name=re.compile(r"^Select image: "))


def tile_prompts(page) -> list[str]:
    return [text.strip() for text in page.locator("#grid .tile-caption").all_inner_texts()]


@pytest.fixture
def gallery(designer):
    from gallery import services as gallery_services
    from teams.services import personal_space

    images = make_images(designer, 6)
    collection = gallery_services.collection_create(space=personal_space(user=designer), user=designer,
                                                    name="Harbour board")
    return images, collection


def test_select_a_range_collect_it_zip_two_and_trash_one(page, designer, gallery, console_errors):
    from gallery.models import Image

    images, collection = gallery
    newest_first = list(reversed(images))
    log_in(page, designer)
    page.goto("/gallery/")
    expect(page.locator("#grid .tile")).to_have_count(6)
    bar = page.get_by_role("region", name="Selected images")
    expect(bar).to_be_hidden()  # nothing chosen yet

    boxes = checkboxes(page)
    expect(boxes.first).to_have_accessible_name(f"Select image: {PROMPT.format(number=6)}")
    boxes.nth(0).click()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 selected")
    boxes.nth(3).click(modifiers=["Shift"])  # the range from the first to the fourth
    expect(bar).to_contain_text("4 selected")
    assert [boxes.nth(i).is_checked() for i in range(6)] == [True] * 4 + [False] * 2
    expect(page).to_have_url(re.compile(r"/gallery/$"))  # checking a tile never opens it
    assert_accessible_in_both_color_schemes(page)  # the grid with a selection and its bar

    bar.get_by_label("Collection to add the selected images to").select_option(label="Harbour board")
    bar.get_by_role("button", name="Add to collection").click()
    expect(page.locator(".messages")).to_contain_text("Added 4 images to “Harbour board”.")
    assert set(collection.images.values_list("pk", flat=True)) == {image.pk for image in newest_first[:4]}

    page.goto(f"/gallery/?collection={collection.pk}")
    expect(page.locator("#grid .tile")).to_have_count(4)
    expect(page.locator(".collection-banner")).to_contain_text("Harbour board")
    assert tile_prompts(page) == [image.prompt for image in newest_first[:4]]
    expect(page.locator(".collection-banner").get_by_role("link", name="Share…")).to_have_attribute(
        "href", f"/gallery/collections/#collection-{collection.pk}")

    # A selection of two, downloaded as one zip.
    page.goto("/gallery/")
    boxes = checkboxes(page)
    boxes.nth(1).click()
    boxes.nth(2).click()
    expect(bar).to_contain_text("2 selected")
    with page.expect_download() as download_info:
        bar.get_by_role("button", name="Download zip").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = archive.namelist()
        assert len(names) == 2
        assert sorted(names) == sorted(image.download_name for image in newest_first[1:3])
        with newest_first[1].file.open("rb") as stored:
            assert archive.read(newest_first[1].download_name) == stored.read()  # the originals, unchanged

    # Clear, then one to the trash, through the confirmation step.
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(bar).to_be_hidden()
    doomed = newest_first[5]
    page.get_by_role("checkbox", name=f"Select image: {doomed.prompt}").check()
    expect(bar).to_contain_text("1 selected")
    confirm = bar.get_by_role("button", name="Confirm: move to trash")
    expect(confirm).to_be_hidden()
    bar.get_by_text("Move to trash…").click()
    confirm.click()
    expect(page.locator(".messages")).to_contain_text("Moved 1 image to the trash")
    expect(page.locator("#grid .tile")).to_have_count(5)
    assert doomed.prompt not in tile_prompts(page)
    doomed.refresh_from_db()
    assert doomed.deleted_at is not None and Image.objects.alive().count() == 5

    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash", level=1)).to_be_visible()
    expect(page.locator("table")).to_contain_text(doomed.prompt)

    assert console_errors == []


def test_remove_from_a_collection_and_share_it_from_the_collections_page(page, designer, gallery, console_errors):
    from gallery import services as gallery_services
    from gallery.models import ShareLink

    images, collection = gallery
    gallery_services.collection_add(collection=collection, user=designer, images=images[:3])
    sketches = gallery_services.collection_create(space=collection.space, user=designer, name="Sketches")
    gallery_services.collection_add(collection=sketches, user=designer, images=images[:3])
    gallery_services.tags_add(images=images[:1], names=["blue hour"])
    log_in(page, designer)

    page.goto("/gallery/")
    page.get_by_role("link", name="Collections").click()
    expect(page.get_by_role("heading", name="Collections", level=1)).to_be_visible()
    assert_accessible_in_both_color_schemes(page)
    item = page.locator(f"#collection-{collection.pk}")
    item.get_by_role("link", name=re.compile("Harbour board")).click()
    expect(page).to_have_url(re.compile(rf"/gallery/\?collection={collection.pk}$"))
    expect(page.locator("#grid .tile")).to_have_count(3)

    # Tags for two, suggested from the space's tags as you type after a comma; Enter tags.
    boxes = checkboxes(page)
    remove = page.get_by_role("button", name="Remove selected from this collection")
    expect(remove).to_be_disabled()  # nothing selected yet
    boxes.nth(0).click()
    boxes.nth(1).click()
    bar = page.get_by_role("region", name="Selected images")
    tags = bar.get_by_label("Tags for the selected images, separated by commas")
    tags.press_sequentially("harbour, bl")
    expect(page.locator("#bulk-tag-names option")).to_have_count(1)
    expect(page.locator("#bulk-tag-names option")).to_have_attribute("value", "harbour, blue hour")
    tags.fill("harbour, blue hour")
    tags.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Tagged 2 images with blue hour, harbour.")
    assert sorted(images[2].tags.values_list("name", flat=True)) == ["blue hour", "harbour"]

    # In a collection's view the bar's own collection choice and the banner's both exist: removing
    # acts on the collection shown, whatever the bar's choice says.
    checkboxes(page).first.click()
    expect(remove).to_be_enabled()
    bar.get_by_label("Collection to add the selected images to").select_option(label="Sketches")
    remove.click()
    expect(page.locator(".messages")).to_contain_text("Removed from “Harbour board”.")
    expect(page.locator("#grid .tile")).to_have_count(2)
    assert collection.images.count() == 2 and sketches.images.count() == 3

    page.locator(".collection-banner").get_by_role("link", name="Share…").click()
    item = page.locator(f"#collection-{collection.pk}")
    expect(item.get_by_label("Link valid for")).to_be_visible()  # the anchor opens its share form
    item.get_by_label("Link valid for").select_option("30")
    item.get_by_label("Show prompts").check()
    item.get_by_role("button", name=re.compile("^Create link")).click()
    expect(page.locator(".messages")).to_contain_text("Share link created: ")
    link = ShareLink.objects.get(collection=collection)
    assert link.show_prompt and (link.expires_at - link.created_at).days in (29, 30)

    # A new collection, created from the same page, opens in the gallery.
    page.get_by_label("Name").fill("Night shots")
    page.get_by_role("button", name="Create collection").click()
    expect(page).to_have_url(re.compile(r"/gallery/\?collection=\d+$"))
    expect(page.locator(".collection-banner")).to_contain_text("Night shots")

    assert console_errors == []


def test_arrow_keys_step_through_the_view_but_not_while_typing(page, designer, gallery, console_errors):
    images, _ = gallery
    newest_first = list(reversed(images))
    log_in(page, designer)
    page.goto(f"/gallery/{newest_first[1].pk}/")
    expect(page.get_by_role("heading", name=f"Image {newest_first[1].pk}")).to_be_visible()

    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/gallery/{newest_first[2].pk}/$"))
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/gallery/{newest_first[1].pk}/$"))

    tags = page.get_by_label("Add tags, separated by commas")
    tags.fill("blue")
    tags.press("ArrowLeft")
    tags.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/gallery/{newest_first[1].pk}/$"))  # the arrows stayed in the field
    expect(tags).to_have_value("blue")

    assert console_errors == []
