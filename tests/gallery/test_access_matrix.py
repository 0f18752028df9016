"""Role × action × where the object lives, in both directions between two users.

The world is symmetric: alice and bob each have a personal space and a team (Alpha for
alice, Beta for bob) owned by someone else, in which they hold the role under test. Each
test looks from one user ("me") at images in four places: my personal space, the other
user's personal space, my team, and the other user's team. In my team there are two
images: one I made and one the team's owner made (editors may delete only their own).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import pytest
from django.test import Client

from gallery.models import Collection, Image
from gallery.services import collection_create
from studio import services
from studio.models import Job
from teams.models import Membership, Role, Space
from teams.services import personal_space, team_create
from tests.factories import ImageFactory, make_user

pytestmark = pytest.mark.django_db

LOCATIONS = ("own personal", "other's personal", "own team (mine)", "own team (owner's)", "other team")


@dataclass
class Side:
    user: object
    client: Client
    personal: Space
    team: Space
    team_owner: object


def _image(user, space, prompt) -> Image:
    return ImageFactory(created_by=user, space=space, prompt=prompt)  # seeded: files, no worker


def _side(name: str, role: str) -> Side:
    user, owner = make_user(name), make_user(f"{name}-owner")
    team = team_create(user=owner, name=f"Team of {name}")
    Membership.objects.create(space=team, user=user, role=role)
    client = Client()
    client.force_login(user)
    return Side(user=user, client=client, personal=personal_space(user=user), team=team, team_owner=owner)


@pytest.fixture(params=[Role.OWNER, Role.EDITOR, Role.VIEWER])
def world(request, db):
    role = request.param
    alice, bob = _side("alice", role), _side("bob", role)
    images = {}
    for me in (alice, bob):
        images[me.user.username] = {
            "own personal": _image(me.user, me.personal, f"{me.user} personal"),
            "own team (mine)": _image(me.user, me.team, f"{me.user} in team") if role != Role.VIEWER else
            _image(me.team_owner, me.team, f"{me.user} team stand-in"),
            "own team (owner's)": _image(me.team_owner, me.team, f"{me.team_owner} in team"),
        }
    for me, other in ((alice, bob), (bob, alice)):
        images[me.user.username]["other's personal"] = images[other.user.username]["own personal"]
        images[me.user.username]["other team"] = images[other.user.username]["own team (owner's)"]
    return {"role": role, "sides": {"alice": (alice, bob), "bob": (bob, alice)}, "images": images}


def _expect(role: str, location: str, *, me_created: bool) -> dict[str, bool]:
    visible = location not in ("other's personal", "other team")
    in_team = location.startswith("own team")
    my_role = role if in_team else (Role.OWNER if visible else None)
    organise = visible and my_role in (Role.OWNER, Role.EDITOR)
    delete = visible and (my_role == Role.OWNER or (my_role == Role.EDITOR and me_created))
    return {"view": visible, "organise": organise, "delete": delete}


def _cases(world, direction):
    me, _ = world["sides"][direction]
    for location in LOCATIONS:
        image = world["images"][direction][location]
        expected = _expect(world["role"], location, me_created=image.created_by_id == me.user.pk)
        yield me, location, image, expected


@pytest.mark.parametrize("direction", ["alice", "bob"])
def test_pages_files_and_thumbnails(world, direction):
    for me, location, image, expected in _cases(world, direction):
        status = 200 if expected["view"] else 404
        for path in (f"/gallery/{image.pk}/", f"/gallery/{image.pk}/original/", f"/gallery/{image.pk}/thumbnail/",
                     f"/gallery/{image.pk}/original/?download=1", f"/?remix={image.pk}", f"/?edit={image.pk}"):
            assert me.client.get(path).status_code == status, (location, path)
        for listing in ("/gallery/", "/gallery/pick/"):
            listed = {i.pk for i in me.client.get(listing).context["page"].images}
            assert (image.pk in listed) == expected["view"], (location, listing)


@pytest.mark.parametrize("direction", ["alice", "bob"])
def test_lineage_and_inputs_follow_the_image(world, direction):
    for me, location, image, expected in _cases(world, direction):
        before = Job.objects.filter(created_by=me.user, kind=Job.Kind.EDIT).count()
        me.client.post("/edit/", {"prompt": "use it", "size": "auto", "quality": "low", "n": "1",
                                  "output_format": "png", "inputs": [f"gallery:{image.pk}"]})
        created = Job.objects.filter(created_by=me.user, kind=Job.Kind.EDIT).count() - before
        assert created == (1 if expected["view"] else 0), location


@pytest.mark.parametrize("direction", ["alice", "bob"])
def test_organising_form_posts(world, direction):
    for me, location, image, expected in _cases(world, direction):
        favourite = me.client.post(f"/gallery/{image.pk}/favourite/", {"favourite": "1"})
        assert favourite.status_code == (302 if expected["view"] else 404), location
        tag = me.client.post(f"/gallery/{image.pk}/tags/", {"tags": "checked"})
        assert tag.status_code == (302 if expected["organise"] else 403 if expected["view"] else 404), location
        assert image.tags.filter(name="checked").exists() == expected["organise"], location
        share = me.client.post("/gallery/share/", {"image": image.pk, "days": "3"})
        assert share.status_code == (302 if expected["organise"] else 403 if expected["view"] else 404), location
        assert image.share_links.exists() == expected["organise"], location


@pytest.mark.parametrize("direction", ["alice", "bob"])
def test_bulk_actions(world, direction):
    me, _ = world["sides"][direction]
    my_collection = collection_create(space=me.personal, user=me.user, name="Mine")
    for _, location, image, expected in _cases(world, direction):
        # Collect into a collection of the image's own space when I may organise there, else into mine.
        target = (collection_create(space=image.space, user=me.user, name=f"{location}")
                  if expected["organise"] else my_collection)
        me.client.post("/gallery/bulk/", {"action": "collect", "collection": target.pk, "image": [image.pk]})
        assert target.images.filter(pk=image.pk).exists() == expected["organise"], location

        archive = me.client.post("/gallery/bulk/", {"action": "zip", "image": [image.pk]})
        with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as opened:
            assert (image.download_name in opened.namelist()) == expected["view"], location

        me.client.post("/gallery/bulk/", {"action": "trash", "image": [image.pk]})
        image.refresh_from_db()
        assert (image.deleted_at is not None) == expected["delete"], location
        if expected["delete"]:
            assert me.client.get(f"/gallery/{image.pk}/").status_code == 404  # in the trash: gone from the gallery
            me.client.post("/gallery/bulk/", {"action": "restore", "image": [image.pk]})
            image.refresh_from_db()
            assert image.deleted_at is None, location


@pytest.mark.parametrize("direction", ["alice", "bob"])
def test_someone_elses_collection_is_out_of_reach(world, direction):
    me, other = world["sides"][direction]
    theirs = collection_create(space=other.personal, user=other.user, name="Private board")
    mine = world["images"][direction]["own personal"]
    response = me.client.post("/gallery/bulk/", {"action": "collect", "collection": theirs.pk, "image": [mine.pk]})
    assert response.status_code == 404
    assert not theirs.images.exists()
    assert me.client.get(f"/gallery/?collection={theirs.pk}").context["page"].images != []  # filter ignored
    assert Collection.objects.count() == 1


def test_lineage_links_only_to_sources_still_visible(db):
    """An edit made from a team image keeps its link to the source only while its maker may see it."""
    side = _side("carol", Role.EDITOR)
    source = _image(side.team_owner, side.team, "team original")
    side.client.post("/edit/", {"prompt": "make it gold", "size": "auto", "quality": "low", "n": "1",
                                "output_format": "png", "inputs": [f"gallery:{source.pk}"]})
    edit_job = Job.objects.get(created_by=side.user, kind=Job.Kind.EDIT)
    services.job_run(job_id=edit_job.pk)
    edit = edit_job.images.get()
    assert f'href="/gallery/{source.pk}/"' in side.client.get(f"/gallery/{edit.pk}/").content.decode()
    Membership.objects.filter(space=side.team, user=side.user).delete()
    page = side.client.get(f"/gallery/{edit.pk}/").content.decode()
    assert f"/gallery/{source.pk}/" not in page and f"image {source.pk}" not in page
    assert side.client.get(f"/gallery/{source.pk}/").status_code == 404
