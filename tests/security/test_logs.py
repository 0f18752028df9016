"""Structured logs: JSON lines with request id, user id and job id; the key never, prompts only
at DEBUG, image bytes never; the upstream x-request-id recorded on the job."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client

from studio.logs import ContextFilter, SecretSafeJsonFormatter
from studio.models import Job
from studio.tasks import run_job

pytestmark = pytest.mark.django_db

API_KEY = "sk-proj-logs-Vb7Nm3Kq9Wz2Xc5Lp8Rt"
PROMPT = "a secret birthday surprise for Margaret"
GENERATE = {"prompt": PROMPT, "size": "1024x1024", "quality": "low", "n": "1", "output_format": "png"}


@pytest.fixture
def log_lines(settings, monkeypatch):
    """What the production handler writes, as parsed JSON lines; ``level`` sets the root level."""
    settings.OPENAI_API_KEY = API_KEY
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SecretSafeJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s "
                                                 "%(request_id)s %(user_id)s %(job_id)s"))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)

    class Lines:
        def level(self, level: int) -> None:
            root.setLevel(level)

        @property
        def raw(self) -> str:
            return stream.getvalue()

        @property
        def parsed(self) -> list[dict]:
            return [json.loads(line) for line in self.raw.splitlines()]

    lines = Lines()
    lines.level(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def _run_queued_jobs() -> None:
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        run_job.call(job_id=job.pk)


def test_a_request_gets_an_id_that_its_log_lines_carry_with_the_user(log_lines, alice_client, alice):
    log_lines.level(logging.DEBUG)
    response = alice_client.post("/generate/", GENERATE)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    submitted = [line for line in log_lines.parsed if "submitted" in line["message"]]
    assert submitted and submitted[0]["request_id"] == request_id and submitted[0]["user_id"] == alice.pk
    assert submitted[0]["level"] == "DEBUG" and submitted[0]["logger"] == "studio.views"


def test_django_request_lines_carry_the_request_id(log_lines, alice_client):
    response = alice_client.get("/gallery/999999/")
    assert response.status_code == 404
    line = next(line for line in log_lines.parsed if line["logger"] == "django.request")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "WARNING"


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_strange_one_replaced(alice_client):
    assert alice_client.get("/", HTTP_X_REQUEST_ID="edge-7f3a.42")["X-Request-ID"] == "edge-7f3a.42"
    replaced = alice_client.get("/", HTTP_X_REQUEST_ID="<script>\n")["X-Request-ID"]
    assert replaced != "<script>\n" and len(replaced) == 32


def test_job_lines_carry_the_job_id_and_the_job_keeps_the_upstream_request_id(log_lines, alice_client):
    alice_client.post("/generate/", {**GENERATE, "prompt": "[[fault:unauthorized]] a fox"})
    _run_queued_jobs()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.request_id  # the emulator's x-request-id, as the real API's
    failed = [line for line in log_lines.parsed if line["message"].startswith(f"job {job.pk} failed")]
    assert failed and failed[0]["job_id"] == job.pk
    assert job.request_id in failed[0]["message"]


def test_a_successful_job_keeps_the_upstream_request_id(alice_client):
    alice_client.post("/generate/", GENERATE)
    _run_queued_jobs()
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED and job.request_id


def test_prompts_appear_only_at_debug(log_lines, alice_client):
    alice_client.post("/generate/", GENERATE)
    _run_queued_jobs()
    alice_client.get("/no-such-page/")
    assert log_lines.raw  # something was logged
    assert "Margaret" not in log_lines.raw
    log_lines.level(logging.DEBUG)
    alice_client.post("/generate/", GENERATE)
    assert "Margaret" in log_lines.raw


def test_the_key_never_reaches_a_log_line_even_in_a_traceback(log_lines):
    logger = logging.getLogger("studio.test")
    logger.warning("calling with %s", API_KEY)
    try:
        raise RuntimeError(f"refused: Bearer {API_KEY}")
    except RuntimeError:
        logger.exception("call failed")
    assert API_KEY not in log_lines.raw
    assert "Bearer ********************" in log_lines.raw


def test_image_bytes_are_never_written(log_lines):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    logging.getLogger("studio.test").info("received %s", png)
    logging.getLogger("studio.test").info("named %(data)s", {"data": png})
    (first, second) = log_lines.parsed
    assert first["message"] == f"received <{len(png)} bytes>"
    assert second["message"] == f"named <{len(png)} bytes>"


def test_production_settings_write_json(settings):
    assert settings.LOGGING["formatters"]["json"]["()"] == "studio.logs.SecretSafeJsonFormatter"
    assert "context" in settings.LOGGING["handlers"]["console"]["filters"]


def test_every_response_names_its_request():
    assert Client().get("/healthz")["X-Request-ID"]
