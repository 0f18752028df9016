"""Finding images: prompt search (PostgreSQL full-text or the SQLite fallback: run this file on
both), every filter alone and combined, sorting, filters that live in the URL, previous/next
within the view, the trash and its purge, zips of the originals and tags.

The grid's world is seen by edith, an editor of Studio North: her personal space and North are
hers to see; Studio South and bob's space are not, and appear in no answer."""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.utils import timezone

from gallery.forms import GalleryFilterForm
from gallery.models import Favourite, Image, Tag
from gallery.selectors import GALLERY_PAGE_SIZE, gallery_page
from gallery.services import collection_add, collection_create, images_trash, tag_remove, tags_add, trash_purge_expired
from teams.services import personal_space
from tests.factories import Team, generate_image, make_png, make_team

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# key: (who, where, prompt, created_at, size, quality, model, format, cost)
ROWS: dict[str, tuple] = {
    "harbour": ("owner", "north", "A quiet harbour at dawn", _at(1), "1024x1024", "low", "gpt-image-2", "png",
                "0.011"),
    "boats": ("editor", "north", "Fishing boats in the harbour at night", _at(2, 0, 30), "1536x1024", "high",
              "gpt-image-2", "jpeg", "0.25"),
    "forest": ("editor", "personal", "A quiet forest path", _at(3), "1024x1536", "medium", "gpt-image-1", "webp",
               "0.042"),
    "robot": ("owner", "north", "Retro robot mascot, flat vector", _at(4, 23, 30), "1024x1024", "high",
              "gpt-image-1", "png", "0.17"),
    "lighthouse": ("editor", "north", "Lighthouse above a stormy harbour", _at(5), "1024x1024", "medium",
                   "gpt-image-2", "webp", "0.042"),
    # Not edith's to see, though they match many of the filters below.
    "south": ("s-owner", "south", "A quiet harbour in the south", _at(3), "1024x1024", "high", "gpt-image-2",
              "webp", "0.042"),
    "bob": ("bob", "bob", "Quiet harbour, fishing boats, lighthouse", _at(4), "1024x1024", "high", "gpt-image-2",
            "png", "0.17"),
}
NEWEST_FIRST = ["lighthouse", "robot", "forest", "boats", "harbour"]


@dataclass
class World:
    north: Team
    south: Team
    images: dict[str, Image]
    refs: dict[str, Any]

    @property
    def client(self):
        return self.north.client(self.north.editor)

    def keys(self, images) -> list[str]:
        by_pk = {image.pk: key for key, image in self.images.items()}
        return [by_pk[image.pk] for image in images]

    def params(self, filters: dict[str, str]) -> dict[str, str]:
        """``@name`` values stand for ids known only once the world exists."""
        return {name: str(self.refs[value[1:]]) if value.startswith("@") else value for name, value in filters.items()}


def _row(user, space, prompt, created_at, size, quality, model, format, cost, *, file_name: str) -> Image:
    width, height = (int(side) for side in size.split("x"))
    return Image.objects.create(
        created_by=user, space=space, prompt=prompt, request={"prompt": prompt, "size": size}, model=model,
        snapshot=model, file=file_name, thumbnail=file_name, format=format, width=width, height=height,
        byte_size=1, sha256="0" * 64, size=size, quality=quality, cost_usd=Decimal(cost), created_at=created_at)


@pytest.fixture
def world(db, bob) -> World:
    north, south = make_team(), make_team("Studio South", prefix="s-")
    people = {"owner": north.owner, "editor": north.editor, "s-owner": south.owner, "bob": bob}
    spaces = {"north": north.space, "south": south.space, "personal": personal_space(user=north.editor),
              "bob": personal_space(user=bob)}
    file_name = default_storage.save("images/tiny.png", ContentFile(make_png(8, 8)))
    images = {key: _row(people[who], spaces[where], *rest, file_name=file_name)
              for key, (who, where, *rest) in ROWS.items()}
    editor = north.editor
    Favourite.objects.create(user=editor, image=images["harbour"])
    Favourite.objects.create(user=editor, image=images["robot"])
    Favourite.objects.create(user=north.owner, image=images["lighthouse"])  # someone else's favourite
    launch = collection_create(space=north.space, user=editor, name="Launch")
    collection_add(collection=launch, images=[images["boats"], images["lighthouse"]], user=editor)
    south_board = collection_create(space=south.space, user=south.owner, name="Launch")
    collection_add(collection=south_board, images=[images["south"]], user=south.owner)
    tags_add(images=[images["harbour"], images["forest"], images["south"]], names=["Hero Shot"])
    refs = {"owner": north.owner.pk, "editor": editor.pk, "north": north.space.pk, "personal": spaces["personal"].pk,
            "south": south.space.pk, "bob_space": spaces["bob"].pk, "launch": launch.pk,
            "south_board": south_board.pk, "s-owner": south.owner.pk}
    return World(north=north, south=south, images=images, refs=refs)


