"""Files in an S3-compatible bucket (STUDIO_STORAGE=s3), against a real S3 server.

The server is moto's (from PyPI) in server mode, started by the tests on a free port of
127.0.0.1: boto3 and django-storages speak real HTTP to it, nothing is mocked in the client.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, TestCase
from django.utils import timezone

from gallery.models import Image, InputImage
from gallery.services import share_link_create
from studio import services
from studio.models import Job
from tests.factories import make_mask, make_png
from tests.s3 import moto_server, use_bucket

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def s3_server():
    yield from moto_server()


@pytest.fixture
def s3(s3_server, settings):
    return use_bucket(settings, s3_server)


def _local_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _generate(user, **request) -> Job:
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png", **request})
    _run(job)
    return job


def _run(job: Job) -> None:
    # As after a real commit: the worker then drops the job's receipt files (the images replace them).
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.job_run(job_id=job.pk)
    job.refresh_from_db()


def _edit(user) -> Job:
    from imageapi.images import inspect_image

    source, mask = make_png(), make_mask()
    job = services.job_submit_edit(
        user=user, request={"model": "gpt-image-2", "prompt": "paint the sky gold", "n": 1, "size": "auto",
                            "quality": "low"},
        images=[services.Upload(data=source, info=inspect_image(source), name="room.png")],
        mask=services.Upload(data=mask, info=inspect_image(mask), name="mask.png"),
    )
    _run(job)
    return job


def _follow(response) -> httpx.Response:
    """What a browser gets from the bucket after the view's redirect."""
    assert response.status_code == 302, response.status_code
    return httpx.get(response["Location"], timeout=10)


def _streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# -- writing ----------------------------------------------------------------------------------


