import pytest

from studio import services
from tests.conftest import make_mask, make_png


def make_image(user, *, prompt="a quiet harbour", **request):
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png", **request})
    services.job_run(job_id=job.pk)
    return job.images.get()


def make_edit(user, *, prompt="paint the sky gold"):
    from imageapi.images import inspect_image

    source, mask = make_png(), make_mask()
    job = services.job_submit_edit(
        user=user,
        request={"model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "auto", "quality": "low"},
        images=[services.Upload(data=source, info=inspect_image(source), name="room.png")],
        mask=services.Upload(data=mask, info=inspect_image(mask), name="mask.png"),
    )
    services.job_run(job_id=job.pk)
    return job.images.get()


@pytest.fixture
def alice_image(alice):
    return make_image(alice)


@pytest.fixture
def alice_edit(alice):
    return make_edit(alice)
