"""Several worker processes share one database: each job runs exactly once (issue 10).

Three `manage.py worker --batch` processes take 200 queued jobs (60 on SQLite, whose one writer
at a time makes the same test slow, not different) from one database and one media folder, as
workers on several machines would: every job succeeds after one attempt and one call, with
exactly one image, and every task of the queue ran once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from gallery.models import Image
from studio import services, workers_bench
from studio.models import Job
from studio.tasks import job_enqueue

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 3


def test_each_job_runs_exactly_once_across_several_workers(alice, bob, tmp_path):
    count = 200 if connection.vendor == "postgresql" else 60
    jobs = [services.job_submit_generation(user=alice if i % 2 else bob, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": f"picture {i}", "size": "1024x1024", "quality": "low", "n": 1})
        for i in range(count)]
    env = workers_bench.worker_env(STUDIO_PROVIDER="offline", STUDIO_EMULATOR_LATENCY="0.2",
                                   STUDIO_MAX_JOBS_PER_USER="1000")
    env.pop("OPENAI_API_KEY", None)
    finished = workers_bench.run_workers(WORKERS, concurrency=10, env=env, log_dir=tmp_path)
    logs = finished.logs
    assert finished.returncodes == [0] * WORKERS, logs

    rows = Job.objects.filter(pk__in=[job.pk for job in jobs])
    assert Counter(rows.values_list("status", flat=True)) == {Job.Status.SUCCEEDED: count}, logs
    assert set(rows.values_list("attempts", "calls")) == {(1, 1)}
    images = Counter(Image.objects.values_list("job_id", flat=True))
    assert images == {job.pk: 1 for job in jobs}
    tasks = DBTaskResult.objects.all()
    assert tasks.count() == count and set(tasks.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Each task was claimed by one worker, once.
    assert {len(owners) for owners in tasks.values_list("worker_ids", flat=True)} == {1}
