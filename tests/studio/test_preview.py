"""A job's preview is replaced by the worker as partial images arrive: a read that loses the race
is a 404 the page retries, and a read already under way finishes with the bytes it started on."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from studio import views
from studio.models import Job
from tests.factories import JobFactory, generate_image, make_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(alice):
    job = JobFactory(created_by=alice, status=Job.Status.RUNNING, progress=40, finished_at=None)
    job.preview.save("preview.png", ContentFile(make_png(64, 64)))
    return job


def test_the_current_preview_is_served_uncached(alice_client, running):
    response = alice_client.get(f"/jobs/{running.pk}/preview/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    with running.preview.open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()


def test_a_preview_replaced_before_it_is_opened_is_not_found(alice_client, running, monkeypatch):
    def job_then_replaced(user, pk):
        job = real(user, pk)
        default_storage.delete(job.preview.name)  # the worker saved a newer one in the meantime
        return job

    real = views.get_visible_job
    monkeypatch.setattr(views, "get_visible_job", job_then_replaced)
    assert alice_client.get(f"/jobs/{running.pk}/preview/").status_code == 404


def test_a_preview_replaced_while_being_read_is_sent_whole(alice_client, running):
    with running.preview.open("rb") as handle:
        expected = handle.read()
    response = alice_client.get(f"/jobs/{running.pk}/preview/")
    default_storage.delete(running.preview.name)  # replaced after the file was opened
    assert b"".join(response.streaming_content) == expected


def test_a_job_without_a_preview_has_none(alice_client, alice):
    job = JobFactory(created_by=alice, status=Job.Status.QUEUED)
    assert alice_client.get(f"/jobs/{job.pk}/preview/").status_code == 404


def test_another_users_preview_is_not_found(bob_client, running):
    assert bob_client.get(f"/jobs/{running.pk}/preview/").status_code == 404


def test_a_finished_jobs_preview_shows_its_result(alice_client, alice):
    """The card of a job that just finished may still be loading its last preview, which the
    worker removed: the picture it gets is the result, not a broken image."""
    image = generate_image(alice)
    response = alice_client.get(f"/jobs/{image.job.pk}/preview/")
    assert response.status_code == 302 and response["Location"] == f"/gallery/{image.pk}/thumbnail/"
