"""Real worker processes, killed with SIGKILL mid-call and mid-ingest: every job still ends, with
no duplicated image, no row pointing at a missing file and, after the sweep, no orphan file.

The workers are separate processes sharing the test database (SQLite file or PostgreSQL) and
the test's media folder, as workers on several machines share one database and one storage."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from gallery.models import Image
from studio import services
from studio.models import Job
from studio.tasks import job_enqueue

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
# Lease, plus a third of one for the next recovery, plus the work itself: well inside a minute.
BOUND_SECONDS = 60

# A worker process; TEST_INGEST_DELAY slows each image's ingest (after the receipt, before the
# commit) so that a kill lands mid-ingest.
WORKER = """
import faulthandler, os, signal, sys, time
faulthandler.register(signal.SIGUSR1)  # the test asks for the threads' stacks when it times out
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
import django
django.setup()
delay = float(os.environ.get("TEST_INGEST_DELAY") or 0)
if delay:
    import studio.services as studio_services
    original = studio_services.image_prepare
    def slow(**kwargs):
        time.sleep(delay)
        return original(**kwargs)
    studio_services.image_prepare = slow
from django.core.management import call_command
call_command("worker", "--interval", "0.1", "--concurrency", "4", "--worker-id", sys.argv[1])
"""


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *, latency: float = 0.2, ingest_delay: float = 0.0) -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
               "STUDIO_PROVIDER": "offline", "STUDIO_EMULATOR_LATENCY": str(latency),
               "STUDIO_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "STUDIO_JOB_MAX_ATTEMPTS": "3",
               "TEST_INGEST_DELAY": str(ingest_delay), "STUDIO_SHUTDOWN_GRACE": "5"}
        env.pop("OPENAI_API_KEY", None)
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, "-c", WORKER, name], cwd=ROOT, env=env,  # noqa: S603
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)

    def logs(self) -> str:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}"
                         for path in sorted(self.tmp_path.glob("*.log")))


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def _wait_for(condition, *, seconds: float, workers: Workers, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n{workers.logs()}")


def _submit(user, prompt: str, **request) -> Job:
    return services.job_submit_generation(user=user, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": prompt, "size": "1024x1024", "quality": "low", "n": 1, **request})


def _assert_nothing_lost(jobs: list[Job]) -> None:
    for job in jobs:
        job.refresh_from_db()
        assert job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED), job
        if job.status == Job.Status.FAILED:
            assert job.error_message, job
        else:
            assert job.images.count() == job.n, job
    duplicates = [key for key, count in Counter(Image.objects.values_list("job_id", "index")).items() if count > 1]
    assert duplicates == []
    for image in Image.objects.all():
        assert default_storage.exists(image.file.name) and default_storage.exists(image.thumbnail.name)
    assert not Job.objects.exclude(preview="").exists()  # previews of ended jobs are gone
    services.storage_check(repair=True, orphan_age=services.timedelta(0))
    report = services.storage_check(orphan_age=services.timedelta(0))
    assert (report.orphans, report.missing, report.stale_previews) == ([], [], [])


def test_sigkill_during_the_call_and_during_ingest_loses_nothing(alice, workers):
    jobs = [_submit(alice, "plain"), _submit(alice, "two at once", n=2),
            _submit(alice, "with previews", partial_images=2), _submit(alice, "another")]

    # 1. Killed while the calls are in flight.
    first = workers.start("w1", latency=2.0)
    _wait_for(lambda: Job.objects.filter(status=Job.Status.RUNNING, calls__gte=1).count() == len(jobs),
              seconds=30, workers=workers, what="the first worker to call the API")
    time.sleep(0.5)
    first.kill()
    first.wait(10)
    assert Job.objects.filter(status=Job.Status.RUNNING).count() == len(jobs)

    # 2. The next worker takes them back once their lease runs out; killed while it stores a result.
    second = workers.start("w2", latency=0.1, ingest_delay=3.0)
    in_ingest = _wait_for(
        lambda: Job.objects.filter(status=Job.Status.RUNNING, attempts=2, receipt__isnull=False).first(),
        seconds=BOUND_SECONDS, workers=workers, what="the second worker to receive an answer")
    receipt_request = in_ingest.receipt["request_id"]
    time.sleep(0.5)
    second.kill()
    second.wait(10)
    assert not Image.objects.filter(job=in_ingest).exists()

    # 3. A third worker finishes everything, the paid answer from its receipt.
    started = time.monotonic()
    workers.start("w3", latency=0.1)
    _wait_for(lambda: not Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists(),
              seconds=BOUND_SECONDS, workers=workers, what="every job to end")
    assert time.monotonic() - started < BOUND_SECONDS
    _assert_nothing_lost(jobs)
    in_ingest.refresh_from_db()
    assert in_ingest.status == Job.Status.SUCCEEDED, workers.logs()
    assert set(in_ingest.images.values_list("request_id", flat=True)) == {receipt_request}  # no second call
    assert all(job.interrupted >= 1 for job in Job.objects.all())


def test_sigterm_with_calls_in_flight_requeues_them_for_the_next_worker(alice, workers):
    jobs = [_submit(alice, f"slow {index}") for index in range(2)]
    first = workers.start("w1", latency=30.0)
    _wait_for(lambda: Job.objects.filter(status=Job.Status.RUNNING, calls__gte=1).count() == 2,
              seconds=30, workers=workers, what="the calls to start")
    first.send_signal(signal.SIGTERM)
    assert first.wait(30) == 0, workers.logs()
    assert set(Job.objects.values_list("status", "attempts", "error_message")) == {(Job.Status.QUEUED, 0, "")}
    workers.start("w2", latency=0.1)
    _wait_for(lambda: not Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists(),
              seconds=BOUND_SECONDS, workers=workers, what="every job to end")
    _assert_nothing_lost(jobs)
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}


@pytest.mark.parametrize("kills", [int(os.environ.get("STUDIO_TEST_KILLS", "6"))])
def test_sigkills_at_random_moments_leave_no_stuck_job_and_no_orphan(alice, workers, kills, settings):
    random_moments = random.Random(kills)
    jobs = [_submit(alice, f"job {index}", n=1 + index % 2, partial_images=index % 3) for index in range(6)]
    for kill in range(kills):
        process = workers.start(f"k{kill}", latency=0.4, ingest_delay=0.2)
        time.sleep(random_moments.uniform(1.0, 3.0))  # Django starts in about a second
        process.kill()
        process.wait(10)
    workers.start("final", latency=0.1)
    _wait_for(lambda: not Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exists(),
              seconds=BOUND_SECONDS + 30, workers=workers, what="every job to end")
    _assert_nothing_lost(jobs)
