"""The task worker, for real: jobs enqueued through django-tasks-db, claimed and run in threads."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from studio import services
from studio.models import Job, WorkerHeartbeat
from studio.worker import ConcurrentWorker

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(user, prompt="a lighthouse", **request):
    return services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low", **request})


def _worker(**options):
    defaults = {"concurrency": 4, "abandoned_after": timedelta(hours=1), "queue_names": ["default"],
                "interval": 0.05, "batch": True, "backend_name": "default", "startup_delay": False,
                "max_tasks": None, "worker_id": "test-worker", "excluded_queue_names": []}
    return ConcurrentWorker(**{**defaults, **options})


def test_the_worker_runs_queued_jobs_several_at_once(alice, settings, monkeypatch):
    settings.STUDIO_EMULATOR_LATENCY = 0.2  # each call takes a moment, so overlap is visible
    in_flight, most = [0], [0]
    lock = threading.Lock()
    original = services._call_api

    def counting(job, images, mask):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return original(job, images, mask)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(services, "_call_api", counting)
    jobs = [_submit(alice, prompt=f"picture {i}") for i in range(4)]
    assert DBTaskResult.objects.count() == 4
    _worker().run()
    statuses = set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True))
    assert statuses == {Job.Status.SUCCEEDED}
    assert most[0] >= 2
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_the_database_connection_is_released_during_the_api_call(alice, monkeypatch):
    held = []
    original = services._call_api

    def observe(job, images, mask):
        held.append(connection.connection is not None and not connection.is_in_memory_db())
        return original(job, images, mask)

    monkeypatch.setattr(services, "_call_api", observe)
    _submit(alice)
    _worker().run()
    assert held == [False]


def test_the_worker_command_respects_concurrency_and_batch(alice):
    _submit(alice)
    call_command("worker", "--batch", "--concurrency", "2", "--interval", "0.05")
    assert Job.objects.get().status == Job.Status.SUCCEEDED
    assert not WorkerHeartbeat.objects.exists()  # a stopped worker removes its heartbeat


def test_the_worker_beats_while_it_runs(alice):
    worker = _worker(batch=False)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for _ in range(100):
            if WorkerHeartbeat.objects.filter(worker_id="test-worker").exists():
                break
            threading.Event().wait(0.05)
        assert WorkerHeartbeat.objects.filter(worker_id="test-worker").exists()
    finally:
        worker.running = False
        thread.join(timeout=10)
    assert not thread.is_alive()
