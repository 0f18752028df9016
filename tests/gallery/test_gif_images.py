"""GIF output (gpt-image-2.6, issue 11) end to end: asked for in the studio form, made by the
emulator, stored as the GIF it is, thumbnailed from its first frame, served as image/gif (inline,
inert) and shown animated on the image page."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from gallery.files import sniff_image_type
from gallery.models import Image, InputImage
from studio import services
from studio.models import Job

pytestmark = pytest.mark.django_db

GIF_REQUEST = {"model": "gpt-image-2.6-flare", "prompt": "a kite over the dunes", "size": "1024x1024",
               "quality": "low", "n": "1", "output_format": "gif", "frame_count": "4", "frame_duration_ms": "120",
               "background": "auto", "moderation": "auto", "partial_images": "2"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def gif_image(alice_client) -> Image:
    response = alice_client.post("/generate/", GIF_REQUEST)
    assert response.status_code == 302, response.context and response.context["generate_form"].errors
    job = Job.objects.get()
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    return job.images.get()


def test_a_26_gif_job_is_stored_as_an_animated_gif(gif_image):
    assert gif_image.format == "gif" and gif_image.file.name.endswith(".gif")
    assert (gif_image.width, gif_image.height) == (1024, 1024)
    with gif_image.file.open("rb") as handle, PILImage.open(handle) as stored:
        assert stored.format == "GIF" and stored.n_frames == 4 and stored.is_animated
        assert stored.info["duration"] == 120
    assert gif_image.request["frame_count"] == 4 and "partial_images" not in gif_image.request


def _mean_difference(a: PILImage.Image, b: PILImage.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_its_thumbnail_is_the_first_frame_as_a_still_webp(gif_image):
    with gif_image.file.open("rb") as handle, PILImage.open(handle) as stored:
        first = stored.convert("RGB").resize((64, 64))
        stored.seek(2)
        third = stored.convert("RGB").resize((64, 64))
    with gif_image.thumbnail.open("rb") as handle, PILImage.open(handle) as thumbnail:
        assert thumbnail.format == "WEBP" and not getattr(thumbnail, "is_animated", False)
        assert max(thumbnail.size) == 512
        still = thumbnail.convert("RGB").resize((64, 64))
    # Close to the first frame (WebP is lossy); the frames pan, so another one differs more.
    assert _mean_difference(first, still) < _mean_difference(third, still) / 2


def test_it_is_served_as_an_inert_image_gif_and_downloads_as_a_gif(alice_client, gif_image):
    inline = alice_client.get(f"/gallery/{gif_image.pk}/original/")
    data = _body(inline)
    assert inline["Content-Type"] == "image/gif" and data[:6] == b"GIF89a"
    assert "attachment" not in inline.get("Content-Disposition", "")
    assert "sandbox" in inline["Content-Security-Policy"] and inline["X-Content-Type-Options"] == "nosniff"
    with PILImage.open(io.BytesIO(data)) as served:
        assert served.n_frames > 1
    download = alice_client.get(f"/gallery/{gif_image.pk}/original/?download=1")
    assert download["Content-Disposition"] == f'attachment; filename="studio-{gif_image.pk}.gif"'
    assert download["Content-Type"] == "image/gif"


def test_the_image_page_shows_it_animated(alice_client, gif_image):
    html = alice_client.get(f"/gallery/{gif_image.pk}/").content.decode()
    assert f'<img src="/gallery/{gif_image.pk}/original/"' in html  # the GIF itself, not the still thumbnail
    assert "animated, 4 frames of 120 ms" in html and "Download GIF" in html


def test_the_gallery_can_be_filtered_to_gifs(alice_client, gif_image, alice_image):
    html = alice_client.get("/gallery/", {"format": "gif"}).content.decode()
    assert f"/gallery/{gif_image.pk}/" in html and f"/gallery/{alice_image.pk}/\"" not in html


def test_a_gif_stored_as_an_edit_input_is_still_an_attachment(alice_client, alice, gif_image):
    # Inputs are PNG, WebP or JPEG: a GIF there got past no form of ours, so it is not shown as an image.
    with gif_image.file.open("rb") as handle:
        data = handle.read()
    item = InputImage(created_by=alice, role=InputImage.Role.IMAGE, format="png", width=8, height=8,
                      byte_size=len(data), sha256="0" * 64, original_name="x.png")
    item.file.save("inputs/animated.png", ContentFile(data), save=False)
    item.save()
    served = alice_client.get(f"/gallery/inputs/{item.pk}/")
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")


def test_sniffing_types_a_gif_only_where_gifs_are_accepted():
    head = b"GIF89a\x10\x00\x10\x00\x80\x00\x00"
    assert sniff_image_type(head) is None
    assert sniff_image_type(head, formats=frozenset({"png", "gif"})) == "image/gif"
