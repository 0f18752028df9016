"""`make run` as a user meets it: runserver with DEBUG on and the API key in its environment.
25 files posted to several URLs, signed out and signed in, never show the key or SECRET_KEY
(runserver hands the whole process environment to every request)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-proj-runserver-Lq3Wd8Xy1Zt6Ab9Cd2Ef"
SECRET_KEY = "runserver-secret-key-Pz7Hk2Nm5Qr8St1Uv4Wx"
URLS = ["/edit/", "/generate/", "/gallery/bulk/", "/teams/", "/accounts/login/"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Our own interpreter and arguments.
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runserver")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("STUDIO_", "SECURE_", "DJANGO_", "AWS_")) and name != "DATABASE_URL"}
    env.update(DEBUG="true", OPENAI_API_KEY=API_KEY, SECRET_KEY=SECRET_KEY, STUDIO_PROVIDER="offline",
               DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}", MEDIA_ROOT=str(tmp / "media"),
               DJANGO_SETTINGS_MODULE="studio.settings")
    _manage("migrate", "--noinput", env=env)
    _manage("shell", "-c", "from django.contrib.auth.models import User; "
                           "User.objects.create_user('designer', password='designer-password')", env=env)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],  # noqa: S603
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post_25_files(client: httpx.Client, url: str) -> httpx.Response:
    token = client.cookies["csrftoken"]
    files = [("image", (f"input-{index}.png", b"\x89PNG not really", "image/png")) for index in range(25)]
    return client.post(url, data={"csrfmiddlewaretoken": token, "prompt": "a fox"}, files=files,
                       headers={"Referer": str(client.base_url)})


def _assert_safe(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert API_KEY not in response.text
    assert SECRET_KEY not in response.text
    assert "Too many files" in response.text


def test_make_run_never_shows_the_key_signed_out(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        client.get("/accounts/login/")
        for url in URLS:
            _assert_safe(_post_25_files(client, url))


def test_make_run_never_shows_the_key_signed_in(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        client.get("/accounts/login/")
        login = client.post("/accounts/login/", data={
            "csrfmiddlewaretoken": client.cookies["csrftoken"], "username": "designer",
            "password": "designer-password"}, headers={"Referer": server})
        assert login.status_code == 302
        client.get("/")
        for url in URLS[:-1]:
            _assert_safe(_post_25_files(client, url))
        edit = _post_25_files(client, "/edit/")
        assert 'id="edit-form"' in edit.text  # the studio page, the reason beside the image field
