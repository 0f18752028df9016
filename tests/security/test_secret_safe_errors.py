"""No page shows a secret: too many files, a crash, a 404/403/400, with DEBUG on and off, signed
in or not. The request carries the process environment the way ``runserver`` does (WSGI environ),
so the debug page has every chance to leak it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client

from studio.security import SecretSafeExceptionReporterFilter, scrub, secret_values

pytestmark = pytest.mark.django_db

API_KEY = "sk-proj-test-Zq8vXo2LrT5aB1cD3eF4gH6iJ7kL9mN0"
SECRET_KEY = "test-secret-key-8fJ2kL0pQ9wE7rT5yU3iO1aS4dF6gH8jK0lZ"
AWS_SECRET = "aws-secret-W1x2Y3z4A5b6C7d8E9f0G1h2"
DB_PASSWORD = "db-pass-Hk29sL4mQ8"
SECRETS = (API_KEY, SECRET_KEY, AWS_SECRET, DB_PASSWORD)
# What runserver puts in every request's META: the whole process environment, one secret under a
# name no filter would guess.
ENVIRON = {"OPENAI_API_KEY": API_KEY, "SECRET_KEY": SECRET_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
           "DATABASE_URL": f"postgres://studio:{DB_PASSWORD}@db:5432/studio", "STUDIO_NOTE": API_KEY}
MULTIPART_URLS = ["/edit/", "/generate/", "/gallery/bulk/", "/gallery/share/", "/teams/", "/accounts/login/",
                  "/jobs/1/cancel/", "/gallery/1/tags/"]


@pytest.fixture(autouse=True)
def secrets(settings, monkeypatch):
    settings.OPENAI_API_KEY = API_KEY
    settings.SECRET_KEY = SECRET_KEY
    settings.DATABASES["default"]["PASSWORD"] = DB_PASSWORD
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)


def assert_no_secret(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in text
    assert API_KEY[8:24] not in text  # not even a part of it
    return text


def browser(user=None) -> Client:
    """A client that behaves like a browser: CSRF enforced, with its CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/" if user is not None else "/accounts/login/")
    return client


def files(count: int) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"input-{index}.png", b"\x89PNG not really", "image/png") for index in range(count)]


def post_files(client: Client, url: str, count: int, **extra):
    data = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "prompt": "a fox", "image": files(count)}
    return client.post(url, data, **ENVIRON, **extra)


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed in"])
@pytest.mark.parametrize("url", MULTIPART_URLS)
def test_too_many_files_never_shows_a_secret(settings, alice, debug, signed_in, url):
    settings.DEBUG = debug
    count = settings.DATA_UPLOAD_MAX_NUMBER_FILES + 5  # 25 with the default of 20
    response = post_files(browser(alice if signed_in else None), url, count)
    assert response.status_code == 400
    text = assert_no_secret(response)
    assert "Too many files" in text
    assert "Bad Request" not in text


def test_too_many_files_on_the_edit_form_is_explained_next_to_the_image_field(settings, alice):
    response = post_files(browser(alice), "/edit/", settings.DATA_UPLOAD_MAX_NUMBER_FILES + 5)
    assert response.status_code == 400
    form = response.context["edit_form"]
    assert "Too many files" in form.errors["image"][0]
    assert "at most 16 input images" in form.errors["image"][0]
    assert response.context["mode"] == "edit"


def test_too_many_files_from_htmx_returns_the_edit_form_with_the_error(settings, alice):
    response = post_files(browser(alice), "/edit/", 30, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps the form in place
    text = assert_no_secret(response)
    assert 'id="edit-form"' in text
    assert "Too many files in one request" in text
    assert "<html" not in text


def test_within_the_file_limit_the_form_judges_the_files(settings, alice):
    response = post_files(browser(alice), "/edit/", 3)
    assert response.status_code == 400
    assert "Too many files" not in response.content.decode()
    assert response.context["edit_form"].errors["image"]


def _crash(secret_in_message: bool):
    def view(*args, **kwargs):
        api_key = API_KEY  # a local named like a secret  # noqa: F841
        innocent = f"connecting with {API_KEY}"  # and one that is not  # noqa: F841
        environ = dict(ENVIRON)  # noqa: F841
        raise RuntimeError(f"upstream refused key {API_KEY}" if secret_in_message else "boom")
    return view


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_a_crash_page_never_shows_a_secret(settings, monkeypatch, alice, debug, accept):
    settings.DEBUG = debug
    monkeypatch.setattr("studio.views.recent_prompts", _crash(secret_in_message=True))
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/prompts/", HTTP_ACCEPT=accept, **ENVIRON)
    assert response.status_code == 500
    text = assert_no_secret(response)
    if debug:  # the debug page is there, with the environment and the frames, masked
        assert "upstream refused key ********************" in text
        assert "STUDIO_NOTE" in text


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
@pytest.mark.parametrize(("error", "status"), [
    (Http404("no such thing " + API_KEY), 404), (PermissionDenied("nope " + API_KEY), 403),
    (SuspiciousOperation("odd " + API_KEY), 400),
])
def test_error_pages_never_show_a_secret(settings, monkeypatch, alice, debug, error, status):
    settings.DEBUG = debug

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("studio.views.recent_prompts", fail)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/prompts/", **ENVIRON)
    assert response.status_code == status
    assert_no_secret(response)


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
def test_a_missing_url_never_shows_a_secret(settings, debug):
    settings.DEBUG = debug
    response = Client().get(f"/no-such-page/{API_KEY}/", **ENVIRON)
    assert response.status_code == 404
    assert_no_secret(response)


def test_the_filter_masks_by_name_and_by_value_with_debug_on(settings):
    settings.DEBUG = True
    reporter_filter = SecretSafeExceptionReporterFilter()
    assert reporter_filter.is_active(None)
    meta = reporter_filter.get_safe_request_meta(type("R", (), {"META": ENVIRON})())
    assert meta["OPENAI_API_KEY"] == reporter_filter.cleansed_substitute
    assert meta["DATABASE_URL"] == reporter_filter.cleansed_substitute
    assert scrub(f"x {API_KEY} y {DB_PASSWORD}") == "x ******************** y ********************"


def test_short_values_are_not_treated_as_secrets(monkeypatch):
    monkeypatch.setenv("FEATURE_TOKEN_ON", "1")
    assert "1" not in secret_values()