def test_a_generation_stores_the_original_and_thumbnail_in_the_bucket(s3, settings, alice,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _generate(alice, partial_images=2)
    assert job.status == Job.Status.SUCCEEDED and job.partials_received == 2
    image = job.images.get()
    assert s3.listing() == sorted([image.file.name, image.thumbnail.name])  # previews written, then dropped
    assert s3.body(image.file.name)[:8] == b"\x89PNG\r\n\x1a\n"
    assert s3.body(image.thumbnail.name)[8:12] == b"WEBP"
    assert _local_files(settings) == []


def test_an_edit_stores_its_inputs_and_mask_in_the_bucket(s3, settings, alice):
    job = _edit(alice)
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    image = job.images.get()
    stored = InputImage.objects.all()
    assert {item.role for item in stored} == {"image", "mask"}
    assert set(s3.listing("inputs/")) == {item.file.name for item in stored}
    assert s3.body(image.mask.file.name) == make_mask()
    assert _local_files(settings) == []


def test_a_partial_preview_is_served_from_the_bucket(s3, alice_client, alice):
    job = _generate(alice)
    job.preview.save(f"job-{job.pk}-partial-0.png", ContentFile(make_png(8, 8)), save=True)
    assert job.preview.name in s3.listing("previews/")
    response = alice_client.get(f"/jobs/{job.pk}/preview/")
    assert response["Cache-Control"] == "private, no-store"
    fetched = _follow(response)
    assert fetched.status_code == 200 and fetched.content == make_png(8, 8)


# -- serving ----------------------------------------------------------------------------------


def test_a_download_redirects_to_a_short_lived_signed_url_for_the_browser(s3, alice_client, alice):
    image = _generate(alice).images.get()
    response = alice_client.get(f"/gallery/{image.pk}/original/", {"download": "1"})
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == s3.public  # the browser's address, not the app's
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
    # Headers the bucket must answer with, fixed by the signature (moto ignores them; S3 and MinIO obey).
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"] == [f'attachment; filename="{image.download_name}"']
    assert query["response-cache-control"] == ["private, max-age=86400, immutable"]
    assert response["Cache-Control"] == "private, max-age=150"
    fetched = _follow(response)
    assert fetched.status_code == 200
    assert fetched.content == s3.body(image.file.name)


def test_thumbnails_are_signed_with_their_content_type(s3, alice_client, alice):
    image = _generate(alice).images.get()
    response = alice_client.get(f"/gallery/{image.pk}/thumbnail/")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-type"] == ["image/webp"] and "response-content-disposition" not in query
    assert _follow(response).content[8:12] == b"WEBP"


def test_with_redirects_off_the_view_streams_the_bytes(s3, settings, alice_client, alice):
    settings.STUDIO_S3_REDIRECT = False
    image = _generate(alice).images.get()
    response = alice_client.get(f"/gallery/{image.pk}/original/", {"download": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{image.download_name}"'
    assert _streamed(response) == s3.body(image.file.name)


def test_a_mask_is_streamed_so_the_painter_may_read_its_pixels(s3, alice_client, alice):
    image = _edit(alice).images.get()
    response = alice_client.get(f"/gallery/inputs/{image.mask.pk}/")
    assert response.status_code == 200 and _streamed(response) == make_mask()
    source = InputImage.objects.get(role=InputImage.Role.IMAGE)
    assert alice_client.get(f"/gallery/inputs/{source.pk}/").status_code == 302


def test_the_permission_check_comes_before_any_signed_url(s3, bob_client, alice):
    image = _generate(alice).images.get()
    for path in (f"/gallery/{image.pk}/original/", f"/gallery/{image.pk}/thumbnail/"):
        response = bob_client.get(path)
        assert response.status_code == 404 and "Location" not in response
    assert Client().get(f"/gallery/{image.pk}/original/").status_code == 302  # to the login page
    assert "/accounts/login/" in Client().get(f"/gallery/{image.pk}/original/")["Location"]


def test_no_object_is_ever_publicly_readable(s3, alice):
    job = _edit(alice)
    keys = s3.listing()
    assert len(keys) == 4  # original, thumbnail, input, mask
    for key in keys:
        assert httpx.get(f"{s3.endpoint}/{s3.bucket}/{key}", timeout=10).status_code == 403
        assert httpx.get(f"{s3.public}/{s3.bucket}/{key}", timeout=10).status_code == 403
    # The same server does serve an object an uploader made public: the refusal above is the ACL's.
    s3.client.put_object(Bucket=s3.bucket, Key="public.txt", Body=b"open", ACL="public-read")
    assert httpx.get(f"{s3.endpoint}/{s3.bucket}/public.txt", timeout=10).status_code == 200
    assert job.images.count() == 1


def test_a_zip_of_several_images_reads_them_from_the_bucket(s3, alice_client, alice):
    first = _generate(alice, prompt="one").images.get()
    second = _generate(alice, prompt="two").images.get()
    response = alice_client.post("/gallery/bulk/", {"action": "zip", "image": [first.pk, second.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(_streamed(response))) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    assert contents == {first.download_name: s3.body(first.file.name),
                        second.download_name: s3.body(second.file.name)}


def test_a_share_link_serves_the_bucket_files_to_anyone(s3, alice):
    image = _generate(alice).images.get()
    link = share_link_create(user=alice, target=image, days=7, show_prompt=False)
    anonymous = Client()
    page = anonymous.get(f"/s/{link.token}/")
    assert page.status_code == 200 and page.context["images"] == [image]
    response = anonymous.get(f"/s/{link.token}/0/image/", {"download": "1"})
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-disposition"] == ['attachment; filename="shared-1.png"']
    assert _follow(response).content == s3.body(image.file.name)
    thumbnail = _follow(anonymous.get(f"/s/{link.token}/0/thumbnail/"))
    assert thumbnail.content[8:12] == b"WEBP"


def test_a_redirect_is_never_kept_longer_than_the_file_may_be(s3, settings, alice):
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {
        **default, "OPTIONS": {**default["OPTIONS"], "querystring_expire": 3600}}}
    image = _generate(alice).images.get()
    link = share_link_create(user=alice, target=image, days=7, show_prompt=False)
    response = Client().get(f"/s/{link.token}/0/thumbnail/")
    assert parse_qs(urlsplit(response["Location"]).query)["X-Amz-Expires"] == ["3600"]
    assert response["Cache-Control"] == "private, max-age=300"  # a share's files: five minutes at most


def test_purging_the_trash_deletes_the_objects(s3, alice, django_capture_on_commit_callbacks):
    old = _generate(alice, prompt="old").images.get()
    recent = _generate(alice, prompt="recent").images.get()
    Image.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    Image.objects.filter(pk=recent.pk).update(deleted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_trash", stdout=io.StringIO())
    assert s3.listing() == sorted([recent.file.name, recent.thumbnail.name])


def test_a_failed_ingest_leaves_no_object_behind(s3, alice, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Image, "save", broken_save)
    job = _generate(alice)
    assert job.status != Job.Status.SUCCEEDED and not Image.objects.exists()
    # The images written before the failure are gone; only the API's answer may stay, as its receipt.
    assert s3.listing("images/") == [] and s3.listing("thumbs/") == []
    assert set(s3.listing()) <= {item["name"] for item in (job.receipt or {}).get("images", [])}



def test_storage_check_reads_the_bucket(s3, alice):
    """storage_check (issue 9) through the storage API: clean, then naming an object gone missing."""
    from django.core.management import get_commands

    if "storage_check" not in get_commands():
        pytest.skip("storage_check is not in this build yet")
    image = _generate(alice).images.get()
    call_command("storage_check", stdout=io.StringIO(), stderr=io.StringIO())
    s3.client.delete_object(Bucket=s3.bucket, Key=image.file.name)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("storage_check", stdout=out, stderr=err)
    except (SystemExit, Exception) as exc:  # a failing check may exit non-zero
        err.write(str(exc))
    assert image.file.name in out.getvalue() + err.getvalue()


# -- storage_migrate ----------------------------------------------------------------------------


def _migrate(*args: str) -> str:
    out = io.StringIO()
    call_command("storage_migrate", "--to", "s3", *args, stdout=out)
    return out.getvalue()


def test_storage_migrate_copies_the_disk_to_the_bucket_and_can_be_rerun(s3, settings, alice, alice_client):
    bucket_storage = settings.STORAGES
    settings.STORAGES = {**bucket_storage, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    image = _edit(alice).images.get()
    root = Path(settings.MEDIA_ROOT)
    on_disk = {path.relative_to(root).as_posix(): path.read_bytes() for path in _local_files(settings)}
    assert len(on_disk) == 4 and image.file.name in on_disk  # original, thumbnail, input, mask
    settings.STORAGES = bucket_storage

    assert "Would copy 4 file(s)" in _migrate("--dry-run") and s3.listing() == []
    assert "Copied 4 file(s)" in _migrate()
    assert {key: s3.body(key) for key in s3.listing()} == on_disk
    # The rows still name the files, so the app serves them from the bucket at once.
    assert _follow(alice_client.get(f"/gallery/{image.pk}/original/")).content == on_disk[image.file.name]

    assert "Copied 0 file(s) to bucket" in _migrate() and "4 already there" in _migrate()
    # A broken upload (cut short) is replaced on the next run.
    s3.client.put_object(Bucket=s3.bucket, Key=image.file.name, Body=b"cut short")
    assert "Copied 1 file(s)" in _migrate()
    assert s3.body(image.file.name) == on_disk[image.file.name] and len(s3.listing()) == 4


def test_storage_migrate_refuses_without_a_bucket_configured(settings):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="STUDIO_STORAGE=s3"):
        _migrate()
