import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from gallery.models import Image
from gallery.selectors import GALLERY_PAGE_SIZE
from tests.factories import ImageFactory, generate_image

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_grid_is_newest_first_and_pages_by_cursor(alice_client, alice, settings):
    images = [ImageFactory(created_by=alice, prompt=f"picture number {i}") for i in range(5)]
    newest_first = [image.pk for image in reversed(images)]
    first = alice_client.get("/gallery/", {"page_size": "ignored"})
    assert [image.pk for image in first.context["page"].images] == newest_first
    from gallery import selectors

    page = selectors.gallery_page(user=alice, filters={}, page_size=2)
    assert [image.pk for image in page.images] == newest_first[:2] and page.previous_cursor is None
    second = selectors.gallery_page(user=alice, filters={}, cursor=page.next_cursor, page_size=2)
    assert [image.pk for image in second.images] == newest_first[2:4]
    last = selectors.gallery_page(user=alice, filters={}, cursor=second.next_cursor, page_size=2)
    assert [image.pk for image in last.images] == newest_first[4:] and last.next_cursor is None
    back = selectors.gallery_page(user=alice, filters={}, cursor=last.previous_cursor, direction="previous",
                                  page_size=2)
    assert [image.pk for image in back.images] == newest_first[2:4]
    assert selectors.gallery_page(user=alice, filters={}, cursor="not-a-cursor", page_size=2).images == page.images


def test_grid_pages_through_the_view(alice_client, alice):
    images = ImageFactory.create_batch(GALLERY_PAGE_SIZE + 2, created_by=alice)  # seeded: no worker
    first = alice_client.get("/gallery/")
    page = first.context["page"]
    assert [image.pk for image in page.images] == [i.pk for i in reversed(images)][:GALLERY_PAGE_SIZE]
    html = first.content.decode()
    assert f"/gallery/{images[-1].pk}/thumbnail/" in html and page.next_cursor in html
    second = alice_client.get("/gallery/", {"after": page.next_cursor}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in second  # just the grid, for htmx
    shown = re.findall(r'href="/gallery/(\d+)/', second)
    assert [int(pk) for pk in dict.fromkeys(shown)] == [images[1].pk, images[0].pk]


def test_empty_gallery_invites_to_create(alice_client):
    response = alice_client.get("/gallery/")
    assert response.context["page"].images == [] and "/gallery/count/" in response.content.decode()
    assert alice_client.get("/gallery/count/").content.decode().strip().startswith('<span aria-live="polite">0 images')


def test_the_count_follows_the_view_and_is_capped(alice_client, alice, monkeypatch):
    from gallery import selectors

    generate_image(alice, prompt="a red fox")
    generate_image(alice, prompt="a blue owl")
    assert "2 images" in alice_client.get("/gallery/count/").content.decode()
    assert "1 image<" in alice_client.get("/gallery/count/", {"q": "fox"}).content.decode()
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 1)
    assert "1+ images" in alice_client.get("/gallery/count/").content.decode()


def test_detail_shows_all_metadata(alice_client, alice_image):
    html = alice_client.get(f"/gallery/{alice_image.pk}/").content.decode()
    for expected in ["a quiet harbour", "gpt-image-2-2026-04-21", "1024×1024", "low", alice_image.request_id,
                     f"?remix={alice_image.pk}", f"?edit={alice_image.pk}", "196 out"]:
        assert expected in html, expected
    assert f"${alice_image.cost_usd.quantize(Decimal('0.00001'), ROUND_HALF_UP)}" in html


def test_detail_of_an_edit_links_its_inputs_and_mask(alice_client, alice_edit):
    html = alice_client.get(f"/gallery/{alice_edit.pk}/").content.decode()
    input_image = alice_edit.image_inputs.get().input_image
    assert f"/gallery/inputs/{input_image.pk}/" in html
    assert f"/gallery/inputs/{alice_edit.mask_id}/" in html
    response = alice_client.get(f"/gallery/inputs/{alice_edit.mask_id}/")
    assert response["Content-Type"] == "image/png" and _body(response)[:4] == b"\x89PNG"


