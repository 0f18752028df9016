"""Workers sharing one database: graceful shutdown, concurrent recovery, concurrent submits.

These run with real transactions (and real threads), on SQLite and on PostgreSQL."""

import signal
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from studio import services
from studio.models import Job, WorkerHeartbeat
from studio.tasks import job_enqueue
from studio.worker import ConcurrentWorker
from tests.factories import make_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(user, prompt="a lighthouse"):
    return services.job_submit_generation(user=user, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low"})


def _worker(**options):
    return make_worker(**{"concurrency": 2, "interval": 0.05, "batch": False, "worker_id": "w-test", **options})


def _until(condition, seconds=20.0):
    deadline = timezone.now() + timedelta(seconds=seconds)
    while timezone.now() < deadline:
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError("timed out")


def test_sigterm_returns_unfinished_jobs_to_the_queue_without_failing_them(alice, monkeypatch):
    release = threading.Event()
    original = services._call_api

    def slow(*args):
        release.wait(30)
        return original(*args)

    monkeypatch.setattr(services, "_call_api", slow)
    job = _submit(alice)
    exits = []
    worker = _worker(shutdown_grace=0.3, exit=exits.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        _until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING)
        worker.shutdown(signal.SIGTERM, None)
        thread.join(timeout=20)
        assert not thread.is_alive() and exits == [0]
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED and job.lease_owner == "" and job.error_message == ""
        assert job.attempts == 0  # a clean restart does not use up an attempt
        assert job.interrupted == 1  # but the call was in flight, and may have been billed
        assert DBTaskResult.objects.filter(status="READY").count() == 1
        assert DBTaskResult.objects.filter(status="RUNNING").count() == 0
    finally:
        release.set()
    # The call left behind comes back: it writes nothing to the job, which is another worker's now.
    _until(lambda: not any(t.name.startswith("job") for t in threading.enumerate()))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.cost_usd is None and not job.images.exists()

    monkeypatch.setattr(services, "_call_api", original)
    _worker(batch=True, worker_id="w-next").run()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1 and job.images.count() == 1


def test_sigterm_lets_calls_that_finish_within_the_grace_finish(alice, settings):
    settings.STUDIO_EMULATOR_LATENCY = 0.3
    job = _submit(alice)
    exits = []
    worker = _worker(shutdown_grace=30, exit=exits.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    _until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING)
    worker.shutdown(signal.SIGTERM, None)
    thread.join(timeout=30)
    assert not thread.is_alive() and exits == []
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_workers_recovering_at_once_take_each_job_back_once(alice):
    jobs = [_submit(alice, prompt=f"job {i}") for i in range(6)]
    DBTaskResult.objects.all().delete()
    for job in jobs:
        services._claim(job.pk, "dead")
    Job.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=5))
    barrier = threading.Barrier(3)
    results, errors = [], []

    def recover():
        try:
            barrier.wait(10)
            results.append(services.jobs_recover(enqueue=job_enqueue))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=recover) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    requeued = sorted(pk for result in results for pk in result.requeued)
    assert requeued == sorted(job.pk for job in jobs)
    assert DBTaskResult.objects.filter(status="READY").count() == len(jobs)
    assert set(Job.objects.values_list("interrupted", flat=True)) == {1}


def test_concurrent_posts_of_one_form_make_one_job(alice):
    data = {"prompt": "a fox", "size": "1024x1024", "quality": "low", "output_format": "png", "n": "1",
            "background": "auto", "moderation": "auto", "partial_images": "0", "submit_key": "c" * 32}
    barrier = threading.Barrier(5)
    statuses = []

    def post():
        from django.db import connection

        client = Client()
        client.force_login(alice)
        try:
            barrier.wait(10)
            statuses.append(client.post("/generate/", data, headers={"HX-Request": "true"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 5
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_a_task_claimed_long_ago_by_a_live_worker_is_not_lost(alice):
    job = _submit(alice, prompt="waits for a free thread")
    long_ago = timezone.now() - timedelta(minutes=5)
    Job.objects.update(created_at=long_ago)
    DBTaskResult.objects.update(status="RUNNING", started_at=long_ago, worker_ids=["busy-worker"])
    WorkerHeartbeat.objects.create(worker_id="busy-worker", seen_at=timezone.now())
    assert ConcurrentWorker._requeue_lost() == []  # its worker is alive: queuing again would run it twice
    WorkerHeartbeat.objects.filter(worker_id="busy-worker").update(seen_at=long_ago)
    assert ConcurrentWorker._requeue_lost() == [job.pk]  # its worker stopped beating: the task is lost


def test_a_queued_job_whose_task_was_lost_is_queued_again(alice):
    job = services.job_submit_generation(user=alice, request={"model": "gpt-image-2", "prompt": "lost"})
    waiting = _submit(alice, prompt="has its task")
    assert not DBTaskResult.objects.filter(args_kwargs__kwargs__job_id=job.pk).exists()
    Job.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert ConcurrentWorker._requeue_lost() == [job.pk]
    assert ConcurrentWorker._requeue_lost() == []
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    _worker(batch=True).run()
    assert set(Job.objects.filter(pk__in=[job.pk, waiting.pk]).values_list("status", flat=True)) == {
        Job.Status.SUCCEEDED}
