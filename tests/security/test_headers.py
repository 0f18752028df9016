"""Security headers on every response: every URL pattern, signed out and signed in, GET and
POST, pages, fragments, files, redirects and errors; HSTS and the HTTPS redirect in production."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.world import every_url, make_world

pytestmark = pytest.mark.django_db

ALWAYS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
          "Cross-Origin-Opener-Policy": "same-origin"}


@pytest.fixture
def world(alice, bob):
    return make_world(alice, bob)


def assert_secure_headers(response, where: str) -> None:
    for header, value in ALWAYS.items():
        assert response.get(header) == value, f"{where}: {header} is {response.get(header)!r}"
    assert response.get("Referrer-Policy") in ("same-origin", "no-referrer"), where
    csp = response.get("Content-Security-Policy", "")
    content_type = response.get("Content-Type", "")
    if content_type.startswith(("image/", "application/octet-stream")):
        assert "sandbox" in csp and "default-src 'none'" in csp, f"{where}: file CSP is {csp!r}"
    else:
        assert "frame-ancestors 'none'" in csp or "sandbox" in csp, f"{where}: CSP is {csp!r}"
        assert "script-src 'self'" in csp or "default-src 'none'" in csp, f"{where}: CSP is {csp!r}"


def _clients(alice, bob) -> dict[str, Client]:
    signed_in = {}
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        signed_in[user.username] = client
    return {"anonymous": Client(), **signed_in}


def test_every_get_has_the_security_headers(world, alice, bob):
    urls = every_url(world)
    for who, client in _clients(alice, bob).items():
        for name, url in urls.items():
            if name == "logout":
                continue  # POST only; below
            response = client.get(url)
            assert_secure_headers(response, f"{who} GET {name} ({response.status_code})")


def test_every_post_has_the_security_headers(world, alice, bob):
    urls = every_url(world)
    for who, client in _clients(alice, bob).items():
        for name, url in urls.items():
            response = client.post(url, {})
            assert_secure_headers(response, f"{who} POST {name} ({response.status_code})")


def test_htmx_fragments_and_error_pages_have_them(world, alice_client):
    assert_secure_headers(alice_client.get(f"/jobs/{world.job.pk}/", HTTP_HX_REQUEST="true"), "job card")
    assert_secure_headers(alice_client.get("/no-such-page/"), "404")
    assert_secure_headers(alice_client.get("/gallery/999999/"), "404 image")
    assert_secure_headers(alice_client.delete("/"), "405")


def test_the_share_page_sends_no_referrer(world):
    response = Client().get(f"/s/{world.link.token}/")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    return settings


def test_production_sends_hsts_over_https_and_redirects_plain_http(production, world, alice):
    client = Client()
    client.force_login(alice)
    for name, url in every_url(world).items():
        secure = client.get(url, secure=True)
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", name
        assert_secure_headers(secure, f"https GET {name}")
        plain = client.get(url)
        if name == "healthz":
            assert plain.status_code == 200  # the container's health check speaks plain HTTP
        else:
            assert plain.status_code == 301 and plain["Location"].startswith("https://"), name


def test_production_cookies_are_secure(production, alice):
    client = Client()
    page = client.get("/accounts/login/", secure=True)
    assert page.cookies["csrftoken"]["secure"]
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password"}, secure=True)
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] and response.cookies["sessionid"]["httponly"]


def test_behind_a_proxy_the_forwarded_proto_counts(production, alice):
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="http").status_code == 301