def _grid(world: World, filters: dict[str, str]) -> list[str]:
    response = world.client.get("/gallery/", world.params(filters))
    assert response.status_code == 200
    return world.keys(response.context["page"].images)


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "expected"), [
    ("harbour", ["lighthouse", "boats", "harbour"]),
    ("quiet harbour", ["harbour"]),  # every word must match
    ("harbour quiet", ["harbour"]),
    ("QUIET", ["forest", "harbour"]),
    ("Harbour NIGHT", ["boats"]),
    ("robot mascot vector", ["robot"]),
    ("submarine", []),
    ("harbour submarine", []),
])
def test_search_finds_prompts_containing_every_word(world, q, expected):
    assert _grid(world, {"q": q}) == expected


def test_search_never_reaches_other_peoples_images(world):
    found = set(_grid(world, {"q": "quiet harbour fishing boats lighthouse"})) | set(_grid(world, {"q": "south"}))
    assert found == set()


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("filters", "expected"), [
    ({"creator": "@owner"}, ["robot", "harbour"]),
    ({"creator": "@editor"}, ["lighthouse", "forest", "boats"]),
    ({"date_from": "2026-03-02", "date_to": "2026-03-04"}, ["robot", "forest", "boats"]),  # whole days
    ({"date_from": "2026-03-04"}, ["lighthouse", "robot"]),
    ({"date_to": "2026-03-01"}, ["harbour"]),
    ({"size": "1024x1024"}, ["lighthouse", "robot", "harbour"]),
    ({"size": "1536x1024"}, ["boats"]),
    ({"quality": "high"}, ["robot", "boats"]),
    ({"quality": "medium"}, ["lighthouse", "forest"]),
    ({"model": "gpt-image-1"}, ["robot", "forest"]),
    ({"format": "webp"}, ["lighthouse", "forest"]),
    ({"format": "jpeg"}, ["boats"]),
    ({"favourite": "1"}, ["robot", "harbour"]),  # edith's favourites, not the owner's
    ({"favourite": "on"}, ["robot", "harbour"]),
    ({"collection": "@launch"}, ["lighthouse", "boats"]),
    ({"tag": "hero shot"}, ["forest", "harbour"]),
    ({"tag": "Hero Shot"}, ["forest", "harbour"]),
    ({"cost_min": "0.04"}, ["lighthouse", "robot", "forest", "boats"]),
    ({"cost_max": "0.05"}, ["lighthouse", "forest", "harbour"]),
    ({"cost_min": "0.042", "cost_max": "0.042"}, ["lighthouse", "forest"]),
    ({"space": "@north"}, ["lighthouse", "robot", "boats", "harbour"]),
    ({"space": "@personal"}, ["forest"]),
])
def test_each_filter_narrows_the_grid(world, filters, expected):
    assert _grid(world, filters) == expected


@pytest.mark.parametrize(("filters", "expected"), [
    ({"q": "harbour", "format": "webp"}, ["lighthouse"]),
    ({"q": "quiet", "space": "@personal"}, ["forest"]),
    ({"space": "@north", "quality": "high", "creator": "@owner"}, ["robot"]),
    ({"creator": "@editor", "date_from": "2026-03-03", "quality": "medium"}, ["lighthouse", "forest"]),
    ({"tag": "hero shot", "space": "@north", "favourite": "1"}, ["harbour"]),
    ({"collection": "@launch", "cost_min": "0.1"}, ["boats"]),
    ({"model": "gpt-image-2", "size": "1024x1024", "cost_max": "0.02"}, ["harbour"]),
    ({"favourite": "1", "collection": "@launch"}, []),
    ({"q": "harbour", "space": "@north", "sort": "cost", "cost_min": "0.01"}, ["boats", "lighthouse", "harbour"]),
])
def test_filters_combine(world, filters, expected):
    assert _grid(world, filters) == expected


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", NEWEST_FIRST),
    ("", NEWEST_FIRST),
    ("oldest", list(reversed(NEWEST_FIRST))),
    # forest and lighthouse cost the same: the later one (higher id) first.
    ("cost", ["boats", "robot", "lighthouse", "forest", "harbour"]),
])
def test_sort_orders(world, sort, expected):
    assert _grid(world, {"sort": sort}) == expected