def test_original_is_the_exact_bytes_and_downloads_as_a_file(alice_client, alice_image):
    with alice_image.file.open("rb") as handle:
        stored = handle.read()
    inline = alice_client.get(f"/gallery/{alice_image.pk}/original/")
    assert inline["Content-Type"] == "image/png" and _body(inline) == stored
    download = alice_client.get(f"/gallery/{alice_image.pk}/original/?download=1")
    assert download["Content-Disposition"] == f'attachment; filename="studio-{alice_image.pk}.png"'
    assert "private" in download["Cache-Control"]


def test_thumbnail_is_webp(alice_client, alice_image):
    response = alice_client.get(f"/gallery/{alice_image.pk}/thumbnail/")
    assert response["Content-Type"] == "image/webp" and _body(response)[8:12] == b"WEBP"


def test_a_missing_file_is_a_404_not_a_500(alice_client, alice_image):
    alice_image.file.storage.delete(alice_image.file.name)
    assert alice_client.get(f"/gallery/{alice_image.pk}/original/").status_code == 404


def test_there_is_no_public_media_url(alice_client, alice_image, settings):
    assert alice_client.get(f"/{settings.MEDIA_URL.strip('/')}/{alice_image.file.name}").status_code == 404
    assert alice_client.get(f"/media/{alice_image.file.name}").status_code == 404
    assert Image.objects.count() == 1


def test_the_trash_shows_thumbnails_only_to_who_may_restore(alice_client, bob_client, alice, alice_image):
    from gallery.services import images_trash

    images_trash(user=alice, images=[alice_image])
    assert alice_client.get(f"/gallery/{alice_image.pk}/").status_code == 404  # gone from the gallery
    assert alice_client.get(f"/gallery/{alice_image.pk}/original/").status_code == 404
    assert alice_client.get(f"/gallery/{alice_image.pk}/thumbnail/").status_code == 200  # for the trash page
    assert bob_client.get(f"/gallery/{alice_image.pk}/thumbnail/").status_code == 404
    assert f"/gallery/{alice_image.pk}/thumbnail/" in alice_client.get("/gallery/trash/").content.decode()


def test_job_cards_leave_out_images_moved_to_the_trash(alice_client, alice, alice_image):
    from gallery.services import images_trash

    card = alice_client.get(f"/jobs/{alice_image.job_id}/").content.decode()
    assert f"/gallery/{alice_image.pk}/thumbnail/" in card
    images_trash(user=alice, images=[alice_image])
    card = alice_client.get(f"/jobs/{alice_image.job_id}/").content.decode()
    assert f"/gallery/{alice_image.pk}/thumbnail/" not in card
    assert f"/gallery/{alice_image.pk}/thumbnail/" not in alice_client.get("/").content.decode()


