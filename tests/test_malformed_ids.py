"""Every id a browser can send (in a path, a query string or a form) that is not a plain
positive integer fitting the database is "not found" or a form error, never an HTTP 500:
letters, "²" (a digit to str.isdigit, not to int), 20 digits (past a 64-bit column)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from teams.models import Membership, Role
from teams.services import team_create
from tests.factories import CollectionFactory

pytestmark = pytest.mark.django_db

BAD_IDS = ["abc", "²", "1²", "٣", "9" * 20, "-1", "0", "1.5", " 7 "]


@pytest.fixture
def browser(alice):
    """A client that shows a server error as its status code instead of raising it."""
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


@pytest.fixture
def world(alice, bob):
    team = team_create(user=alice, name="Harbour")
    membership = Membership.objects.create(space=team, user=bob, role=Role.VIEWER)
    board = CollectionFactory(created_by=alice, name="Board")
    return {"team": team, "membership": membership, "collection": board}


def _assert_not_a_server_error(response, what):
    assert response.status_code < 500, f"{what}: HTTP {response.status_code}"
    assert response.status_code in (200, 302, 400, 403, 404), f"{what}: HTTP {response.status_code}"


PATHS = [
    "/gallery/{}/", "/gallery/{}/original/", "/gallery/{}/thumbnail/", "/gallery/inputs/{}/",
    "/jobs/{}/", "/jobs/{}/preview/", "/teams/{}/", "/teams/{}/activity/",
]
POST_PATHS = [
    "/gallery/{}/favourite/", "/gallery/{}/tags/", "/gallery/{}/tags/remove/", "/gallery/{}/trash/",
    "/gallery/share/{}/revoke/", "/jobs/{}/cancel/", "/teams/{}/invite/",
]
TEAM_CHILD_PATHS = [
    "/teams/{team}/invitations/{}/revoke/", "/teams/{team}/members/{}/role/", "/teams/{team}/members/{}/remove/",
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_paths_are_not_found(browser, world, bad):
    for path in PATHS:
        response = browser.get(path.format(bad))
        _assert_not_a_server_error(response, path)
        assert response.status_code == 404, path
    for path in POST_PATHS:
        response = browser.post(path.format(bad), {"role": "viewer"})
        assert response.status_code == 404, path
    for path in TEAM_CHILD_PATHS:
        response = browser.post(path.format(bad, team=world["team"].pk), {"role": "viewer"})
        assert response.status_code == 404, path


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_query_strings_are_not_found(browser, bad):
    for path in (f"/?remix={bad}", f"/?edit={bad}", f"/?job={bad}", f"/gallery/compare/?a={bad}"):
        response = browser.get(path)
        _assert_not_a_server_error(response, path)
        assert response.status_code == 404, path


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_gallery_filters_and_cursors_are_ignored(browser, bad):
    for name in ("space", "creator", "collection"):
        _assert_not_a_server_error(browser.get(f"/gallery/?{name}={bad}"), name)
        _assert_not_a_server_error(browser.get(f"/gallery/count/?{name}={bad}"), name)
    cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{bad}".encode()).decode().rstrip("=")
    for param in ("after", "before"):
        response = browser.get(f"/gallery/?{param}={cursor}")
        _assert_not_a_server_error(response, param)
    _assert_not_a_server_error(browser.get(f"/gallery/pick/?after={cursor}"), "pick")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_gallery_forms_are_not_found(browser, world, bad):
    board = world["collection"].pk
    posts = [
        ("/gallery/bulk/", {"action": "collect", "image": ["1"], "collection": bad}),
        ("/gallery/bulk/", {"action": "uncollect", "image": ["1"], "collection": bad}),
        ("/gallery/share/", {"image": bad, "days": "7"}),
        ("/gallery/share/", {"collection": bad, "days": "7"}),
        ("/gallery/collections/new/", {"space": bad, "name": "Spring"}),
    ]
    for path, data in posts:
        response = browser.post(path, data)
        _assert_not_a_server_error(response, f"{path} {data}")
        assert response.status_code == 404, f"{path} {data}"
    # Images a bulk action names are a list: a malformed one is left out, like one not visible.
    for action in ("zip", "collect", "tag", "trash", "restore", "purge"):
        response = browser.post("/gallery/bulk/", {"action": action, "image": [bad], "collection": board, "tags": "x"})
        _assert_not_a_server_error(response, action)
    response = browser.post("/gallery/share/", {"collection": board, "days": bad})
    _assert_not_a_server_error(response, "days")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_studio_forms_are_form_errors(browser, bad):
    common = {"prompt": "a lighthouse", "size": "1024x1024", "quality": "low", "output_format": "png", "n": "1"}
    for data in ({**common, "space": bad}, ):
        response = browser.post("/generate/", data)
        _assert_not_a_server_error(response, f"generate {data}")
    for data in ({**common, "space": bad}, {**common, "inputs": [f"gallery:{bad}"]},
                 {**common, "inputs": [f"stored:{bad}"]}, {**common, "inputs": [f"upload:{bad}"]},
                 {**common, "mask_image": bad}):
        response = browser.post("/edit/", data)
        _assert_not_a_server_error(response, f"edit {data}")
        assert response.status_code == 400, f"edit {data}"  # no input image: the form says so
