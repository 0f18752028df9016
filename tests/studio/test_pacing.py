"""Pacing the calls made with one upstream key (STUDIO_IMAGES_PER_MINUTE), all workers together.

Time is a hand-moved clock: no assertion depends on how fast the machine runs.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from studio import pacing, scheduling, services
from studio.models import Job, UpstreamPace, WorkerHeartbeat
from studio.tasks import job_enqueue
from studio.worker import ConcurrentWorker
from tests.factories import make_worker

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _submit(user, prompt="a lighthouse", n=1, queue=True):
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": n, "size": "1024x1024", "quality": "low"})
    if queue:
        job_enqueue(job.pk)  # at once: inside a test's transaction nothing commits
    return job


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _worker(worker_id: str, clock, **options) -> ConcurrentWorker:
    return make_worker(worker_id=worker_id, clock=clock, **{"concurrency": 50, **options})


def _claim(worker: ConcurrentWorker) -> list[int]:
    """One claim round of ``worker``: the jobs it took, marked running as its threads would."""
    claimed, _ = worker._claim(50)
    job_ids = [int(task.args_kwargs["kwargs"]["job_id"]) for task in claimed]
    Job.objects.filter(pk__in=job_ids).update(status=Job.Status.RUNNING, lease_owner=worker.worker_id)
    return job_ids


def test_no_pacing_by_default(settings):
    assert settings.STUDIO_IMAGES_PER_MINUTE == 0
    assert pacing.pace_admit(sizes=[10] * 100, now=T0) == 100
    assert not UpstreamPace.objects.exists()


def test_the_pace_lets_one_burst_start_then_one_image_per_interval(settings):
    settings.STUDIO_IMAGES_PER_MINUTE = 120  # an image every 0.5 s; a burst of 2 (one second's worth)
    assert pacing.pace_admit(sizes=[1, 1, 1, 1], now=_at(0)) == 2
    assert pacing.pace_admit(sizes=[1, 1], now=_at(0.25)) == 0
    assert pacing.pace_admit(sizes=[1, 1], now=_at(0.5)) == 1
    assert pacing.pace_admit(sizes=[1, 1], now=_at(10)) == 2  # an idle pace does not save up more than a burst
    assert pacing.pace_admit(sizes=[1], now=_at(10)) == 0


def test_images_count_not_requests(settings):
    settings.STUDIO_IMAGES_PER_MINUTE = 60  # one image a second, a burst of one
    assert pacing.pace_admit(sizes=[3, 1], now=_at(0)) == 1  # three images: larger than the burst, alone
    assert pacing.pace_admit(sizes=[1], now=_at(1)) == 0
    assert pacing.pace_admit(sizes=[1], now=_at(2)) == 0
    assert pacing.pace_admit(sizes=[1], now=_at(3)) == 1  # the pace caught up with the three images


def test_a_job_held_back_keeps_its_place(settings):
    """A large job first in line is not overtaken by smaller ones behind it."""
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    assert pacing.pace_admit(sizes=[1], now=_at(0)) == 1
    assert pacing.pace_admit(sizes=[4, 1], now=_at(0.5)) == 0
    assert pacing.pace_admit(sizes=[4, 1], now=_at(1)) == 1


def test_two_workers_share_one_pace(settings, alice, bob):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    jobs = [_submit(alice if index % 2 else bob, f"picture {index}", n=2 if index == 3 else 1) for index in range(6)]
    clock = Clock()
    first, second = _worker("first", clock), _worker("second", clock)
    started: list[tuple[float, int]] = []
    for tick in range(16):  # every half second for eight seconds, the two workers in turn
        clock.now = _at(tick / 2)
        for worker in (first, second) if tick // 2 % 2 else (second, first):  # who asks first, by turns
            started += [(tick / 2, pk) for pk in _claim(worker)]
    assert sorted(pk for _, pk in started) == sorted(job.pk for job in jobs)  # each job once
    images = {job.pk: job.n for job in jobs}
    # However the workers take turns, the images started by time t are at most one a second since
    # the start, plus the burst (one image) or a job larger than it (two images) started alone.
    for moment in sorted({when for when, _ in started}):
        booked = sum(images[pk] for when, pk in started if when <= moment)
        assert booked <= moment + 2, (moment, started)
    assert started[-1][0] >= 5  # seven images at one a second: the last job starts after five of them
    assert Job.objects.filter(lease_owner="first").exists() and Job.objects.filter(lease_owner="second").exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_worker_waits_for_the_pace_instead_of_stopping(settings, alice):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    jobs = [_submit(alice, f"picture {index}") for index in range(3)]
    ticks = iter(range(10_000))
    worker = _worker("paced", lambda: _at(next(ticks) / 4))  # a quarter second a reading
    worker.run()
    assert set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)) == {
        Job.Status.SUCCEEDED}
    assert UpstreamPace.objects.get().next_free_at >= _at(3)  # three images booked, a second each


def test_a_rate_limit_429_halves_the_pace_and_successes_bring_it_back(settings, alice):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    job = _submit(alice, "a fox [[fault:rate_limit:1]]", queue=False)  # refused once, then served
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.calls == 2
    pace = UpstreamPace.objects.get()
    assert pace.factor == pytest.approx(0.5 + 1 / 60)  # halved, then one image gave 1/60 back
    assert pacing.pace_state() == pacing.PaceState(per_minute=31, slowed=True)
    pacing.pace_recover(images=100)
    assert UpstreamPace.objects.get().factor == 1.0


def test_a_slower_pace_spaces_the_calls_further(settings):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    assert pacing.pace_admit(sizes=[1], now=_at(0)) == 1
    assert pacing.pace_slow_down(now=_at(0))
    assert pacing.pace_admit(sizes=[1], now=_at(1)) == 1  # due at 1 s, booked at the full pace
    assert pacing.pace_admit(sizes=[1], now=_at(2)) == 0  # at 30 a minute the next is due at 3 s
    assert pacing.pace_admit(sizes=[1], now=_at(3)) == 1
    assert pacing.pace_admit(sizes=[1], now=_at(4)) == 0


def test_429s_of_calls_already_in_flight_halve_the_pace_once(settings):
    settings.STUDIO_IMAGES_PER_MINUTE = 160
    assert pacing.pace_slow_down(now=_at(0))
    assert not pacing.pace_slow_down(now=_at(1))
    assert pacing.pace_state().per_minute == 80
    assert pacing.pace_slow_down(now=_at(11))
    for seconds in range(20, 100, 10):
        pacing.pace_slow_down(now=_at(seconds))
    assert pacing.pace_state().per_minute == 10  # never below a sixteenth


def test_a_billing_429_does_not_slow_the_pace(settings, alice):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    job = _submit(alice, "a fox [[fault:insufficient_quota]]", queue=False)
    services.job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED
    assert not UpstreamPace.objects.filter(factor__lt=1).exists()


def test_a_job_waiting_for_the_pace_says_when_it_should_start(settings, alice, alice_client):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=timezone.now())
    due = timezone.now() + timedelta(seconds=30)
    UpstreamPace.objects.create(key=pacing.PACE_KEY, next_free_at=due)
    first = _submit(alice, "first in line", n=3)
    second = _submit(alice, "second in line")
    reasons = scheduling.waiting_reasons(jobs=[first, second])
    assert reasons[first.pk].reason == "pace" and reasons[first.pk].starts_at == due
    assert reasons[second.pk].starts_at == due + timedelta(seconds=3)  # after the three images ahead of it

    card = alice_client.get(f"/jobs/{second.pk}/").content.decode()
    expected = timezone.localtime(due + timedelta(seconds=3)).strftime("%H:%M:%S")
    assert "calls are paced at 60 images a minute" in card and f"Expected to start at {expected}" in card
    poll = alice_client.get("/jobs/live/", {"live": [first.pk]}, HTTP_HX_REQUEST="true").content.decode()
    assert "calls are paced at 60 images a minute" in poll


def test_a_job_the_pace_lets_start_now_waits_for_a_worker(settings, alice):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    job = _submit(alice)
    assert scheduling.waiting_reasons(jobs=[job])[job.pk].reason == "queue"
    settings.STUDIO_MAX_JOBS_PER_USER = 1
    Job.objects.filter(pk=_submit(alice, "running").pk).update(status=Job.Status.RUNNING)
    assert scheduling.waiting_reasons(jobs=[job])[job.pk].reason == "user_limit"  # the cap says more


def test_a_job_whose_answer_is_kept_costs_the_pace_nothing(settings, alice):
    settings.STUDIO_IMAGES_PER_MINUTE = 60
    clock = Clock()
    first, kept = _submit(alice, "first"), _submit(alice, "answered before its worker stopped", n=4)
    Job.objects.filter(pk=kept.pk).update(receipt={"images": []})
    assert _claim(_worker("only", clock)) == [first.pk, kept.pk]  # the pace had room for one image
    assert UpstreamPace.objects.get().next_free_at == _at(1)
    assert pacing.pace_admit(sizes=[10], now=_at(1)) == 1  # ten images ahead now
    assert pacing.pace_admit(sizes=[0, 1], now=_at(2)) == 1  # nothing to call: it goes all the same
