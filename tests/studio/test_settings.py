"""Configuration from the environment, and the OpenAI key kept out of sight.

Settings are read once per process, so each environment is tried in a fresh interpreter
(a subprocess that loads the settings; one also runs ``django.setup()`` and the system
checks). Those subprocesses run concurrently, once per module.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views.debug import technical_500_response

from gallery.models import Image
from imageapi.emulator import Emulator, make_server
from studio import services
from studio.images_client import get_images_client
from studio.models import Job

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY_VALUE = "sk-live-SECRET123"
SECRET_PART = "SECRET123"  # the part a masked key (sk-...T123) never shows
# Variables the settings read: removed from the inherited environment so each case is exact.
SETTINGS_VARIABLES = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
                      "MEDIA_ROOT", "OPENAI_API_KEY", "OPENAI_BASE_URL")
# django.setup() reads the settings before anything else, so a bad value fails the same way
# when only the settings are loaded; that takes a fifth of the time of a whole set-up.
LOAD_SETTINGS = "from django.conf import settings; settings.INSTALLED_APPS"
CHECK = "import django; django.setup(); from django.core.management import call_command; call_command('check')"
REPORT = """
import json
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG, "ALLOWED_HOSTS": s.ALLOWED_HOSTS, "STUDIO_PROVIDER": s.STUDIO_PROVIDER,
    "OPENAI_BASE_URL": s.OPENAI_BASE_URL, "key_is_set": bool(s.OPENAI_API_KEY),
    "STUDIO_REQUEST_TIMEOUT": s.STUDIO_REQUEST_TIMEOUT, "STUDIO_MAX_RETRIES": s.STUDIO_MAX_RETRIES,
    "STUDIO_WORKER_CONCURRENCY": s.STUDIO_WORKER_CONCURRENCY, "STUDIO_IMAGES_PER_MINUTE": s.STUDIO_IMAGES_PER_MINUTE,
    "STUDIO_EMULATOR_LATENCY": s.STUDIO_EMULATOR_LATENCY, "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "DB_ENGINE": s.DATABASES["default"]["ENGINE"], "DB_HOST": s.DATABASES["default"]["HOST"],
}))
"""

# id: (environment, the variable the error must name). A key is set wherever that does not
# change the case, to show that no start-up error ever repeats it.
BAD_ENVIRONMENTS: dict[str, tuple[dict[str, str], str]] = {
    "DEBUG=maybe": ({"DEBUG": "maybe"}, "DEBUG"),
    "STUDIO_PROVIDER=azure": ({"STUDIO_PROVIDER": "azure", "OPENAI_API_KEY": SECRET_KEY_VALUE}, "STUDIO_PROVIDER"),
    "openai without a key": ({"STUDIO_PROVIDER": "openai"}, "OPENAI_API_KEY"),
    "openai with a blank key": ({"STUDIO_PROVIDER": "openai", "OPENAI_API_KEY": "   "}, "OPENAI_API_KEY"),
    "OPENAI_BASE_URL=ftp://x": ({"OPENAI_BASE_URL": "ftp://x", "OPENAI_API_KEY": SECRET_KEY_VALUE},
                                "OPENAI_BASE_URL"),
    "OPENAI_BASE_URL without a host": ({"OPENAI_BASE_URL": "https://"}, "OPENAI_BASE_URL"),
    "STUDIO_REQUEST_TIMEOUT=-1": ({"STUDIO_REQUEST_TIMEOUT": "-1", "OPENAI_API_KEY": SECRET_KEY_VALUE},
                                  "STUDIO_REQUEST_TIMEOUT"),
    "STUDIO_REQUEST_TIMEOUT=abc": ({"STUDIO_REQUEST_TIMEOUT": "abc"}, "STUDIO_REQUEST_TIMEOUT"),
    "STUDIO_REQUEST_TIMEOUT=nan": ({"STUDIO_REQUEST_TIMEOUT": "nan"}, "STUDIO_REQUEST_TIMEOUT"),
    "STUDIO_MAX_RETRIES=99": ({"STUDIO_MAX_RETRIES": "99", "OPENAI_API_KEY": SECRET_KEY_VALUE},
                              "STUDIO_MAX_RETRIES"),
    "STUDIO_WORKER_CONCURRENCY=0": ({"STUDIO_WORKER_CONCURRENCY": "0"}, "STUDIO_WORKER_CONCURRENCY"),
    "STUDIO_IMAGES_PER_MINUTE=-5": ({"STUDIO_IMAGES_PER_MINUTE": "-5"}, "STUDIO_IMAGES_PER_MINUTE"),
    "STUDIO_IMAGES_PER_MINUTE=lots": ({"STUDIO_IMAGES_PER_MINUTE": "lots"}, "STUDIO_IMAGES_PER_MINUTE"),
    "STUDIO_EMULATOR_LATENCY=fast": ({"STUDIO_EMULATOR_LATENCY": "fast"}, "STUDIO_EMULATOR_LATENCY"),
    "STUDIO_JOB_MAX_ATTEMPTS=0": ({"STUDIO_JOB_MAX_ATTEMPTS": "0"}, "STUDIO_JOB_MAX_ATTEMPTS"),
    "STUDIO_BUDGET_TIMEZONE=Mars/Olympus": ({"STUDIO_BUDGET_TIMEZONE": "Mars/Olympus"}, "STUDIO_BUDGET_TIMEZONE"),
    "STUDIO_JOB_LEASE_SECONDS=0.5": ({"STUDIO_JOB_LEASE_SECONDS": "0.5"}, "STUDIO_JOB_LEASE_SECONDS"),
    "STUDIO_SHUTDOWN_GRACE=soon": ({"STUDIO_SHUTDOWN_GRACE": "soon"}, "STUDIO_SHUTDOWN_GRACE"),
    "DATABASE_URL=nonsense://x": ({"DATABASE_URL": "nonsense://x", "OPENAI_API_KEY": SECRET_KEY_VALUE},
                                  "DATABASE_URL"),
    "DEBUG=false without SECRET_KEY": ({"DEBUG": "false"}, "SECRET_KEY"),
}

# id: (environment, settings expected)
GOOD_ENVIRONMENTS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "defaults: offline, no key": ({}, {
        "STUDIO_PROVIDER": "offline", "key_is_set": False, "DEBUG": True,
        "OPENAI_BASE_URL": "https://api.openai.com/v1", "STUDIO_MAX_RETRIES": 2, "STUDIO_REQUEST_TIMEOUT": 600.0,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "[::1]"], "DB_ENGINE": "studio.db_backends.sqlite3",
        "STUDIO_IMAGES_PER_MINUTE": 0,
    }),
    "a key means openai": ({"OPENAI_API_KEY": SECRET_KEY_VALUE}, {"STUDIO_PROVIDER": "openai", "key_is_set": True}),
    "a key with offline chosen": ({"OPENAI_API_KEY": SECRET_KEY_VALUE, "STUDIO_PROVIDER": "offline"},
                                  {"STUDIO_PROVIDER": "offline"}),
    "a gateway URL loses its trailing slash": (
        {"OPENAI_BASE_URL": " https://gateway.example.com/openai/v1/ "},
        {"OPENAI_BASE_URL": "https://gateway.example.com/openai/v1"},
    ),
    "production": (
        {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": " studio.example.com, .example.org ,",
         "STUDIO_REQUEST_TIMEOUT": "120", "STUDIO_MAX_RETRIES": "0", "STUDIO_WORKER_CONCURRENCY": "16",
         "STUDIO_EMULATOR_LATENCY": "0", "STUDIO_IMAGES_PER_MINUTE": "250", "DATABASE_URL": "postgres://studio:pw@db.internal:5432/studio"},
        {"DEBUG": False, "SESSION_COOKIE_SECURE": True, "ALLOWED_HOSTS": ["studio.example.com", ".example.org"],
         "STUDIO_REQUEST_TIMEOUT": 120.0, "STUDIO_MAX_RETRIES": 0, "STUDIO_WORKER_CONCURRENCY": 16,
         "STUDIO_EMULATOR_LATENCY": 0.0, "STUDIO_IMAGES_PER_MINUTE": 250,
         "DB_ENGINE": "studio.db_backends.postgresql", "DB_HOST": "db.internal"},
    ),
}


FULL_START = "django.setup() and manage.py check with production settings"


def _environment(overrides: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in SETTINGS_VARIABLES and not name.startswith("STUDIO_")}
    env["DJANGO_SETTINGS_MODULE"] = "studio.settings"
    env.update(overrides)
    return env


def _start_up(code: str, overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Our own interpreter and code; only the environment varies.
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=_environment(overrides),  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def start_ups() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every environment above, started once, all at the same time."""
    jobs = {case: (LOAD_SETTINGS, env) for case, (env, _) in BAD_ENVIRONMENTS.items()}
    jobs |= {case: (REPORT, env) for case, (env, _) in GOOD_ENVIRONMENTS.items()}
    jobs[FULL_START] = (CHECK, GOOD_ENVIRONMENTS["production"][0])
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {case: pool.submit(_start_up, code, env) for case, (code, env) in jobs.items()}
    return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("case", BAD_ENVIRONMENTS)
