"""Pick-up latency, for `make bench` (issue 10): submit → running, and submit → image stored.

One worker (``ConcurrentWorker`` in a thread of this process, looking at the queue by itself
only every second, like ``manage.py worker``: what makes it quick is the enqueue waking it,
``studio.wakeup``) and the offline emulator answering at once. Jobs are submitted one at a
time, each once the one before has ended, so a slot is always free. Times come from the rows
(the job's ``started_at`` and ``finished_at``, written when it is claimed and when its image
is stored) against the clock read just before the submit; the first job, which builds the
client, is left out.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

JOBS = 41
POLL_INTERVAL = 1.0  # manage.py worker's default --interval


@dataclass(frozen=True)
class PickUp:
    jobs: int
    to_running_ms: list[float]
    to_stored_ms: list[float]


def _ms(since: datetime, until: datetime | None) -> float:
    return (until - since).total_seconds() * 1000 if until else float("nan")


def run(*, jobs: int = JOBS) -> PickUp:
    from studio import services
    from studio.models import Job
    from studio.tasks import job_enqueue
    from studio.worker import ConcurrentWorker

    user = get_user_model().objects.create_user(f"bench-pickup-{time.monotonic_ns()}")
    to_running: list[float] = []
    to_stored: list[float] = []
    with override_settings(STUDIO_EMULATOR_LATENCY=0):
        worker = ConcurrentWorker(concurrency=8, queue_names=["default"], interval=POLL_INTERVAL, batch=False,
                                  backend_name="default", startup_delay=False, max_tasks=None,
                                  worker_id="bench-pickup", excluded_queue_names=[])
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            for index in range(jobs):
                submitted = timezone.now()
                job = services.job_submit_generation(user=user, enqueue=job_enqueue, request={
                    "model": "gpt-image-2", "prompt": f"pick-up {index}", "size": "1024x1024",
                    "quality": "low", "n": 1})
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    time.sleep(0.01)  # the times are the rows', so this poll does not round them
                    job.refresh_from_db(fields=["status", "started_at", "finished_at"])
                    if not job.is_active:
                        break
                if job.status != Job.Status.SUCCEEDED:
                    raise RuntimeError(f"pick-up bench: job {job.pk} ended {job.status}")
                if index:  # the first builds the client and warms the caches
                    to_running.append(_ms(submitted, job.started_at))
                    to_stored.append(_ms(submitted, job.finished_at))
        finally:
            worker.stop()
            thread.join(timeout=60)
    return PickUp(jobs - 1, to_running, to_stored)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def rows(result: PickUp) -> list[tuple[str, str]]:
    how = "LISTEN/NOTIFY" if connection.vendor == "postgresql" else "SQLite data_version"
    return [
        (f"pick-up: submit → running, p50 of {result.jobs} ({how}, 1 s poll)",
         f"{statistics.median(result.to_running_ms):.0f} ms (p95 {_p95(result.to_running_ms):.0f} ms)"),
        (f"submit → image stored, zero-latency emulator, p50 / p95 of {result.jobs}",
         f"{statistics.median(result.to_stored_ms):.0f} ms / {_p95(result.to_stored_ms):.0f} ms"),
    ]
