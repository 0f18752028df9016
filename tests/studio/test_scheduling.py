"""Which queued job starts next: fair between users and spaces, each user capped."""

import threading
import time

import pytest
from django.utils import timezone

from studio import scheduling, services
from studio.models import Job, WorkerHeartbeat
from studio.tasks import job_enqueue
from tests.factories import make_worker

REQUEST = {"model": "gpt-image-2", "n": 1, "size": "1024x1024", "quality": "low"}


def _submit(user, prompt="a lighthouse", space=None, enqueue=None):
    return services.job_submit_generation(user=user, space=space, enqueue=enqueue,
                                          request={**REQUEST, "prompt": prompt})


def _running(job):
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, lease_owner="elsewhere")


@pytest.mark.django_db
def test_a_single_job_goes_before_a_burst_queued_earlier(alice, bob):
    burst = [_submit(alice, f"burst {i}") for i in range(20)]
    single = _submit(bob, "just one")
    order = scheduling.next_jobs(limit=5)
    assert order[:2] == [burst[0].pk, single.pk]  # one each, then the burst goes on in order
    assert order[2:] == [job.pk for job in burst[1:4]]


@pytest.mark.django_db
def test_the_user_with_fewest_jobs_running_goes_first(alice, bob):
    for job in [_submit(alice, f"running {i}") for i in range(3)]:
        _running(job)
    waiting = _submit(alice, "waiting")
    bobs = _submit(bob, "later")
    assert scheduling.next_jobs(limit=2) == [bobs.pk, waiting.pk]


@pytest.mark.django_db
def test_jobs_a_worker_took_count_as_running(alice, bob):
    taken = [_submit(alice, f"taken {i}") for i in range(2)]
    alices = _submit(alice, "next")
    bobs = _submit(bob, "later")
    order = scheduling.next_jobs(limit=5, taken={job.pk for job in taken})
    assert order == [bobs.pk, alices.pk]


@pytest.mark.django_db
def test_spaces_take_turns_within_one_user(alice, team):
    personal = [_submit(alice, f"personal {i}") for i in range(4)]
    teams = _submit(alice, "for the team", space=team)
    assert scheduling.next_jobs(limit=2) == [personal[0].pk, teams.pk]


@pytest.mark.django_db
def test_a_user_at_the_limit_waits_and_the_card_says_why(alice, bob, settings, alice_client):
    settings.STUDIO_MAX_JOBS_PER_USER = 2
    for job in [_submit(alice, f"running {i}") for i in range(2)]:
        _running(job)
    waiting = _submit(alice, "waiting")
    bobs = _submit(bob, "bob's")
    assert scheduling.next_jobs(limit=5) == [bobs.pk]
    reasons = scheduling.waiting_reasons(jobs=[waiting, bobs])
    assert reasons[waiting.pk].reason == "user_limit" and reasons[bobs.pk].reason == "queue"

    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=timezone.now())
    page = alice_client.get("/").content.decode()
    assert "you have 2 jobs running, the most one person may run at once (2)" in page
    card = alice_client.get(f"/jobs/{waiting.pk}/").content.decode()
    assert "the most one person may run at once (2)" in card


@pytest.mark.django_db
def test_cancelled_jobs_are_not_scheduled(alice):
    job = _submit(alice)
    services.job_cancel(job=job)
    assert scheduling.next_jobs(limit=5) == []


def _worker(concurrency):
    return make_worker(concurrency=concurrency, batch=False, worker_id="fair-worker")


@pytest.mark.django_db(transaction=True)
def test_a_burst_does_not_hold_back_another_users_single_job(alice, bob, monkeypatch):
    """Bob's one job, queued while Alice's 40 run 3 at a time, starts before more than
    --concurrency (3) of Alice's later jobs do."""
    started: list[int] = []
    lock = threading.Lock()
    original = services._call_api

    def call(job, *args):
        with lock:
            started.append(job.pk)
        time.sleep(0.05)
        return original(job, *args)

    monkeypatch.setattr(services, "_call_api", call)
    burst = [_submit(alice, f"burst {i}", enqueue=job_enqueue) for i in range(40)]
    worker = _worker(concurrency=3)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(started) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        with lock:
            before = len(started)
        single = _submit(bob, "just one", enqueue=job_enqueue)
        deadline = time.monotonic() + 120
        while Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.running = False
        thread.join(timeout=60)
    assert single.pk in started
    burst_ids = {job.pk for job in burst}
    overtaking = [pk for pk in started[before:started.index(single.pk)] if pk in burst_ids]
    assert len(overtaking) <= 3
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_a_user_within_the_limit(alice, bob, settings, monkeypatch):
    settings.STUDIO_MAX_JOBS_PER_USER = 2
    lock = threading.Lock()
    now_running: dict[int, int] = {}
    most: dict[int, int] = {}
    original = services._call_api

    def call(job, *args):
        with lock:
            now_running[job.created_by_id] = now_running.get(job.created_by_id, 0) + 1
            most[job.created_by_id] = max(most.get(job.created_by_id, 0), now_running[job.created_by_id])
        time.sleep(0.3)
        with lock:
            now_running[job.created_by_id] -= 1
        return original(job, *args)

    monkeypatch.setattr(services, "_call_api", call)
    for i in range(6):
        _submit(alice, f"alice {i}", enqueue=job_enqueue)
    _submit(bob, "bob's", enqueue=job_enqueue)
    worker = _worker(concurrency=6)
    worker.batch = True
    worker.run()
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}
    assert 1 <= most[alice.pk] <= 2, most  # two at most, however the threads were scheduled
    assert most[bob.pk] == 1


@pytest.mark.django_db
def test_a_second_worker_takes_the_next_jobs_not_those_another_just_claimed(
        alice, bob, django_capture_on_commit_callbacks):
    """The first worker's claimed jobs still say queued until they start: the second worker
    counts them as running and claims the next ones, rather than nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(6):
            _submit(alice if index % 2 else bob, prompt=f"queued {index}", enqueue=job_enqueue)
    first, second = _worker(2), _worker(2)
    first.worker_id, second.worker_id = "first", "second"

    taken_first, _ = first._claim(2)
    taken_second, _ = second._claim(2)

    ids = [{task.args_kwargs["kwargs"]["job_id"] for task in tasks} for tasks in (taken_first, taken_second)]
    assert len(ids[0]) == 2 and len(ids[1]) == 2 and not ids[0] & ids[1]
    # Fair across the two: each worker took one of alice's and one of bob's.
    owners = dict(Job.objects.values_list("pk", "created_by__username"))
    assert sorted(owners[pk] for pk in ids[1]) == ["alice", "bob"]
