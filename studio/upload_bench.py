"""`make bench`: how much memory one edit with 16 large inputs adds to the web process.

A real server (gunicorn, one sync worker, the production settings but plain HTTP) runs on a
throw-away SQLite database and media folder; a signed-in client posts an edit with 16 PNGs of
48 MB each (random pixels, stored uncompressed: 768 MB in one request), streamed from disk.
Before each request the worker's peak RSS is reset (/proc/PID/clear_refs); after it, the peak
(VmHWM) minus the RSS before is what the request added. Linux only."""

from __future__ import annotations

import io
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from PIL import Image as PILImage

INPUTS = 16
MEGABYTES = 48
REPEATS = 3


def _png_of(megabytes: float) -> bytes:
    side = int(((megabytes * 1024 * 1024 - 4096) / 4) ** 0.5)  # 4 bytes a pixel, a little for the headers
    picture = PILImage.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=0)
    return out.getvalue()


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    # Our own interpreter and manage.py; only the environment varies.
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,  # noqa: S603
                          capture_output=True, text=True, check=True, timeout=600).stdout


SESSION = """
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("bench-uploads")
session = SessionStore()
session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def run(*, log: Callable[[str], object] = print, inputs: int = INPUTS, megabytes: float = MEGABYTES,
        repeats: int = REPEATS) -> list[tuple[str, str]]:
    if not Path("/proc/self/status").exists():
        return [("edit upload memory", "skipped (needs Linux /proc)")]
    with tempfile.TemporaryDirectory() as scratch:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("STUDIO_", "SECURE_", "DJANGO_", "AWS_", "OPENAI_"))}
        env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(40), ALLOWED_HOSTS="127.0.0.1",
                   SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="false",
                   CSRF_COOKIE_SECURE="false", STUDIO_PROVIDER="offline", STUDIO_SUBMIT_RATE_LIMIT="0",
                   STUDIO_LOG_LEVEL="WARNING", DATABASE_URL=f"sqlite:///{scratch}/bench-uploads.sqlite3",
                   MEDIA_ROOT=f"{scratch}/media", DJANGO_SETTINGS_MODULE="studio.settings")
        log("uploads: migrating a scratch database…")
        _manage(env, "migrate", "--noinput")
        session_key = _manage(env, "shell", "-c", SESSION).strip().splitlines()[-1]
        picture = Path(scratch) / "input.png"
        picture.write_bytes(_png_of(megabytes))
        small = _png_of(0.1)
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 - the project's gunicorn, as the Dockerfile runs it
            [sys.executable, "-m", "gunicorn", "studio.wsgi:application", "--workers", "1", "--worker-class",
             "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "900"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return _measure(server, port, session_key, picture, small, inputs=inputs, repeats=repeats, log=log)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _measure(server: subprocess.Popen, port: int, session_key: str, picture: Path, small: bytes, *,
             inputs: int, repeats: int, log: Callable[[str], object]) -> list[tuple[str, str]]:
    base = f"http://127.0.0.1:{port}"
    token = secrets.token_hex(16)  # a CSRF secret sent as cookie and field: no page needed
    cookies = {"sessionid": session_key, "csrftoken": token}
    fields = {"csrfmiddlewaretoken": token, "prompt": "bench", "size": "auto", "quality": "low", "n": "1"}
    with httpx.Client(base_url=base, cookies=cookies, timeout=900) as client:
        for _ in range(200):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        worker = int(children[0])
        warm = client.post("/edit/", data=fields, files=[("image", ("warm.png", small, "image/png"))])
        if warm.status_code != 302:
            raise RuntimeError(f"the warm-up edit was refused: {warm.status_code} {warm.text[:300]}")
        added, seconds = [], []
        size_mb = picture.stat().st_size / (1024 * 1024)
        for attempt in range(repeats):
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset the peak RSS
            before = _kib(worker, "VmRSS")
            handles = [picture.open("rb") for _ in range(inputs)]
            try:
                started = time.perf_counter()
                response = client.post("/edit/", data=fields,
                                       files=[("image", (f"input-{i}.png", handle, "image/png"))
                                              for i, handle in enumerate(handles)])
                seconds.append(time.perf_counter() - started)
            finally:
                for handle in handles:
                    handle.close()
            if response.status_code != 302:
                raise RuntimeError(f"the edit was refused: {response.status_code} {response.text[:300]}")
            added.append((_kib(worker, "VmHWM") - before) / 1024)
            log(f"uploads: request {attempt + 1}: +{added[-1]:.0f} MB peak RSS, {seconds[-1]:.1f} s")
    label = f"edit with {inputs} inputs of {size_mb:.0f} MB ({inputs * size_mb:.0f} MB), median of {repeats}"
    return [(f"{label}: web process peak RSS added", f"{statistics.median(added):.0f} MB "
             f"(max {max(added):.0f} MB)"),
            (f"{label}: request time", f"{statistics.median(seconds):.1f} s")]
