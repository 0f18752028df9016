"""CSRF on every state-changing endpoint: every URL pattern, every unsafe method, signed in and
out, is refused without the token (and no view opts out)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.world import every_url, make_world, url_patterns

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")


@pytest.fixture
def world(alice, bob):
    return make_world(alice, bob)


def _csrf_refused(response) -> bool:
    return response.status_code == 403 and b"CSRF verification failed" in response.content


def test_no_view_is_exempt_from_csrf():
    exempt = [name for name, pattern in url_patterns().items() if getattr(pattern.callback, "csrf_exempt", False)]
    assert exempt == []


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed in", "anonymous"])
def test_every_unsafe_request_without_the_token_is_refused(world, alice, signed_in):
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(alice)
    home = client.get("/" if signed_in else "/accounts/login/")
    assert "csrftoken" in client.cookies  # the cookie alone (what a forged form sends along) is not enough
    assert home.status_code == 200
    for name, url in every_url(world).items():
        for method in UNSAFE:
            response = getattr(client, method)(url, {"prompt": "forged", "action": "trash", "image": world.image.pk})
            assert _csrf_refused(response), f"{method.upper()} {name}: {response.status_code}"
            response = client.post(url, {"csrfmiddlewaretoken": "x" * 32})
            assert _csrf_refused(response), f"POST {name} with a wrong token: {response.status_code}"
    world.image.refresh_from_db()
    assert world.image.deleted_at is None


def test_with_the_token_the_same_requests_go_through(world, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post("/gallery/bulk/", {"csrfmiddlewaretoken": token, "action": "trash",
                                              "image": world.image.pk})
    assert response.status_code == 302
    world.image.refresh_from_db()
    assert world.image.deleted_at is not None
    # htmx sends the token as a header.
    response = client.post("/gallery/collections/new/", {"space": world.team.pk, "name": "Via htmx"},
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert world.team.collections.filter(name="Via htmx").exists()