def test_back_after_htmx_paging_gets_the_whole_page(alice_client, alice_image):
    grid = alice_client.get("/gallery/", HTTP_HX_REQUEST="true")
    assert "<html" not in grid.content.decode() and "HX-Request" in grid["Vary"]
    restored = alice_client.get("/gallery/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restored.content.decode()


def test_a_posted_next_may_only_lead_back_into_the_site(alice_client, alice_image):
    evil = alice_client.post(f"/gallery/{alice_image.pk}/favourite/", {"favourite": "1", "next": "https://evil.example/"})
    assert evil["Location"] == f"/gallery/{alice_image.pk}/"
    home = alice_client.post(f"/gallery/{alice_image.pk}/favourite/", {"favourite": "0", "next": "/gallery/?q=x"})
    assert home["Location"] == "/gallery/?q=x"


def test_tagging_with_nothing_typed_says_so(alice_client, alice_image):
    response = alice_client.post("/gallery/bulk/", {"action": "tag", "tags": " , ", "image": [alice_image.pk]},
                                 follow=True)
    assert "Type a tag first." in response.content.decode()
    assert not alice_image.tags.exists()


def test_collection_share_links_can_be_revoked_from_the_collections_page(alice_client, alice, alice_image):
    from gallery.services import collection_create, share_link_create

    collection = collection_create(space=alice_image.space, user=alice, name="Board")
    link = share_link_create(user=alice, target=collection, days=7, show_prompt=False)
    page = alice_client.get("/gallery/collections/").content.decode()
    assert f"/gallery/share/{link.pk}/revoke/" in page and f"/s/{link.token}/" in page


def test_an_image_joins_and_leaves_a_collection_from_its_page(alice_client, alice, alice_image):
    from gallery.services import collection_create

    board = collection_create(space=alice_image.space, user=alice, name="Moodboard")
    page = alice_client.get(f"/gallery/{alice_image.pk}/").content.decode()
    assert 'id="add-to-collection"' in page and "Moodboard" in page
    alice_client.post("/gallery/bulk/", {"action": "collect", "collection": board.pk, "image": alice_image.pk,
                                         "next": f"/gallery/{alice_image.pk}/"})
    assert list(board.images.all()) == [alice_image]
    page = alice_client.get(f"/gallery/{alice_image.pk}/").content.decode()
    assert 'aria-label="Remove from Moodboard"' in page
    alice_client.post("/gallery/bulk/", {"action": "uncollect", "collection": board.pk, "image": alice_image.pk})
    assert not board.images.exists()


def test_purging_keeps_a_file_another_image_still_uses(alice, django_capture_on_commit_callbacks):
    from gallery.services import images_purge

    first = generate_image(alice, prompt="shared file")
    twin = Image.objects.get(pk=first.pk)
    twin.pk = None
    twin.save()  # a second row on the same files, as seeded galleries have
    with django_capture_on_commit_callbacks(execute=True):
        images_purge(user=alice, images=[first])
    assert twin.file.storage.exists(twin.file.name) and twin.thumbnail.storage.exists(twin.thumbnail.name)
    with django_capture_on_commit_callbacks(execute=True):
        images_purge(user=alice, images=[Image.objects.get(pk=twin.pk)])
    assert not twin.file.storage.exists(twin.file.name)


def test_the_picker_offers_only_images_the_user_may_use(alice_client, alice, bob):
    from gallery.services import images_trash

    mine = generate_image(alice, prompt="a red kite")
    trashed = generate_image(alice, prompt="a grey kite")
    images_trash(user=alice, images=[trashed])
    theirs = generate_image(bob, prompt="a blue kite")
    html = alice_client.get("/gallery/pick/").content.decode()
    assert f'href="/?edit={mine.pk}"' in html and f'data-pick="gallery:{mine.pk}"' in html
    assert f"gallery:{trashed.pk}" not in html and f"gallery:{theirs.pk}" not in html
    assert "<html" in html  # without scripting it is a page of its own


def test_the_picker_searches_and_pages_for_the_dialog(alice_client, alice, monkeypatch):
    from gallery import views

    monkeypatch.setattr(views, "PICK_PAGE_SIZE", 2)
    kites = [generate_image(alice, prompt=f"a kite number {i}") for i in range(3)]
    generate_image(alice, prompt="a lighthouse")
    results = alice_client.get("/gallery/pick/", {"q": "kite"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in results and "lighthouse" not in results
    assert [int(pk) for pk in re.findall(r'data-pick="gallery:(\d+)"', results)] == [kites[2].pk, kites[1].pk]
    more = re.search(r'hx-get="([^"]+after=[^"]+)"', results).group(1).replace("&amp;", "&")
    assert more.startswith("/gallery/pick/?q=kite&")
    tiles = alice_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert '<ul class="pick-grid"' not in tiles  # the next tiles, to replace the "More" item
    assert re.findall(r'data-pick="gallery:(\d+)"', tiles) == [str(kites[0].pk)] and "More images" not in tiles
    empty = alice_client.get("/gallery/pick/", {"q": "zeppelin"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No image’s prompt contains “zeppelin”" in empty


def test_the_picker_needs_a_login(client):
    response = client.get("/gallery/pick/")
    assert response.status_code == 302 and "/login/" in response["Location"]
