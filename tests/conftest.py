"""Fixtures every test may use: two users (each with their own space), images made by the
emulator, and settings that keep tests offline, instant and out of the project's media."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage


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


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password")


@pytest.fixture
def two_users(alice, bob):
    """Two designers who must never see each other's work."""
    return alice, bob


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    return other


def make_png(width: int = 1024, height: int = 1024, *, color=(200, 80, 40, 255), mode: str = "RGBA") -> bytes:
    picture = PILImage.new(mode, (width, height), color if mode == "RGBA" else color[:3])
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()


def make_mask(width: int = 1024, height: int = 1024, *, hole=(256, 256, 768, 768)) -> bytes:
    """Opaque everywhere but a fully transparent rectangle: the area to edit."""
    mask = PILImage.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), hole)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def png_bytes():
    return make_png()