def test_a_cost_ceiling_of_zero_is_a_filter(world):
    assert _grid(world, {"cost_max": "0"}) == []


def test_the_tag_filter_normalises_like_tagging_does(world):
    assert _grid(world, {"tag": " Hero  Shot "}) == ["forest", "harbour"]


# -- invalid values are ignored ----------------------------------------------------------------


@pytest.mark.parametrize("filters", [
    {"creator": "abc"}, {"creator": "@s-owner"}, {"space": "999999"}, {"space": "@south"}, {"space": "@bob_space"},
    {"collection": "xyz"}, {"collection": "@south_board"}, {"date_from": "yesterday"}, {"date_to": "2026-13-45"},
    {"cost_min": "-1"}, {"cost_max": "cheap"}, {"cost_max": "NaN"}, {"quality": "ultra"}, {"format": "bmp"},
    {"sort": "random"}, {"after": "not-a-cursor"}, {"before": "%%%"}, {"q": "x" * 201},
])
def test_an_invalid_filter_value_is_ignored(world, filters):
    assert _grid(world, filters) == NEWEST_FIRST


@pytest.mark.parametrize("value", [
    "1e999999", "99999999999999999999.5", "1e-999999",
])
def test_an_absurd_cost_matches_nothing_or_is_ignored_but_is_never_an_error(world, value):
    assert _grid(world, {"cost_min": value}) in ([], NEWEST_FIRST)
    assert _grid(world, {"cost_max": value}) in ([], NEWEST_FIRST)


def test_invalid_values_do_not_undo_the_valid_ones(world):
    filters = {"quality": "ultra", "format": "webp", "space": "@south", "cost_max": "cheap", "sort": "oldest"}
    assert _grid(world, filters) == ["forest", "lighthouse"]


def test_an_invalid_filter_on_the_detail_page_is_ignored(world):
    image = world.images["robot"]
    response = world.client.get(f"/gallery/{image.pk}/", {"quality": "ultra", "space": "x", "sort": "?"})
    assert response.status_code == 200
    assert world.keys([response.context["previous"], response.context["next"]]) == ["lighthouse", "forest"]


# -- filters live in the URL -------------------------------------------------------------------


