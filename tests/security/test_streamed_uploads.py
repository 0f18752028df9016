"""Uploads stream to temporary files and are never read whole: the edit form inspects them in
place and the services hash and store them a chunk at a time (memory measured by `make bench`)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image as PILImage

from studio.models import Job

pytestmark = pytest.mark.django_db

LARGEST_READ = 1024 * 1024  # no single read anywhere near a whole file


def big_png(megabytes: int) -> bytes:
    """A PNG of about ``megabytes`` MB: random pixels, stored uncompressed."""
    side = int((megabytes * 1024 * 1024 / 4) ** 0.5)
    picture = PILImage.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=0)
    return out.getvalue()


@pytest.fixture
def reads(monkeypatch):
    """Every read() of an upload spooled to disk, by the size asked for (None or -1 = all of it)."""
    sizes: list[int | None] = []
    original = TemporaryUploadedFile.read

    def recording(self):
        inner = original.fget(self)

        def read(size=-1):
            sizes.append(size)
            return inner(size)
        return read

    monkeypatch.setattr(TemporaryUploadedFile, "read", property(recording))
    return sizes


def test_an_edit_with_large_inputs_never_reads_a_file_whole(settings, alice_client, reads):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440
    data = big_png(6)
    response = alice_client.post("/edit/", {
        "prompt": "make it gold", "size": "auto", "quality": "low", "n": "1", "output_format": "png",
        "image": [SimpleUploadedFile("a.png", data, "image/png"), SimpleUploadedFile("b.png", data, "image/png")],
    })
    assert response.status_code == 302
    assert reads, "the uploads were spooled to disk and read from there"
    assert all(size is not None and 0 < size <= LARGEST_READ for size in reads), sorted(set(reads), key=str)
    stored = [link.input_image for link in Job.objects.get().job_inputs.all()]
    assert [item.byte_size for item in stored] == [len(data), len(data)]
    assert stored[0].sha256 == hashlib.sha256(data).hexdigest()
    with stored[1].file.open("rb") as handle:
        assert handle.read() == data
    assert (stored[0].width, stored[0].format) == (PILImage.open(io.BytesIO(data)).width, "png")


def test_a_gallery_image_as_input_is_copied_not_read_whole(alice_client, alice):
    from studio import services

    job = services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "a fox", "n": 1, "size": "1024x1024", "quality": "low"})
    services.job_run(job_id=job.pk)
    image = job.images.get()
    response = alice_client.post("/edit/", {"prompt": "gold", "size": "auto", "quality": "low", "n": "1",
                                            "inputs": [f"gallery:{image.pk}"]})
    assert response.status_code == 302
    copied = Job.objects.filter(kind=Job.Kind.EDIT).get().job_inputs.get().input_image
    assert copied.sha256 == image.sha256 and copied.source_image == image
