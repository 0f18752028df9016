import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from PIL import Image as PILImage

from gallery.models import Image, InputImage
from gallery.storage import stored_names
from imageapi.params import ImageInfo
from imageapi.pricing import Usage, cost_usd, output_image_tokens
from studio import pricebook, services
from studio.models import Job, JobInput, PriceEntry
from studio.tasks import job_enqueue
from teams.models import Space
from tests.factories import make_mask, make_png

pytestmark = pytest.mark.django_db


def _request(**overrides):
    return {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024",
            "quality": "low", "output_format": "png", "background": "auto", "moderation": "auto", **overrides}


def _run(user, **overrides) -> Job:
    job = services.job_submit_generation(user=user, request=_request(**overrides))
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _upload(data: bytes) -> services.Upload:
    with PILImage.open(io.BytesIO(data)) as picture:
        info = ImageInfo(format="png", width=picture.width, height=picture.height,
                         has_alpha=picture.mode == "RGBA", byte_size=len(data))
    return services.Upload(data=data, info=info, name="input.png")


def _stored_files():
    return [name for folder in ("images", "thumbs", "inputs", "previews")
            if default_storage.exists(folder) for name in stored_names(default_storage, folder)]


def test_submit_enqueues_the_job_once_the_transaction_commits(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.job_submit_generation(user=alice, request=_request(), enqueue=job_enqueue)
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["kwargs"] == {"job_id": job.pk}
    assert job.status == Job.Status.QUEUED


def test_a_successful_job_stores_every_image_with_usage_and_cost(alice):
    job = _run(alice, n=2, quality="high", size="1536x1024")
    assert job.status == Job.Status.SUCCEEDED
    assert job.progress == 100 and job.attempts == 1
    assert job.request_id.startswith("req_")
    expected_output = 2 * output_image_tokens(1536, 1024, "high")
    assert job.usage["output_tokens"] == expected_output
    assert job.price_entry == pricebook.price_entry_for(model="gpt-image-2") and not job.price_unknown
    assert job.cost_usd == cost_usd(Usage.from_api(job.usage), prices=pricebook.prices_of(job.price_entry))
    images = list(job.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    assert sum(image.cost_usd for image in images) == job.cost_usd
    for image in images:
        assert (image.width, image.height, image.format, image.quality) == (1536, 1024, "png", "high")
        assert image.request == job.request and image.snapshot == "gpt-image-2-2026-04-21"
        with image.file.open("rb") as handle:
            assert handle.read()[:8] == b"\x89PNG\r\n\x1a\n"
        with PILImage.open(image.thumbnail.path) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) == 512
    assert images[0].sha256 != images[1].sha256


def test_streamed_partials_are_counted_and_the_preview_dropped_at_the_end(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _run(alice, partial_images=2)
    assert job.status == Job.Status.SUCCEEDED
    assert job.partials_received == 2
    assert job.usage["output_tokens"] == output_image_tokens(1024, 1024, "low") + 200
    assert not job.preview
    assert not [name for name in _stored_files() if name.startswith("previews/")]


def test_jpeg_with_compression_is_kept_byte_for_byte(alice):
    job = _run(alice, output_format="jpeg", output_compression=40)
    image = job.images.get()
    assert image.format == "jpeg" and image.download_name.endswith(".jpg")
    with image.file.open("rb") as handle:
        data = handle.read()
    assert data[:3] == b"\xff\xd8\xff" and image.byte_size == len(data)


@pytest.mark.parametrize(("fault", "code", "words"), [
    ("moderation", "moderation_blocked", "safety system"),
    ("insufficient_quota", "insufficient_quota", "quota"),
    ("unauthorized", "invalid_api_key", "Incorrect API key"),
])
def test_a_refused_job_fails_at_once_with_the_apis_words(alice, fault, code, words):
    job = _run(alice, prompt=f"a cat [[fault:{fault}]]")
    assert job.status == Job.Status.FAILED
    assert job.error_code == code and words in job.error_message
    assert job.calls == 1  # never retried
    assert not Image.objects.exists() and not _stored_files()


@pytest.mark.parametrize("fault", ["rate_limit:2", "server_error:1", "unavailable:2", "timeout:1"])
def test_transient_errors_are_retried_and_the_attempts_recorded(alice, fault):
    job = _run(alice, prompt=f"a dog [[fault:{fault}]]")
    assert job.status == Job.Status.SUCCEEDED
    assert job.calls == 1 + int(fault.split(":")[1])
    assert job.images.count() == 1


def test_transient_errors_beyond_the_retries_fail_the_job(alice):
    job = _run(alice, prompt="a dog [[fault:server_error]]")
    assert job.status == Job.Status.FAILED
    assert job.calls == 3  # the first try and two retries, as the SDK does
    assert job.error_message and "api key" not in job.error_message.lower()


def test_a_stream_cut_before_any_event_is_retried(alice):
    job = _run(alice, prompt="a bridge [[fault:stream_cut:1]]", partial_images=0)
    assert job.status == Job.Status.SUCCEEDED
    assert job.calls == 2


def test_a_stream_cut_after_a_preview_fails_without_a_second_call(alice):
    # A second request would be a second paid generation (issue 9).
    job = _run(alice, prompt="a bridge [[fault:stream_cut:1]]", partial_images=2)
    assert job.status == Job.Status.FAILED
    assert job.error_message == "The connection dropped after 1 preview; resubmit."
    assert job.calls == 1


def test_a_malformed_answer_fails_the_job_without_a_retry(alice):
    job = _run(alice, prompt="a bridge [[fault:malformed_json]]")
    assert job.status == Job.Status.FAILED
    assert "not JSON" in job.error_message and job.calls == 1


def test_an_unexpected_error_fails_the_job_with_a_plain_message(alice, monkeypatch):
    def explode(job, result, owner):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_complete", explode)
    job = _run(alice)
    assert job.status == Job.Status.FAILED
    assert job.error_message == services.UNEXPECTED_ERROR_MESSAGE


def test_a_failure_while_storing_leaves_no_rows_or_files(alice, monkeypatch):
    from gallery import services as gallery_services

    calls = []
    original = gallery_services.image_ingest

    def fail_on_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(services, "image_ingest", fail_on_second)
    job = _run(alice, n=2)
    assert job.status == Job.Status.FAILED
    assert not Image.objects.exists()
    assert not _stored_files()


def test_cancel_a_queued_job(alice):
    job = services.job_submit_generation(user=alice, request=_request())
    assert services.job_cancel(job=job) is True
    services.job_run(job_id=job.pk)  # the worker picks it up later: nothing happens
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.attempts == 0
    assert not Image.objects.exists()


def test_cancel_a_running_job_stops_it_at_the_next_preview(alice, django_capture_on_commit_callbacks):
    job = services.job_submit_generation(user=alice, request=_request(partial_images=3))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    assert services.job_cancel(job=job) is True
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # let job_run claim it
    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert not Image.objects.exists() and not _stored_files()


def test_a_job_cancelled_while_the_call_ran_keeps_its_cost_but_no_images(alice, monkeypatch):
    job = services.job_submit_generation(user=alice, request=_request())
    original = services._call_api

    def call_then_cancel(job_, *args):
        result = original(job_, *args)
        assert services.job_cancel(job=job_) is True  # the user cancels while the call runs
        return result

    monkeypatch.setattr(services, "_call_api", call_then_cancel)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.cost_usd > Decimal(0)
    assert not Image.objects.exists()


def test_finished_jobs_cannot_be_cancelled_or_rerun(alice):
    job = _run(alice)
    assert services.job_cancel(job=job) is False
    services.job_run(job_id=job.pk)
    assert Image.objects.count() == 1


def test_an_edit_stores_inputs_and_mask_and_repaints_only_the_masked_area(alice):
    source = make_png(1024, 1024, color=(10, 120, 200, 255))
    request = {name: value for name, value in _request(size="auto").items() if name != "moderation"}
    job = services.job_submit_edit(user=alice, request=request, images=[_upload(source)],
                                   mask=_upload(make_mask()))
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    image = job.images.get()
    assert image.kind == "edit" and image.mask is not None
    assert [link.input_image.role for link in image.image_inputs.all()] == [InputImage.Role.IMAGE]
    assert job.usage["input_tokens_details"]["image_tokens"] > 0
    with PILImage.open(image.file.path) as result:
        result = result.convert("RGBA")
        assert result.getpixel((10, 10)) == (10, 120, 200, 255)  # outside the mask: untouched
        assert result.getpixel((512, 512)) != (10, 120, 200, 255)  # inside: repainted


def test_an_edit_that_fails_to_save_leaves_no_input_files(alice, monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Job.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        services.job_submit_edit(user=alice, request=_request(), images=[_upload(make_png())], mask=None)
    assert not InputImage.objects.exists()
    assert not _stored_files()


def test_a_job_s_creator_space_and_price_are_read_with_the_job(alice):
    # A worker runs a thousand of these at once: each extra query a job makes is paid a thousand times.
    job = services.job_submit_generation(user=alice, request=_request())
    assert job.price_entry_id is not None
    with CaptureQueriesContext(connection) as captured:
        services.job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    alone = [query["sql"] for query in captured.captured_queries
             if query["sql"].startswith("SELECT") and any(
                 f'FROM "{table}"' in query["sql"]
                 for table in (alice._meta.db_table, Space._meta.db_table, PriceEntry._meta.db_table,
                               JobInput._meta.db_table))]  # a generation has no inputs to read
    assert alone == []