def _hrefs(page_html: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', page_html)]


def _absolute(href: str) -> str:
    return "/gallery/" + href if href.startswith("?") else href


def test_filters_round_trip_through_the_next_page_and_detail_links(world):
    boats = world.images["boats"]
    studies = [_row(world.north.editor, world.north.space, f"harbour study {i}", _at(6) + timedelta(minutes=i),
                    "1536x1024", "high", "gpt-image-2", "jpeg", "0.25", file_name=boats.file.name)
               for i in range(GALLERY_PAGE_SIZE)]
    expected = [boats.pk, *(image.pk for image in studies)]  # oldest first
    filters = {"q": "harbour", "quality": "high", "sort": "oldest"}

    first = world.client.get("/gallery/", filters)
    assert [image.pk for image in first.context["page"].images] == expected[:GALLERY_PAGE_SIZE]
    assert {name: first.context["form"][name].value() for name in filters} == filters
    hrefs = _hrefs(first.content.decode())
    next_links = [href for href in hrefs if "after=" in href]
    assert next_links, "the grid links to its next page"
    detail_links = [href for href in hrefs if re.match(rf"/gallery/{expected[0]}/\?", href)]
    assert detail_links, "the grid links to each image's page"
    for href in (next_links[0], detail_links[0]):
        query = parse_qs(urlsplit(href).query)
        assert {name: query[name] for name in filters} == {name: [value] for name, value in filters.items()}

    second = world.client.get(_absolute(next_links[0]))
    assert [image.pk for image in second.context["page"].images] == expected[GALLERY_PAGE_SIZE:]
    assert second.context["page"].next_cursor is None
    back_links = [href for href in _hrefs(second.content.decode()) if "before=" in href]
    assert back_links, "the second page links back to the first"
    back = world.client.get(_absolute(back_links[0]))
    assert [image.pk for image in back.context["page"].images] == expected[:GALLERY_PAGE_SIZE]

    detail = world.client.get(detail_links[0])
    assert detail.context["previous"] is None and detail.context["next"].pk == expected[1]
    assert parse_qs(detail.context["view_query"]) == {name: [value] for name, value in filters.items()}


def test_every_filter_survives_the_round_trip(world):
    filters = world.params({"q": "harbour", "space": "@north", "creator": "@editor", "date_from": "2026-03-01",
                            "date_to": "2026-03-31", "size": "1024x1024", "quality": "medium",
                            "model": "gpt-image-2", "format": "webp", "collection": "@launch", "tag": "x",
                            "cost_min": "0.01", "cost_max": "1", "sort": "cost", "favourite": "1"})
    query = parse_qs(world.client.get("/gallery/", filters).context["view_query"])
    assert {name: values[0] for name, values in query.items()} == filters


@pytest.mark.parametrize("page_size", [1, 2])
@pytest.mark.parametrize(("filters", "expected"), [
    ({}, NEWEST_FIRST),
    ({"sort": "oldest"}, list(reversed(NEWEST_FIRST))),
    ({"sort": "cost"}, ["boats", "robot", "lighthouse", "forest", "harbour"]),
    ({"sort": "cost", "cost_min": "0.02", "cost_max": "0.2"}, ["robot", "lighthouse", "forest"]),
    ({"sort": "cost", "cost_max": "0.042"}, ["lighthouse", "forest", "harbour"]),
    ({"sort": "oldest", "date_from": "2026-03-02", "date_to": "2026-03-04"}, ["boats", "forest", "robot"]),
    ({"date_to": "2026-03-04"}, ["robot", "forest", "boats", "harbour"]),
    ({"q": "harbour", "sort": "cost"}, ["boats", "lighthouse", "harbour"]),
    ({"space": "@north", "sort": "oldest"}, ["harbour", "boats", "robot", "lighthouse"]),
])
def test_paging_forward_then_back_walks_exactly_the_view(world, filters, expected, page_size):
    editor = world.north.editor
    view = GalleryFilterForm(world.params(filters), user=editor).filters()
    pages, cursor = [], None
    while len(pages) <= len(expected):
        page = gallery_page(user=editor, filters=view, cursor=cursor, page_size=page_size)
        pages.append(world.keys(page.images))
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert [key for keys in pages for key in keys] == expected
    assert all(len(keys) == page_size for keys in pages[:-1])
    walked_back, cursor = [pages[-1]], page.previous_cursor
    while cursor and len(walked_back) <= len(pages):
        page = gallery_page(user=editor, filters=view, cursor=cursor, direction="previous", page_size=page_size)
        walked_back.insert(0, world.keys(page.images))
        cursor = page.previous_cursor
    assert walked_back == pages


# -- previous and next -------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [
    {}, {"sort": "oldest"}, {"sort": "cost"}, {"q": "harbour"}, {"space": "@north", "sort": "cost"},
    {"favourite": "1", "sort": "oldest"}, {"format": "webp", "quality": "medium"},
])
def test_previous_and_next_follow_the_filtered_sorted_view(world, filters):
    params = world.params(filters)
    view = _grid(world, filters)
    assert view, "the view is not empty"
    for position, key in enumerate(view):
        response = world.client.get(f"/gallery/{world.images[key].pk}/", params)
        previous, following = response.context["previous"], response.context["next"]
        assert (previous and world.keys([previous])[0]) == (view[position - 1] if position else None), key
        assert (following and world.keys([following])[0]) == (view[position + 1] if position + 1 < len(view)
                                                               else None), key


def test_previous_and_next_skip_the_trash_and_other_peoples_images(world):
    images_trash(user=world.north.editor, images=[world.images["forest"]])
    response = world.client.get(f"/gallery/{world.images['robot'].pk}/", {"quality": "high", "sort": "oldest"})
    assert world.keys([response.context["previous"]]) == ["boats"] and response.context["next"] is None
    response = world.client.get(f"/gallery/{world.images['boats'].pk}/")
    assert world.keys([response.context["previous"], response.context["next"]]) == ["robot", "harbour"]


