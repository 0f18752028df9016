"""Jobs that are never lost: leases, recovery, receipts, cancel in every state, storage checks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gallery.models import Image
from studio import services
from studio.models import Job, WorkerHeartbeat
from studio.tasks import job_enqueue
from tests.factories import make_worker

pytestmark = pytest.mark.django_db


def _request(**overrides):
    return {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024",
            "quality": "low", "output_format": "png", **overrides}


def _submit(user, **overrides) -> Job:
    return services.job_submit_generation(user=user, request=_request(**overrides))


def _running(job: Job, *, owner="dead-worker", expired=True) -> Job:
    """The job as a worker left it when it died mid-call (its lease ran out, or not yet)."""
    claimed = services._claim(job.pk, owner)
    assert claimed is not None
    if expired:
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    claimed.refresh_from_db()
    return claimed


class Crash(BaseException):
    """Stands for SIGKILL: nothing in the job's code catches it."""


def _recover() -> services.Recovery:
    return services.jobs_recover(enqueue=job_enqueue)


def test_a_claimed_job_holds_a_lease_its_worker_renews(alice, settings):
    settings.STUDIO_JOB_LEASE_SECONDS = 30
    job = _running(_submit(alice), owner="w1", expired=False)
    assert job.lease_owner == "w1" and job.attempts == 1
    assert 25 < (job.lease_expires_at - timezone.now()).total_seconds() <= 30
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert services.jobs_renew_leases(owner="w1") == 1
    assert services.jobs_renew_leases(owner="someone-else") == 0
    job.refresh_from_db()
    assert (job.lease_expires_at - timezone.now()).total_seconds() > 25
    assert _recover().job_ids == []  # a live lease is left alone


def test_an_expired_lease_is_recovered_and_queued_again(alice, django_capture_on_commit_callbacks):
    job = _running(_submit(alice))
    with django_capture_on_commit_callbacks(execute=True):
        recovery = _recover()
    assert recovery.requeued == [job.pk] and recovery.failed == []
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.lease_owner == "" and job.interrupted == 1
    assert DBTaskResult.objects.filter(status="READY", args_kwargs__kwargs__job_id=job.pk).count() == 1
    assert _recover().job_ids == []  # taken back once only

    services.job_run(job_id=job.pk)  # another worker runs it
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2 and job.images.count() == 1


def test_the_card_says_an_earlier_attempt_was_interrupted(alice, alice_client):
    job = _running(_submit(alice))
    _recover()
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "An earlier attempt was interrupted" in html and "may have been billed" in html


def test_past_the_attempt_limit_the_job_fails_with_a_reason(alice, settings, alice_client):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 2
    job = _submit(alice)
    for _ in range(2):
        _running(job)
        _recover()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "interrupted"
    assert "stopped 2 times" in job.error_message and "submit it again" in job.error_message
    assert job.finished_at is not None and job.lease_owner == ""
    assert "stopped 2 times" in alice_client.get(f"/jobs/{job.pk}/").content.decode()


def test_recovery_removes_the_preview_of_the_interrupted_attempt(alice, django_capture_on_commit_callbacks):
    job = _running(_submit(alice))
    name = default_storage.save("previews/2026/01/job-partial-0.png", ContentFile(b"preview"))
    Job.objects.filter(pk=job.pk).update(preview=name, partials_received=1)
    with django_capture_on_commit_callbacks(execute=True):
        _recover()
    job.refresh_from_db()
    assert not job.preview and job.partials_received == 0
    assert not default_storage.exists(name)


