"""The one world every test may use: alice and bob, each with a personal space; ``team``, where
alice is owner and bob a viewer; ``bob_team``, which bob owns; Studio North and South, teams with
one person in each role (owner owen, editor edith, viewer violet); one emulator; and settings that
keep tests offline, instant and out of the project's media. Builders and factories for anything
else are in tests/factories.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from imageapi.emulator import Emulator
from studio.pricebook import price_book_seed
from teams.models import Membership, Role, Space
from teams.services import personal_space, team_create
from tests.factories import Team, generate_edit, generate_image, make_png, make_team, make_user


@pytest.fixture(autouse=True)
def _offline_and_isolated(settings, tmp_path, monkeypatch):
    settings.STUDIO_PROVIDER = "offline"
    settings.STUDIO_EMULATOR_LATENCY = 0.0
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Retries keep their logic but must not make tests wait.
    monkeypatch.setattr("imageapi.client.retry_delay", lambda attempt, *, retry_after=None: 0.0)


@pytest.fixture(autouse=True)
def _price_book(request):
    """The price book as the migration seeds it, in every test that uses the database: the flush
    after a transactional test (and every browser test's live server) empties the table, and a
    studio without prices would price every job "unknown"."""
    uses_database = (request.node.get_closest_marker("django_db") is not None
                     or {"_django_db_helper", "live_server"} & set(request.fixturenames))
    if uses_database:
        request.getfixturevalue("_django_db_helper")
        price_book_seed()


# -- alice and bob ----------------------------------------------------------------------------


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def two_users(alice, bob):
    """Two designers who must never see each other's work."""
    return alice, bob


@pytest.fixture
def alice_space(alice) -> Space:
    return personal_space(user=alice)


@pytest.fixture
def bob_space(bob) -> Space:
    return personal_space(user=bob)


@pytest.fixture
def team(alice, bob) -> Space:
    """A team alice owns and bob may only view."""
    space = team_create(user=alice, name="Harbour Studio")
    Membership.objects.create(space=space, user=bob, role=Role.VIEWER)
    return space


@pytest.fixture
def bob_team(bob) -> Space:
    """A team bob owns, alice is not in."""
    return team_create(user=bob, name="Bob's Workshop")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    other = Client()
    other.force_login(bob)
    return other


@pytest.fixture
def alice_image(alice):
    """An image alice generated (the real way, on the emulator)."""
    return generate_image(alice)


@pytest.fixture
def alice_edit(alice):
    """An edit alice made of an uploaded picture with a mask (the real way, on the emulator)."""
    return generate_edit(alice)


# -- teams with every role ----------------------------------------------------------------------


@pytest.fixture
def north(db) -> Team:
    """Studio North: owen (owner), edith (editor), violet (viewer)."""
    return make_team()


@pytest.fixture
def south(db) -> Team:
    """Another team, Studio South, whose people are not in Studio North."""
    return make_team("Studio South", prefix="s-")


@pytest.fixture
def outsider(db) -> Any:
    """Somebody with no membership anywhere but their own space."""
    return make_user("oscar")


# -- the Images API -----------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Emulator:
    """The offline Images API, fresh for each test."""
    return Emulator()


@pytest.fixture
def png_bytes():
    return make_png()
