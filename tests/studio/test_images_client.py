"""``studio.images_client``: one client per process, built once even when a worker's
threads all start together (issue 10), with the connection pool the settings ask for."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from imageapi.client import ImagesClient
from studio import images_client
from studio.images_client import get_images_client

REPO_ROOT = Path(__file__).resolve().parents[2]
THREADS = 64


def _pool(client: ImagesClient) -> Any:
    return client._http._transport._pool


@pytest.fixture
def slow_builds(monkeypatch: pytest.MonkeyPatch) -> list[ImagesClient]:
    """Every client built, each taking a while: what makes an unlocked cache build many."""
    built: list[ImagesClient] = []

    def build(*args: Any, **kwargs: Any) -> ImagesClient:
        time.sleep(0.05)
        client = ImagesClient(*args, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(images_client, "ImagesClient", build)
    images_client.forget_images_client()
    return built


def test_threads_starting_together_get_exactly_one_client(slow_builds: list[ImagesClient]) -> None:
    start = threading.Barrier(THREADS)
    got: list[ImagesClient] = []
    lock = threading.Lock()

    def worker_thread() -> None:
        start.wait()
        client = get_images_client()
        with lock:
            got.append(client)

    threads = [threading.Thread(target=worker_thread) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(got) == THREADS
    assert len(slow_builds) == 1
    assert {id(client) for client in got} == {id(slow_builds[0])}


def test_a_changed_setting_builds_a_new_client_once(settings: Any, slow_builds: list[ImagesClient]) -> None:
    first = get_images_client()
    assert get_images_client() is first
    settings.STUDIO_MAX_RETRIES = 0
    second = get_images_client()
    assert second is not first and second.max_retries == 0 and get_images_client() is second
    assert len(slow_builds) == 2


def test_the_pool_follows_the_settings(settings: Any) -> None:
    settings.STUDIO_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test-pool"
    settings.STUDIO_HTTP_MAX_CONNECTIONS = 1500
    settings.STUDIO_HTTP_MAX_KEEPALIVE = 200
    settings.STUDIO_REQUEST_TIMEOUT = 300.0
    client = get_images_client()
    assert (_pool(client)._max_connections, _pool(client)._max_keepalive_connections) == (1500, 200)
    assert client._http.timeout.read == 300.0 and client._http.timeout.pool == 300.0


def _settings_in_a_fresh_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("STUDIO_")}
    environment.update(DJANGO_SETTINGS_MODULE="studio.settings", **env)
    code = ("from django.conf import settings as s; "
            "print(s.STUDIO_HTTP_MAX_CONNECTIONS, s.STUDIO_HTTP_MAX_KEEPALIVE)")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, capture_output=True,  # noqa: S603
                          text=True, timeout=60, check=False)


def test_the_pool_defaults_allow_a_thousand_calls_in_flight() -> None:
    outcome = _settings_in_a_fresh_process({})
    assert outcome.returncode == 0, outcome.stderr
    connections, keepalive = map(int, outcome.stdout.split())
    assert connections >= 1000 and 0 < keepalive <= connections


def test_a_bad_pool_size_stops_start_up_naming_the_variable() -> None:
    outcome = _settings_in_a_fresh_process({"STUDIO_HTTP_MAX_CONNECTIONS": "0"})
    assert outcome.returncode != 0 and "STUDIO_HTTP_MAX_CONNECTIONS" in outcome.stderr
