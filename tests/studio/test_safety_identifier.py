"""Every request the studio sends carries a stable, non-reversible ``safety_identifier``."""

from __future__ import annotations

import hashlib

import pytest

import imageapi.emulator
from imageapi.params import ImageInfo
from studio import services
from studio.images_client import forget_images_client
from studio.models import Job
from studio.safety import safety_identifier
from tests.factories import make_png

pytestmark = pytest.mark.django_db


def _generation(user, **overrides):
    request = {"model": "gpt-image-2", "prompt": "a kite", "n": 1, "size": "1024x1024", "quality": "low",
               "output_format": "png", "background": "auto", "moderation": "auto", **overrides}
    job = services.job_submit_generation(user=user, request=request)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def emulator_requests(monkeypatch):
    made: list[imageapi.emulator.Emulator] = []
    real = imageapi.emulator.Emulator

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(imageapi.emulator, "Emulator", recording)
    forget_images_client()
    yield lambda: [record for emulator in made for record in emulator.requests_seen
                   if record["path"].startswith("/v1/images/")]
    forget_images_client()


def test_generations_and_edits_send_the_users_identifier(alice, bob, emulator_requests):
    _generation(alice)
    _generation(alice, partial_images=1)  # streamed
    _generation(bob)
    edit = services.job_submit_edit(
        user=alice, request={"model": "gpt-image-2", "prompt": "add a hat", "n": 1, "size": "auto",
                             "quality": "low", "output_format": "png", "background": "auto"},
        images=[_upload(make_png())], mask=None)
    services.job_run(job_id=edit.pk)
    edit.refresh_from_db()
    assert edit.status == Job.Status.SUCCEEDED

    sent = [record["params"].get("safety_identifier") for record in emulator_requests()]
    alices, bobs = safety_identifier(user_id=alice.pk), safety_identifier(user_id=bob.pk)
    assert sent == [alices, alices, bobs, alices]
    assert alices != bobs and len(alices) == 64


def test_the_identifier_reveals_neither_name_nor_email_nor_pk(alice, settings):
    identifier = safety_identifier(user_id=alice.pk)
    assert alice.username and alice.username not in identifier
    assert not alice.email or alice.email not in identifier
    assert identifier != str(alice.pk)
    # Not a plain hash of the pk either: without SECRET_KEY it cannot be recomputed.
    assert identifier not in {hashlib.sha256(str(alice.pk).encode()).hexdigest(),
                              hashlib.sha256(alice.username.encode()).hexdigest()}
    assert safety_identifier(user_id=alice.pk) == identifier  # stable
    settings.SECRET_KEY = "another-deployment-key-" + "x" * 40
    assert safety_identifier(user_id=alice.pk) != identifier


def test_the_stored_request_does_not_keep_the_identifier(alice, emulator_requests):
    job = _generation(alice)
    assert "safety_identifier" not in job.request
    assert all("safety_identifier" not in image.request for image in job.images.all())


def _upload(data: bytes) -> services.Upload:
    return services.Upload(data=data, info=ImageInfo(format="png", width=1024, height=1024, has_alpha=True,
                                                      byte_size=len(data)), name="input.png")
