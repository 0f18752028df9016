"""Share links: read-only pages for one image or one collection that open for anyone, expire,
can be revoked, show the prompt only when allowed, and reveal nothing else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gallery.models import Collection, Image, ShareLink
from gallery.services import collection_add, images_trash, share_link_create
from tests.factories import generate_image, make_team, make_user

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse carved from marzipan"
# Ids no other number on a page is likely to contain, so "the id is not in the HTML" means something.
HERO_PK, SECOND_PK, UNSHARED_PK, BOARD_PK = 7340031, 7340043, 7340057, 7340069


def _rekeyed(image: Image, pk: int) -> Image:
    Image.objects.filter(pk=image.pk).update(id=pk)
    return Image.objects.get(pk=pk)


@pytest.fixture
def hero(north):
    return _rekeyed(generate_image(north.editor, north.space, prompt=PROMPT), HERO_PK)


@pytest.fixture
def second(north):
    return _rekeyed(generate_image(north.owner, north.space, prompt="a second lighthouse"), SECOND_PK)


@pytest.fixture
def unshared(north):
    return _rekeyed(generate_image(north.owner, north.space, prompt="the unreleased campaign"), UNSHARED_PK)


@pytest.fixture
def board(north, hero, second, unshared):
    """A collection of hero and second (added in that order); unshared stays out of it."""
    collection = Collection.objects.create(pk=BOARD_PK, space=north.space, name="Harbour moodboard",
                                           created_by=north.owner)
    collection_add(collection=collection, images=[hero], user=north.owner)
    collection_add(collection=collection, images=[second], user=north.owner)
    return collection


def _link(team, target, *, show_prompt=False) -> ShareLink:
    return share_link_create(user=team.owner, target=target, days=7, show_prompt=show_prompt)


def _bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def _original(image: Image) -> bytes:
    with image.file.open("rb") as handle:
        return handle.read()


def _all_gone(token: str, positions=(0,)) -> bool:
    anonymous = Client()
    paths = [f"/s/{token}/", *(f"/s/{token}/{p}/{kind}/" for p in positions for kind in ("image", "thumbnail"))]
    return all(anonymous.get(path).status_code in (404, 410) for path in paths)  # the page: 410 once revoked


# -- opening -----------------------------------------------------------------------------------


def test_an_image_link_opens_for_anyone(north, hero):
    link = _link(north, hero)
    anonymous = Client()
    page = anonymous.get(f"/s/{link.token}/")
    assert page.status_code == 200 and page.context["images"] == [hero]
    assert page["X-Robots-Tag"] == "noindex" and page["Referrer-Policy"] == "no-referrer"
    original = anonymous.get(f"/s/{link.token}/0/image/")
    assert original.status_code == 200 and original["Content-Type"] == "image/png"
    assert _bytes(original) == _original(hero)
    thumbnail = anonymous.get(f"/s/{link.token}/0/thumbnail/")
    assert thumbnail["Content-Type"] == "image/webp" and _bytes(thumbnail)[8:12] == b"WEBP"
    download = anonymous.get(f"/s/{link.token}/0/image/", {"download": "1"})
    assert download["Content-Disposition"] == 'attachment; filename="shared-1.png"'


def test_a_collection_link_opens_with_only_the_collections_images(north, board, hero, second, unshared):
    link = _link(north, board)
    anonymous = Client()
    page = anonymous.get(f"/s/{link.token}/")
    assert page.status_code == 200 and page.context["images"] == [hero, second]
    assert page.context["title"] == "Harbour moodboard"
    assert _bytes(anonymous.get(f"/s/{link.token}/0/image/")) == _original(hero)
    assert _bytes(anonymous.get(f"/s/{link.token}/1/image/")) == _original(second)
    assert anonymous.get(f"/s/{link.token}/2/image/").status_code == 404


def test_an_unknown_token_is_a_404(north, hero):
    _link(north, hero)
    assert _all_gone("not-a-real-token")


# -- the prompt --------------------------------------------------------------------------------


@pytest.mark.parametrize("show_prompt", [None, "1"])
def test_the_prompt_shows_only_when_the_owner_allows_it(north, hero, show_prompt):
    data = {"image": hero.pk, "days": "7", **({"show_prompt": show_prompt} if show_prompt else {})}
    assert north.client(north.editor).post("/gallery/share/", data).status_code == 302
    link = ShareLink.objects.get()
    assert link.show_prompt == bool(show_prompt)
    html = Client().get(f"/s/{link.token}/").content.decode()
    assert (PROMPT in html) == bool(show_prompt)


@pytest.mark.parametrize("show_prompt", [False, True])
def test_a_collection_link_shows_prompts_only_when_allowed(north, board, show_prompt):
    link = _link(north, board, show_prompt=show_prompt)
    html = Client().get(f"/s/{link.token}/").content.decode()
    assert (PROMPT in html) == show_prompt and ("a second lighthouse" in html) == show_prompt
    assert "the unreleased campaign" not in html


# -- revealing nothing else --------------------------------------------------------------------


def _leaks(html: str, team, *images_and_collections) -> list[str]:
    """What of the studio's insides a share page's HTML gives away."""
    secrets = {
        "a gallery address": "/gallery/", "a team address": "/teams/", "a job address": "/jobs/",
        "the team's name": team.space.name,
        **{f"{who}'s username": getattr(team, who).username for who in ("owner", "editor")},
        **{f"{who}'s e-mail": getattr(team, who).email for who in ("owner", "editor")},
        **{f"{obj._meta.model_name} id {obj.pk}": str(obj.pk) for obj in images_and_collections},
    }
    return [what for what, text in secrets.items() if text in html]


def test_an_image_page_reveals_nothing_else(north, hero, unshared):
    link = _link(north, hero, show_prompt=True)
    html = Client().get(f"/s/{link.token}/").content.decode()
    assert _leaks(html, north, hero, unshared) == []
    assert f"/s/{link.token}/0/" in html  # the picture is there, by position


def test_a_collection_page_reveals_nothing_else(north, board, hero, second, unshared):
    link = _link(north, board, show_prompt=True)
    html = Client().get(f"/s/{link.token}/").content.decode()
    assert _leaks(html, north, board, hero, second, unshared) == []
    assert {int(p) for p in re.findall(rf"/s/{re.escape(link.token)}/(\d+)/", html)} == {0, 1}


# -- files by position -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["1/image/", "1/thumbnail/", "99/image/", "0/original/", "0/file/", "0/IMAGE/"])
def test_files_exist_only_at_the_links_positions_and_kinds(north, hero, path):
    link = _link(north, hero)
    assert Client().get(f"/s/{link.token}/{path}").status_code == 404


def test_a_negative_position_is_not_found(north, hero):
    link = _link(north, hero)
    assert Client().get(f"/s/{link.token}/-1/image/").status_code == 404


# -- expiry, revocation and the trash ----------------------------------------------------------


def test_an_expired_link_shows_nothing(north, hero, board):
    links = [_link(north, hero), _link(north, board)]
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for link in links:
        assert _all_gone(link.token)


def test_a_link_works_until_it_expires(north, hero):
    link = _link(north, hero)
    ShareLink.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    assert Client().get(f"/s/{link.token}/").status_code == 200


def test_a_revoked_link_shows_nothing(north, hero, board):
    client = north.client(north.editor)
    links = [_link(north, hero), _link(north, board)]
    for link in links:
        assert client.post(f"/gallery/share/{link.pk}/revoke/").status_code == 302
    for link in links:
        link.refresh_from_db()
        assert link.revoked_at is not None and _all_gone(link.token)


def test_an_image_in_the_trash_no_longer_shows_through_its_link(north, hero):
    link = _link(north, hero)
    images_trash(user=north.owner, images=[hero])
    assert _all_gone(link.token)


def test_an_image_in_the_trash_leaves_a_shared_collection(north, board, hero, second):
    link = _link(north, board)
    images_trash(user=north.owner, images=[hero])
    anonymous = Client()
    assert anonymous.get(f"/s/{link.token}/").context["images"] == [second]
    assert _bytes(anonymous.get(f"/s/{link.token}/0/image/")) == _original(second)
    assert anonymous.get(f"/s/{link.token}/1/image/").status_code == 404


# -- who may create and revoke -----------------------------------------------------------------


def test_viewers_cannot_create_links(north, hero, board):
    client = north.client(north.viewer)
    assert client.post("/gallery/share/", {"image": hero.pk, "days": "7"}).status_code == 403
    assert client.post("/gallery/share/", {"collection": board.pk, "days": "7"}).status_code == 403
    assert not ShareLink.objects.exists()


def test_outsiders_and_anonymous_visitors_cannot_create_links(north, hero, board):
    outsider = Client()
    outsider.force_login(make_user("oscar"))
    assert outsider.post("/gallery/share/", {"image": hero.pk}).status_code == 404
    assert outsider.post("/gallery/share/", {"collection": board.pk}).status_code == 404
    anonymous = Client().post("/gallery/share/", {"image": hero.pk})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert not ShareLink.objects.exists()


def test_revoking_is_a_404_for_whoever_may_not(north, hero):
    link = _link(north, hero)
    outsider = Client()
    outsider.force_login(make_user("oscar"))
    other_team = make_team("Studio South", prefix="s-")
    for client in (north.client(north.viewer), outsider, other_team.client(other_team.owner)):
        assert client.post(f"/gallery/share/{link.pk}/revoke/").status_code == 404
    assert Client().post(f"/gallery/share/{link.pk}/revoke/").status_code == 302  # to the login page
    link.refresh_from_db()
    assert link.is_active and Client().get(f"/s/{link.token}/").status_code == 200


@pytest.mark.parametrize(("days", "expected"), [("3", 3), ("0", 1), ("-5", 1), ("5000", 365), ("soon", 7), ("", 7)])
def test_a_links_lifetime_is_kept_between_a_day_and_a_year(north, hero, days, expected):
    north.client(north.owner).post("/gallery/share/", {"image": hero.pk, "days": days})
    link = ShareLink.objects.get()
    assert abs(link.expires_at - timezone.now() - timedelta(days=expected)) < timedelta(minutes=1)
