"""The role × action × location matrix (tests/gallery/test_access_matrix.py) again, under the
production settings: DEBUG off, HTTPS only with HSTS, secure cookies, the hardened middleware.
Every request is made over HTTPS, as behind the production proxy."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.gallery import test_access_matrix as matrix

pytestmark = pytest.mark.django_db

# The matrix's tests and fixtures, collected here a second time (whatever they are named).
globals().update({name: value for name, value in vars(matrix).items()
                  if name.startswith("test_") or type(value).__name__ == "FixtureFunctionDefinition"})


class HttpsClient(Client):
    """Every request over HTTPS."""

    def generic(self, *args, **kwargs):
        return super().generic(*args, **{**kwargs, "secure": True})


@pytest.fixture(autouse=True)
def production(settings, monkeypatch):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["testserver"]
    monkeypatch.setattr(matrix, "Client", HttpsClient)


def test_the_production_settings_are_in_force(alice):
    plain = Client()
    plain.force_login(alice)
    assert plain.get("/gallery/").status_code == 301
    secure = HttpsClient()
    secure.force_login(alice)
    response = secure.get("/gallery/")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
