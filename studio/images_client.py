"""The Images API client the studio uses: the real API, or the offline emulator in-process."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from imageapi.client import ImagesClient

OFFLINE_API_KEY = "offline-emulator"  # the emulator wants a bearer token; any will do
_SETTINGS = {
    "STUDIO_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "STUDIO_REQUEST_TIMEOUT",
    "STUDIO_CONNECT_TIMEOUT", "STUDIO_MAX_RETRIES", "STUDIO_EMULATOR_LATENCY",
    "STUDIO_HTTP_MAX_CONNECTIONS", "STUDIO_HTTP_MAX_KEEPALIVE",
}

# One client per process, built once: a worker's threads start together and must share one
# connection pool (issue 10: an unlocked cache built up to one client per thread).
_lock = threading.Lock()
_client: ImagesClient | None = None


def get_images_client() -> ImagesClient:
    """The process's client: thread-safe, it keeps its connections alive for every job."""
    global _client
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            _client = _build()
        return _client


def _build() -> ImagesClient:
    common = {
        "timeout": settings.STUDIO_REQUEST_TIMEOUT,
        "connect_timeout": settings.STUDIO_CONNECT_TIMEOUT,
        "max_retries": settings.STUDIO_MAX_RETRIES,
        "max_connections": settings.STUDIO_HTTP_MAX_CONNECTIONS,
        "max_keepalive_connections": settings.STUDIO_HTTP_MAX_KEEPALIVE,
    }
    if settings.STUDIO_PROVIDER == "offline":
        from imageapi.emulator import Emulator, EmulatorTransport

        emulator = Emulator(latency=settings.STUDIO_EMULATOR_LATENCY)
        return ImagesClient(api_key=OFFLINE_API_KEY, transport=EmulatorTransport(emulator), **common)
    return ImagesClient(api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL, **common)


def forget_images_client() -> None:
    """Build a new client on next use. The old one is not closed: calls may still be using it."""
    global _client
    with _lock:
        _client = None


@receiver(setting_changed)
def _forget_client(*, setting: str, **kwargs: object) -> None:
    if setting in _SETTINGS:
        forget_images_client()