# -- the trash ---------------------------------------------------------------------------------


def test_a_trashed_image_leaves_the_grid_and_search_until_restored(world):
    lighthouse = world.images["lighthouse"]
    client = world.client
    assert client.post("/gallery/bulk/", {"action": "trash", "image": [lighthouse.pk]}).status_code == 302
    lighthouse.refresh_from_db()
    assert lighthouse.deleted_at is not None and lighthouse.deleted_by == world.north.editor
    assert "lighthouse" not in _grid(world, {}) and _grid(world, {"q": "lighthouse"}) == []
    assert _grid(world, {"collection": "@launch"}) == ["boats"]
    assert client.get(f"/gallery/{lighthouse.pk}/").status_code == 404
    assert world.keys(client.get("/gallery/trash/").context["images"]) == ["lighthouse"]
    # The owner may restore anything in the team's trash; the viewer sees none of it.
    owner = world.north.client(world.north.owner)
    assert world.keys(owner.get("/gallery/trash/").context["images"]) == ["lighthouse"]
    assert list(world.north.client(world.north.viewer).get("/gallery/trash/").context["images"]) == []

    owner.post("/gallery/bulk/", {"action": "restore", "image": [lighthouse.pk]})
    assert _grid(world, {}) == NEWEST_FIRST and _grid(world, {"q": "lighthouse"}) == ["lighthouse"]
    assert list(client.get("/gallery/trash/").context["images"]) == []


def test_an_editor_cannot_trash_or_restore_what_she_did_not_make(world):
    robot = world.images["robot"]  # the owner's
    world.client.post("/gallery/bulk/", {"action": "trash", "image": [robot.pk]})
    robot.refresh_from_db()
    assert robot.deleted_at is None
    images_trash(user=world.north.owner, images=[robot])
    world.client.post("/gallery/bulk/", {"action": "restore", "image": [robot.pk]})
    robot.refresh_from_db()
    assert robot.deleted_at is not None
    assert "robot" not in world.keys(world.client.get("/gallery/trash/").context["images"])


@pytest.fixture
def trashed(north):
    """Real images (files on disk) in North: one trashed 31 days ago, one 29 days ago, one never."""
    old, recent, alive = (generate_image(north.owner, north.space, prompt=p) for p in ("old", "recent", "alive"))
    now = timezone.now()
    Image.objects.filter(pk=old.pk).update(deleted_at=now - timedelta(days=31), deleted_by=north.owner)
    Image.objects.filter(pk=recent.pk).update(deleted_at=now - timedelta(days=29), deleted_by=north.owner)
    Image.objects.filter(pk=alive.pk).update(created_at=now - timedelta(days=90))
    return old, recent, alive


def _files_exist(image: Image) -> bool:
    return default_storage.exists(image.file.name) and default_storage.exists(image.thumbnail.name)


def test_purging_removes_what_was_trashed_over_30_days_ago_with_its_files(trashed, django_capture_on_commit_callbacks):
    old, recent, alive = trashed
    assert all(_files_exist(image) for image in trashed)
    with django_capture_on_commit_callbacks(execute=True):
        assert trash_purge_expired() == 1
    assert set(Image.objects.values_list("pk", flat=True)) == {recent.pk, alive.pk}
    assert not default_storage.exists(old.file.name) and not default_storage.exists(old.thumbnail.name)
    assert _files_exist(recent) and _files_exist(alive)


