"""The task worker, for real: jobs enqueued through django-tasks-db, claimed and run in threads."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from studio import services
from studio.models import Job, WorkerHeartbeat
from studio.tasks import job_enqueue
from tests.factories import make_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(user, prompt="a lighthouse", **request):
    return services.job_submit_generation(user=user, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low", **request})


def _worker(**options):
    return make_worker(**{"interval": 0.05, **options})


def test_the_worker_runs_queued_jobs_several_at_once(alice, monkeypatch):
    # Each call waits at a barrier for the others: the jobs succeed only if the worker has all
    # four in flight at once, however the threads happen to be scheduled.
    barrier = threading.Barrier(4, timeout=30)
    original = services._call_api

    def together(*args):
        barrier.wait()
        return original(*args)

    monkeypatch.setattr(services, "_call_api", together)
    jobs = [_submit(alice, prompt=f"picture {i}") for i in range(4)]
    assert DBTaskResult.objects.count() == 4
    _worker(concurrency=4).run()
    statuses = set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True))
    assert statuses == {Job.Status.SUCCEEDED}
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_the_database_connection_is_released_during_the_api_call(alice, monkeypatch):
    held = []
    original = services._call_api

    def observe(*args):
        held.append(connection.connection is not None and not connection.is_in_memory_db())
        return original(*args)

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


def test_an_empty_queue_is_not_scheduled_each_time_a_job_ends(alice, monkeypatch):
    # The scheduler reads the counts of running jobs (its cost grows with the calls in flight);
    # with nothing queued the worker, woken as each of its 1,000 jobs ends, must not call it.
    from studio import scheduling

    calls = []
    original = scheduling.next_jobs

    def next_jobs(**kwargs):
        calls.append(kwargs["limit"])
        return original(**kwargs)

    monkeypatch.setattr(scheduling, "next_jobs", next_jobs)
    barrier = threading.Barrier(4, timeout=30)
    original_call = services._call_api

    def together(*args):
        barrier.wait()  # all four in flight, the queue empty, before any ends
        return original_call(*args)

    monkeypatch.setattr(services, "_call_api", together)
    jobs = [_submit(alice, prompt=f"in flight {i}") for i in range(4)]
    _worker(concurrency=4).run()
    assert set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)) == {
        Job.Status.SUCCEEDED}
    assert calls == [4]  # once, to start the four
