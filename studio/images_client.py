"""The Images API client the studio uses: the real API, or the offline emulator in-process."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from imageapi.client import ImagesClient

OFFLINE_API_KEY = "offline-emulator"  # the emulator wants a bearer token; any will do
_SETTINGS = {
    "STUDIO_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "STUDIO_REQUEST_TIMEOUT",
    "STUDIO_CONNECT_TIMEOUT", "STUDIO_MAX_RETRIES", "STUDIO_EMULATOR_LATENCY",
}


@functools.cache
def get_images_client() -> ImagesClient:
    """One client per process: it is thread-safe and keeps its connections alive."""
    common = {
        "timeout": settings.STUDIO_REQUEST_TIMEOUT,
        "connect_timeout": settings.STUDIO_CONNECT_TIMEOUT,
        "max_retries": settings.STUDIO_MAX_RETRIES,
    }
    if settings.STUDIO_PROVIDER == "offline":
        from imageapi.emulator import Emulator, EmulatorTransport

        emulator = Emulator(latency=settings.STUDIO_EMULATOR_LATENCY)
        return ImagesClient(api_key=OFFLINE_API_KEY, transport=EmulatorTransport(emulator), **common)
    return ImagesClient(api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL, **common)


@receiver(setting_changed)
def _forget_client(*, setting: str, **kwargs: object) -> None:
    if setting in _SETTINGS:
        get_images_client.cache_clear()
