"""Crafted uploads stay inert: a PNG with HTML appended is kept but only ever served as a PNG in a
sandbox; an SVG or HTML named .png is refused; a stored file that is not an image goes out as
an attachment, never as a page."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from gallery.files import sniff_image_type
from gallery.models import InputImage
from studio.models import Job
from tests.factories import make_png

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
       b'<script>alert(1)</script><rect width="64" height="64"/></svg>')


EDIT = {"prompt": "make it gold", "size": "auto", "quality": "low", "n": "1", "output_format": "png"}


def _edit(client, name: str, data: bytes, content_type: str = "image/png"):
    return client.post("/edit/", {**EDIT, "image": [SimpleUploadedFile(name, data, content_type)]})


def assert_inert(response, *, content_type: str) -> None:
    assert response["Content-Type"] == content_type
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response["Content-Type"] and "svg" not in response["Content-Type"]


def test_png_with_html_appended_is_served_as_a_png_in_a_sandbox(alice_client):
    polyglot = make_png(64, 64) + HTML
    response = _edit(alice_client, "fox.png", polyglot)
    assert response.status_code == 302, response.context and response.context["edit_form"].errors
    stored = Job.objects.get().job_inputs.get().input_image
    served = alice_client.get(f"/gallery/inputs/{stored.pk}/")
    assert served.status_code == 200
    assert_inert(served, content_type="image/png")
    assert "attachment" not in served.get("Content-Disposition", "")


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("drawing.svg", SVG, "image/svg+xml"),
    ("drawing.png", SVG, "image/png"),
    ("page.png", HTML, "image/png"),
    ("page.html", HTML, "text/html"),
])
def test_svg_and_html_uploads_are_refused_next_to_the_field(alice_client, name, data, content_type):
    response = _edit(alice_client, name, data, content_type)
    assert response.status_code == 400
    assert "is not an image that can be read" in response.context["edit_form"].errors["image"][0]
    assert not InputImage.objects.exists()
    assert not Job.objects.exists()


@pytest.mark.parametrize("data", [HTML, SVG, b"GIF89a" + HTML], ids=["html", "svg", "gif"])
def test_a_stored_file_that_is_not_an_accepted_image_is_an_attachment(alice_client, alice, data):
    # As if it had got past the form (an older release, a restored backup): the bytes decide.
    item = InputImage(created_by=alice, role=InputImage.Role.IMAGE, format="png", width=64, height=64,
                      byte_size=len(data), sha256="0" * 64, original_name="x.png")
    item.file.save("inputs/crafted.png", ContentFile(data), save=False)
    item.save()
    served = alice_client.get(f"/gallery/inputs/{item.pk}/")
    assert served.status_code == 200
    assert_inert(served, content_type="application/octet-stream")
    assert served["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(("head", "expected"), [
    (make_png(8, 8)[:16], "image/png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"), (b"RIFF\x24\x00\x00\x00AVI LIST", None),
    (HTML[:16], None), (SVG[:16], None), (b"", None),
])
def test_sniffing(head, expected):
    assert sniff_image_type(head) == expected