def test_a_bad_setting_stops_start_up_naming_the_variable(
    start_ups: dict[str, subprocess.CompletedProcess[str]], case: str,
) -> None:
    _, variable = BAD_ENVIRONMENTS[case]
    outcome = start_ups[case]
    assert outcome.returncode != 0
    last_line = outcome.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), outcome.stderr
    assert variable in last_line
    assert SECRET_PART not in outcome.stderr + outcome.stdout


@pytest.mark.parametrize("case", GOOD_ENVIRONMENTS)
def test_good_settings_are_read_as_meant(start_ups: dict[str, subprocess.CompletedProcess[str]], case: str) -> None:
    _, expected = GOOD_ENVIRONMENTS[case]
    outcome = start_ups[case]
    assert outcome.returncode == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert {name: report[name] for name in expected} == expected
    assert SECRET_PART not in outcome.stdout + outcome.stderr


def test_the_whole_app_starts_and_passes_its_checks_with_production_settings(
    start_ups: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    outcome = start_ups[FULL_START]
    assert outcome.returncode == 0, outcome.stderr
    assert "System check identified no issues" in outcome.stdout + outcome.stderr


# -- the key never reaches a browser, a log line or an error page ----------------------------

@pytest.fixture
def live_api(settings: Any) -> Iterator[Emulator]:
    """The studio on the "openai" provider with a live-looking key, talking to the emulator
    behind a real loopback server (so the key really travels in the Authorization header)."""
    emulator = Emulator()
    server = make_server(emulator, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    # Through the settings fixture, so studio.images_client rebuilds its cached client.
    settings.OPENAI_API_KEY = SECRET_KEY_VALUE
    settings.STUDIO_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.STUDIO_REQUEST_TIMEOUT = 30.0
    try:
        yield emulator
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    for name in (None, "httpx", "httpcore", "imageapi", "studio", "gallery", "django"):
        caplog.set_level(logging.DEBUG, logger=name)


def _assert_no_key_in_records(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert SECRET_PART not in text, record.name


def _run_job(user: Any, prompt: str) -> Job:
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x640", "quality": "low",
        "output_format": "png", "background": "auto", "moderation": "auto"})
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _row_text(instance: Any) -> str:
    return json.dumps({field.name: field.value_from_object(instance) for field in instance._meta.concrete_fields},
                      default=str)


@pytest.mark.django_db
def test_the_key_reaches_no_job_row_log_record_or_page(
    live_api: Emulator, alice: Any, alice_client: Client, caplog: pytest.LogCaptureFixture,
) -> None:
    _capture_everything(caplog)
    refused = _run_job(alice, "a harbour at night [[fault:unauthorized]]")
    done = _run_job(alice, "a harbour at night")

    # The calls really went out, with the key, to the loopback server.
    assert [seen["path"] for seen in live_api.requests_seen] == ["/v1/images/generations"] * 2
    assert (refused.status, refused.error_code) == (Job.Status.FAILED, "invalid_api_key")
    assert "sk-...T123" in refused.error_message  # the API's masked form, nothing more
    assert done.status == Job.Status.SUCCEEDED and done.request_id.startswith("req_")

    rows = [refused, done, *Image.objects.filter(job=done)]
    assert len(rows) == 3
    for row in rows:
        assert SECRET_PART not in _row_text(row)

    assert any(record.name == "studio.services" for record in caplog.records)  # the failure was logged
    assert any(record.name.startswith("httpx") for record in caplog.records)
    _assert_no_key_in_records(caplog)

    pages = {url: alice_client.get(url) for url in
             ("/", f"/jobs/{refused.pk}/", f"/jobs/{done.pk}/", "/gallery/", "/healthz")}
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert SECRET_PART not in response.content.decode(), url
    assert "Incorrect API key provided" in pages[f"/jobs/{refused.pk}/"].content.decode()


# The technical 500 page, from a temporary URLconf (this module).

def _view_that_breaks(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke")


def _view_that_calls_the_api(request: HttpRequest) -> HttpResponse:
    get_images_client().generate(prompt="a harbour [[fault:unauthorized]]", size="1024x640", quality="low")
    return HttpResponse("unreachable")


urlpatterns = [
    path("breaks/", login_not_required(_view_that_breaks)),
    path("calls-the-api/", login_not_required(_view_that_calls_the_api)),
]


def test_the_debug_500_page_cleanses_the_key_from_settings_and_request(rf: Any, settings: Any) -> None:
    settings.DEBUG = True
    settings.OPENAI_API_KEY = SECRET_KEY_VALUE
    settings.OPENAI_BASE_URL = "https://gateway.example.com/v1"
    # Under runserver the process environment is part of request.META.
    request = rf.get("/breaks/", OPENAI_API_KEY=SECRET_KEY_VALUE, HTTP_AUTHORIZATION=f"Bearer {SECRET_KEY_VALUE}")
    try:
        _view_that_breaks(request)
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())

    page = response.content.decode()
    assert response.status_code == 500 and "the view broke" in page
    assert "OPENAI_API_KEY" in page and "HTTP_AUTHORIZATION" in page  # listed…
    assert "********************" in page  # …with the cleansed substitute
    assert "https://gateway.example.com/v1" in page  # other settings are shown as they are
    assert SECRET_PART not in page


@pytest.mark.urls(__name__)
def test_the_debug_500_page_of_a_failed_api_call_does_not_show_the_key(
    live_api: Emulator, settings: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DEBUG = True
    _capture_everything(caplog)
    browser = Client(raise_request_exception=False)

    response = browser.get("/calls-the-api/", OPENAI_API_KEY=SECRET_KEY_VALUE)

    page = response.content.decode()
    assert response.status_code == 500
    assert "AuthenticationError" in page and "Incorrect API key provided" in page  # the technical page
    assert "OPENAI_API_KEY" in page
    assert SECRET_PART not in page
    assert any(record.name == "django.request" and record.exc_info for record in caplog.records)
    _assert_no_key_in_records(caplog)