def test_a_crash_after_the_answer_is_recovered_from_the_receipt_without_a_second_call(alice, monkeypatch):
    job = _submit(alice, n=2)

    def crash(*args):
        raise Crash

    monkeypatch.setattr(services, "_complete", crash)
    with pytest.raises(Crash):
        services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.receipt is not None
    # The call is paid for: its usage and cost are on the job before any image is stored.
    assert job.cost_usd > Decimal(0) and job.usage["output_tokens"] > 0
    request_id, cost = job.receipt["request_id"], job.cost_usd
    assert all(default_storage.exists(item["name"]) for item in job.receipt["images"])

    monkeypatch.undo()

    def no_second_call():
        raise AssertionError("the API was called again")

    monkeypatch.setattr(services, "get_images_client", no_second_call)
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    _recover()
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.receipt is None
    assert job.request_id == request_id and job.cost_usd == cost
    images = list(job.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    assert {image.request_id for image in images} == {request_id}
    assert sum(image.cost_usd for image in images) == cost


def test_usage_and_cost_are_kept_when_storing_the_images_fails(alice, monkeypatch):
    def broken_ingest(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "image_ingest", broken_ingest)
    job = _submit(alice)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.cost_usd > Decimal(0) and job.request_id
    assert not Image.objects.exists()


def test_an_unreadable_receipt_fails_the_job_with_a_reason(alice):
    job = _running(_submit(alice))
    Job.objects.filter(pk=job.pk).update(receipt={"images": [{"name": "receipts/gone.png", "format": "png",
                                                               "index": 0}], "usage": {}})
    _recover()
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "receipt_unreadable"


# -- cancel in every state ---------------------------------------------------------------------


def test_cancel_a_running_job_ends_it_at_once_and_the_call_may_still_be_billed(alice, alice_client):
    job = _running(_submit(alice), owner="live-worker", expired=False)
    response = alice_client.post(f"/jobs/{job.pk}/cancel/", headers={"HX-Request": "true"})
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at is not None and job.lease_owner == ""
    assert "may still be billed" in response.content.decode()
    # The worker's call comes back later: nothing is stored, but what it cost is kept.
    result = services.get_images_client().generate(**_request())
    assert services._receipt_save(job, result, "live-worker") is False
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.cost_usd > Decimal(0)
    assert not Image.objects.exists()


def test_cancel_a_job_whose_worker_is_gone_ends_it_at_once(alice):
    job = _running(_submit(alice), expired=True)
    assert services.job_cancel(job=job) is True
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert _recover().job_ids == []  # nothing left to recover


def test_cancel_while_streaming_stops_at_the_next_preview(alice, monkeypatch, django_capture_on_commit_callbacks):
    job = _submit(alice, partial_images=2)
    original = services._record_partial
    seen = []

    def cancel_after_first(job_, partial, owner):
        if seen:
            services.job_cancel(job=job_)
        seen.append(1)
        return original(job_, partial, owner)

    monkeypatch.setattr(services, "_record_partial", cancel_after_first)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and not job.preview and len(seen) == 2
    assert not default_storage.exists("previews") or not any(
        files for _, _, files in _walk("previews"))


def _walk(folder):
    stack = [folder]
    while stack:
        current = stack.pop()
        directories, files = default_storage.listdir(current)
        stack += [f"{current}/{name}" for name in directories]
        yield current, directories, files


# -- failures never leave a job running ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_exception_fails_the_job_even_when_the_database_blips_at_that_moment(alice, monkeypatch, caplog):
    def explode(*args):
        raise RuntimeError("disk on fire")

    original_end, calls = services._end, []

    def flaky_end(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original_end(*args, **kwargs)

    monkeypatch.setattr(services, "_complete", explode)
    monkeypatch.setattr(services, "_end", flaky_end)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    job = _submit(alice)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "internal" and len(calls) == 2
    assert any(f"job {job.pk}" in record.getMessage() and record.exc_info for record in caplog.records)


def test_the_card_shows_the_time_until_the_client_retries(alice, alice_client):
    job = _running(_submit(alice), expired=False)
    Job.objects.filter(pk=job.pk).update(retry_at=timezone.now() + timedelta(seconds=12))
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "trying again in 1" in html  # 12 s or 11 s, as the clock turns


def test_the_client_retry_hook_records_when_the_retry_comes(alice, monkeypatch):
    stamps = []
    original = services._mine

    def spy(job, owner):
        rows = original(job, owner)
        stamps.append(Job.objects.get(pk=job.pk).retry_at)
        return rows

    monkeypatch.setattr(services, "_mine", spy)
    job = _submit(alice, prompt="a dog [[fault:rate_limit:1]]")
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.calls == 2 and job.retry_at is None
    assert any(stamp is not None for stamp in stamps)


# -- the studio says when no worker runs --------------------------------------------------------


def test_the_studio_page_says_when_no_worker_is_running(alice, alice_client):
    _submit(alice)
    html = alice_client.get("/").content.decode()
    assert "No worker is running" in html and "no worker is running" in html
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=timezone.now())
    html = alice_client.get("/").content.decode()
    assert "No worker is running" not in html and "Waiting for a worker" in html
    WorkerHeartbeat.objects.filter(worker_id="w1").update(seen_at=timezone.now() - timedelta(minutes=5))
    assert "No worker is running" in alice_client.get("/").content.decode()


# -- storage_check ------------------------------------------------------------------------------


def _old(name: str) -> None:
    import os

    path = default_storage.path(name)
    past = (timezone.now() - timedelta(hours=2)).timestamp()
    os.utime(path, (past, past))


def test_storage_check_finds_orphans_missing_files_and_stale_previews_and_repairs(alice):
    job = _submit(alice)
    services.job_run(job_id=job.pk)
    image = Image.objects.get()
    old_orphan = default_storage.save("images/2026/01/orphan.png", ContentFile(b"x"))
    _old(old_orphan)
    young_orphan = default_storage.save("thumbs/2026/01/young.webp", ContentFile(b"x"))
    old_receipt = default_storage.save("receipts/job-99/old.png", ContentFile(b"x"))
    _old(old_receipt)
    stale_preview = default_storage.save("previews/2026/01/job-1-partial-0.png", ContentFile(b"x"))
    _old(stale_preview)
    default_storage.delete(image.thumbnail.name)

    report = services.storage_check()
    assert sorted(report.orphans) == sorted([old_orphan, old_receipt])  # the young one may be committing
    assert report.missing == [f"Image {image.pk}: {image.thumbnail.name}"]
    assert report.stale_previews == [stale_preview]
    assert default_storage.exists(old_orphan)  # reporting changes nothing

    repaired = services.storage_check(repair=True)
    assert repaired.removed == 3 and repaired.marked == 1
    assert not default_storage.exists(old_orphan) and not default_storage.exists(stale_preview)
    assert default_storage.exists(young_orphan) and default_storage.exists(image.file.name)
    image.refresh_from_db()
    assert image.file_missing
    after = services.storage_check()
    assert after.orphans == [] and after.stale_previews == []


def test_storage_check_command_exits_non_zero_on_problems(alice):
    from django.core.management import call_command

    orphan = default_storage.save("images/2026/01/orphan.png", ContentFile(b"x"))
    with pytest.raises(SystemExit):
        call_command("storage_check", "--orphan-age", "0")
    call_command("storage_check", "--repair", "--orphan-age", "0")
    assert not default_storage.exists(orphan)
    call_command("storage_check")  # clean: no exit


# -- one submit, one job --------------------------------------------------------------------------


def test_the_same_submit_key_makes_one_job(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.job_submit_generation(user=alice, request=_request(), submit_key="a" * 32,
                                               enqueue=job_enqueue)
        again = services.job_submit_generation(user=alice, request=_request(), submit_key="a" * 32,
                                               enqueue=job_enqueue)
    assert again.pk == first.pk and Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_a_double_post_of_the_generate_form_makes_one_job(alice, alice_client):
    key = "b" * 32
    data = {"prompt": "a fox", "size": "1024x1024", "quality": "low", "output_format": "png", "n": "1",
            "background": "auto", "moderation": "auto", "partial_images": "0", "submit_key": key}
    first = alice_client.post("/generate/", data, headers={"HX-Request": "true"})
    second = alice_client.post("/generate/", data, headers={"HX-Request": "true"})
    assert first.status_code == second.status_code == 200
    job = Job.objects.get()
    assert f'id="job-{job.pk}"' in second.content.decode()
    # The form comes back with a new key, for the next job.
    new_key = first.context["generate_form"].data["submit_key"]
    assert new_key != key and len(new_key) == 32
    alice_client.post("/generate/", {**data, "submit_key": new_key}, headers={"HX-Request": "true"})
    assert Job.objects.count() == 2


def test_the_studio_forms_carry_a_one_time_key(alice_client):
    html = alice_client.get("/").content.decode()
    import re

    keys = re.findall(r'name="submit_key" value="([0-9a-f]{32})"', html)
    assert len(keys) == 2 and keys[0] != keys[1]


def test_a_job_its_thread_left_running_fails_when_the_thread_ends(alice):
    job = _running(_submit(alice), owner="w1", expired=False)
    assert services.job_ensure_ended(job_id=job.pk, owner="w2") is False  # not w2's job
    assert services.job_ensure_ended(job_id=job.pk, owner="w1") is True
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "internal" and job.lease_owner == ""
    done = _submit(alice)
    services.job_run(job_id=done.pk)
    assert services.job_ensure_ended(job_id=done.pk, owner="inline") is False


def test_only_the_leases_of_jobs_with_a_live_thread_are_renewed(alice):
    alive = _running(_submit(alice), owner="w1")
    orphan = _running(_submit(alice), owner="w1")
    assert services.jobs_renew_leases(owner="w1", job_ids=[alive.pk]) == 1
    assert _recover().requeued == [orphan.pk]


def test_a_paid_answer_in_a_receipt_gets_more_tries_than_the_limit(alice, settings, monkeypatch):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 1
    job = _submit(alice)

    def crash(*args):
        raise Crash

    monkeypatch.setattr(services, "_complete", crash)
    with pytest.raises(Crash):
        services.job_run(job_id=job.pk)
    monkeypatch.undo()
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert _recover().requeued == [job.pk]  # past the limit of 1, but the answer is paid for
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.images.count() == 1


def test_the_workers_hourly_housekeeping_repairs_storage(alice):
    orphan = default_storage.save("images/2026/01/orphan.png", ContentFile(b"x"))
    _old(orphan)
    worker = make_worker(concurrency=1, interval=0.05, batch=False, worker_id="hk")
    worker._housekeeping()
    assert not default_storage.exists(orphan)
    again = default_storage.save("images/2026/01/again.png", ContentFile(b"x"))
    _old(again)
    worker._housekeeping()  # not yet an hour later
    assert default_storage.exists(again)
