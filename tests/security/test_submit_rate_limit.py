"""Per-user submit rate: past the limit a submit is refused with 429 and a message, values kept,
nothing queued; other users are not affected; the window slides; 0 turns it off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from studio.models import Job

pytestmark = pytest.mark.django_db

GENERATE = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low", "n": "1",
            "output_format": "png"}


@pytest.fixture(autouse=True)
def limit(settings):
    settings.STUDIO_SUBMIT_RATE_LIMIT = 3
    settings.STUDIO_SUBMIT_RATE_WINDOW = 60


def test_past_the_limit_a_submit_gets_429_with_the_reason_and_nothing_is_queued(alice_client):
    for _ in range(3):
        assert alice_client.post("/generate/", GENERATE).status_code == 302
    response = alice_client.post("/generate/", {**GENERATE, "prompt": "one more"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    form = response.context["generate_form"]
    assert "You have submitted 3 jobs a minute" in form.non_field_errors()[0]
    assert "one more" in response.content.decode()  # the prompt is still in the form
    assert Job.objects.count() == 3


def test_htmx_gets_the_form_fragment_with_429(alice_client):
    for _ in range(3):
        alice_client.post("/generate/", GENERATE, HTTP_HX_REQUEST="true")
    response = alice_client.post("/generate/", GENERATE, HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    text = response.content.decode()
    assert "<html" not in text and "as many as this studio allows" in text


def test_edits_count_and_are_limited_too(alice_client):
    for _ in range(3):
        alice_client.post("/generate/", GENERATE)
    response = alice_client.post("/edit/", {**GENERATE, "size": "auto",
                                            "image": [SimpleUploadedFile("a.png", b"x", "image/png")]})
    assert response.status_code == 429
    assert "as many as this studio allows" in response.context["edit_form"].non_field_errors()[0]
    assert Job.objects.count() == 3


def test_each_user_has_their_own_limit(alice_client, bob_client):
    for _ in range(3):
        alice_client.post("/generate/", GENERATE)
    assert bob_client.post("/generate/", GENERATE).status_code == 302


def test_the_window_slides(alice_client):
    for _ in range(3):
        alice_client.post("/generate/", GENERATE)
    Job.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert alice_client.post("/generate/", GENERATE).status_code == 302


def test_zero_turns_the_limit_off(settings, alice_client):
    settings.STUDIO_SUBMIT_RATE_LIMIT = 0
    for _ in range(5):
        assert alice_client.post("/generate/", GENERATE).status_code == 302
