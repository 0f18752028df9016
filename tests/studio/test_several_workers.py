"""Several worker processes share one database: each job runs exactly once (issue 10).

Three `manage.py worker --batch` processes take 200 queued jobs (60 on SQLite, whose one writer
at a time makes the same test slow, not different) from one database and one media folder, as
workers on several machines would: every job succeeds after one attempt and one call, with
exactly one image, and every task of the queue ran once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from gallery.models import Image
from studio import services
from studio.models import Job
from studio.tasks import job_enqueue

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_each_job_runs_exactly_once_across_several_workers(alice, bob, tmp_path):
    count = 200 if connection.vendor == "postgresql" else 60
    jobs = [services.job_submit_generation(user=alice if i % 2 else bob, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": f"picture {i}", "size": "1024x1024", "quality": "low", "n": 1})
        for i in range(count)]
    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "STUDIO_PROVIDER": "offline", "STUDIO_EMULATOR_LATENCY": "0.2", "STUDIO_MAX_JOBS_PER_USER": "1000"}
    env.pop("OPENAI_API_KEY", None)
    processes = []
    for index in range(WORKERS):
        log = open(tmp_path / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed with the process
        processes.append(subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", "worker", "--batch", "--concurrency", "10", "--interval", "0.05",
             "--worker-id", f"worker-{index}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    try:
        for process in processes:
            process.wait(timeout=600)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    logs = "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(tmp_path.glob("*.log")))
    assert [process.returncode for process in processes] == [0] * WORKERS, logs

    rows = Job.objects.filter(pk__in=[job.pk for job in jobs])
    assert Counter(rows.values_list("status", flat=True)) == {Job.Status.SUCCEEDED: count}, logs
    assert set(rows.values_list("attempts", "calls")) == {(1, 1)}
    images = Counter(Image.objects.values_list("job_id", flat=True))
    assert images == {job.pk: 1 for job in jobs}
    tasks = DBTaskResult.objects.all()
    assert tasks.count() == count and set(tasks.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Each task was claimed by one worker, once.
    assert {len(owners) for owners in tasks.values_list("worker_ids", flat=True)} == {1}
