"""Browser tests: Debian's chromium, driven by Playwright, against pytest-django's live server,
with jobs run by the real background worker in a thread of this process.

Playwright's sync API keeps an event loop running in the main thread, and Django refuses ORM
calls from a thread with a running loop unless told the caller knows what it is doing: the
``browser`` fixture says so (DJANGO_ALLOW_ASYNC_UNSAFE) for as long as the browser is open, and
no longer, so the unit tests never run with the check off.
"""

from __future__ import annotations

import os
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAS_CHROMIUM = os.access(CHROMIUM, os.X_OK)
NO_CHROMIUM = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium, or scripts/ensure-chromium)"

# Generous: a slow two-core CI machine runs the browser, the server and the worker at once.
TIMEOUT_MS = 20_000
JOB_TIMEOUT_MS = 30_000
# The two screens every designer-facing browser test runs on.
SIZES = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True,
              "is_mobile": True},
}
WORKER_STOP_SECONDS = 30


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a database file rather than the shared in-memory one: the test, the
    live server and the worker's threads then each have their own connection, and WAL with
    immediate transactions lets them write at once, as they do in production."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("e2e-db") / "studio.sqlite3")


@pytest.fixture(scope="session")
def browser():
    if not HAS_CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors():
    """What the page printed as errors (JS exceptions, CSP violations): a test asserts it stays empty."""
    return []


@pytest.fixture
def open_page(browser, live_server, console_errors):
    """Opens a page in a new browser context (``viewport``, ``has_touch``, ``device_scale_factor``…),
    its errors collected in ``console_errors``; closed after the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, **{"viewport": {"width": 1280, "height": 900},
                                                                  **options})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture
def touch_page(open_page):
    """A page on a touch screen: without ``has_touch`` Chromium drops the DevTools protocol's touch
    events rather than turning them into pointer events."""
    return open_page(has_touch=True)


@pytest.fixture
def worker(transactional_db):
    """The studio's task worker, polling the queue in a daemon thread as `manage.py worker` does
    (without its signal handlers, which only the main thread may install)."""
    from studio.worker import ConcurrentWorker

    worker = ConcurrentWorker(
        concurrency=2, queue_names=["default"], interval=0.1,
        batch=False, backend_name="default", startup_delay=False, max_tasks=None, worker_id="e2e",
        excluded_queue_names=[],
    )
    thread = threading.Thread(target=worker.run, name="e2e-worker", daemon=True)
    thread.start()
    yield worker
    worker.running = False
    thread.join(WORKER_STOP_SECONDS)
    assert not thread.is_alive(), "the worker did not stop"


@pytest.fixture
def designer(transactional_db, django_user_model):
    """A user with a password known to the test, to log in through the real form."""
    user = django_user_model.objects.create_user("mira", "mira@example.com", "a-long-test-password")
    user.raw_password = "a-long-test-password"
    return user