def test_purging_daily_from_the_command_line(trashed, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_trash", stdout=out)
    assert "Purged 1 image" in out.getvalue()
    assert Image.objects.count() == 2


def test_purging_from_the_trash_removes_at_once(north, trashed, django_capture_on_commit_callbacks):
    old, recent, alive = trashed
    with django_capture_on_commit_callbacks(execute=True):
        north.client(north.editor).post("/gallery/bulk/", {"action": "purge", "image": [recent.pk]})  # not hers
    assert Image.objects.filter(pk=recent.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        # alive is not in the trash: purge leaves it alone
        north.client(north.owner).post("/gallery/bulk/", {"action": "purge", "image": [recent.pk, alive.pk]})
    assert set(Image.objects.values_list("pk", flat=True)) == {old.pk, alive.pk}
    assert not default_storage.exists(recent.file.name) and _files_exist(alive)


# -- zips --------------------------------------------------------------------------------------


def test_a_zip_streams_the_exact_originals_of_the_selected_visible_images(north, bob):
    editor = north.editor
    mine = {
        "team png": generate_image(north.owner, north.space, prompt="zip one", output_format="png"),
        "team jpeg": generate_image(editor, north.space, prompt="zip two", output_format="jpeg"),
        "personal webp": generate_image(editor, prompt="zip three", output_format="webp"),
    }
    not_selected = generate_image(editor, north.space, prompt="zip four")
    trashed = generate_image(editor, north.space, prompt="zip five")
    images_trash(user=editor, images=[trashed])
    bobs = generate_image(bob, prompt="bob's")
    ids = [image.pk for image in (*mine.values(), trashed, bobs)]
    response = north.client(editor).post("/gallery/bulk/", {"action": "zip", "image": ids})
    assert isinstance(response, StreamingHttpResponse) and response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="studio-')
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted(image.download_name for image in mine.values())
        for image in mine.values():
            with image.file.open("rb") as original:
                assert archive.read(image.download_name) == original.read(), image.download_name
        assert not_selected.download_name not in archive.namelist()
        assert {name.rsplit(".", 1)[1] for name in archive.namelist()} == {"png", "jpg", "webp"}


def test_a_zip_with_nothing_selected_makes_no_archive(north):
    response = north.client(north.editor).post("/gallery/bulk/", {"action": "zip"})
    assert response.status_code == 302


# -- tags --------------------------------------------------------------------------------------


def test_tag_names_are_normalised(world):
    harbour = world.images["harbour"]
    tags_add(images=[harbour], names=["Night Shift ", "  NIGHT   shift", "", "   ", "Hero Shot"])
    assert sorted(harbour.tags.values_list("name", flat=True)) == ["hero shot", "night shift"]
    assert Tag.objects.filter(space=world.north.space, name="night shift").count() == 1
    tag_remove(image=harbour, name=" Night SHIFT")
    assert list(harbour.tags.values_list("name", flat=True)) == ["hero shot"]


def test_tags_stay_within_each_images_space(world):
    harbour, forest, south = world.images["harbour"], world.images["forest"], world.images["south"]
    for image in (harbour, forest, south):
        assert [(tag.name, tag.space_id) for tag in image.tags.all()] == [("hero shot", image.space_id)]
    assert Tag.objects.filter(name="hero shot").count() == 3  # one per space, never shared


def test_tagging_through_the_page_normalises_and_stays_in_the_space(world):
    robot = world.images["robot"]
    response = world.client.post(f"/gallery/{robot.pk}/tags/", {"tags": "Mascot , Hero Shot,,"})
    assert response.status_code == 302
    assert {(tag.name, tag.space_id) for tag in robot.tags.all()} == {("mascot", world.north.space.pk),
                                                                       ("hero shot", world.north.space.pk)}
    world.client.post(f"/gallery/{robot.pk}/tags/remove/", {"tag": "MASCOT"})
    assert list(robot.tags.values_list("name", flat=True)) == ["hero shot"]


def test_tag_suggestions_come_only_from_the_users_spaces(world):
    tags_add(images=[world.images["south"]], names=["heroic secret"])
    tags_add(images=[world.images["bob"]], names=["hero of bob"])
    tags_add(images=[world.images["lighthouse"]], names=["harbour light"])
    names = list(world.client.get("/gallery/tags/suggest/", {"q": "HER"}).context["names"])
    assert names == ["hero shot"]  # once, though two of edith's spaces have it
    assert list(world.client.get("/gallery/tags/suggest/", {"q": ""}).context["names"]) == ["harbour light",
                                                                                          "hero shot"]
    viewer_names = world.north.client(world.north.viewer).get("/gallery/tags/suggest/", {"q": "h"}).context["names"]
    assert list(viewer_names) == ["harbour light", "hero shot"]  # North's tags only: the forest is edith's own
    south_names = world.south.client(world.south.owner).get("/gallery/tags/suggest/", {"q": "h"}).context["names"]
    assert list(south_names) == ["hero shot", "heroic secret"]
