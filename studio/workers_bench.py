"""Several worker processes on one database, for `make bench` (issue 10), and the helpers the
several-workers test shares with it (``worker_env``, ``run_workers``).

``workers`` processes of ``manage.py worker`` (as deployed: not ``--batch``) take ``jobs``
queued generations from the bench's database and media folder, as workers on several machines
would, calling the bench's own upstream (the emulator over HTTP in its own process,
``studio.benchmarks.slow_upstream``, each call ``seconds`` long) which counts the calls it
served. Once every job has ended each worker gets SIGTERM. Each job ran exactly once when:
every job succeeded after one attempt and one call, with one image; the upstream served one
call per job; every task of the queue was claimed once, by one worker; and every worker
exited cleanly. Also reported: the wall time from the workers' start until every job had
ended, and how many jobs each worker ran.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult

from gallery.models import Image

from . import benchmarks, services
from .models import Job
from .tasks import job_enqueue

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
JOBS = 250  # `make bench` in a few minutes; the figure is --workers-jobs 1000
CONCURRENCY = 50
SECONDS = 0.1  # each call at the upstream: fast, so the queue and its locks are what is measured
REQUEST = {"model": "gpt-image-2", "size": "1024x1024", "quality": "low", "n": 1}
PROMPTS = 8  # the upstream draws each prompt once, then serves it from its cache


def worker_env(**overrides: str) -> dict[str, str]:
    """This process's environment for a worker process: its database and media folder, and ``overrides``."""
    return {**os.environ, "DATABASE_URL": benchmarks.database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **overrides}


@dataclass(frozen=True)
class Finished:
    returncodes: list[int | None]  # None: killed at the timeout
    seconds: float
    logs: str  # the end of each worker's log, to read a failure


def run_workers(count: int, *, concurrency: int, env: Mapping[str, str], log_dir: Path,
                interval: float = 0.05, timeout: float = 600, until: Callable[[], bool] | None = None) -> Finished:
    """Start ``count`` worker processes together. Without ``until``: ``manage.py worker --batch``,
    waited for until they all exit. With it: workers as deployed (no ``--batch``), each sent
    SIGTERM once ``until()`` is true (polled every 0.1 s), its wall time measured to then.
    Processes still running after ``timeout`` seconds are killed."""
    batch = ["--batch"] if until is None else []
    processes = []
    started = time.perf_counter()
    deadline = started + timeout
    try:
        for index in range(count):
            with open(log_dir / f"worker-{index}.log", "wb") as log:  # the process keeps its own handle
                processes.append(subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
                    [sys.executable, "manage.py", "worker", *batch, "--concurrency", str(concurrency),
                     "--interval", str(interval), "--worker-id", f"worker-{index}"],
                    cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT))
        if until is not None:
            while (time.perf_counter() < deadline and not until()
                   and any(process.poll() is None for process in processes)):
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)  # nothing is in flight: each stops at once
            deadline = min(deadline, time.perf_counter() + 60)
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                break
        if until is None:
            seconds = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    codes = [process.returncode if process.returncode is not None and process.returncode >= 0 else None
             for process in processes]
    logs = "\n".join(f"== {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                     for path in sorted(log_dir.glob("worker-*.log")))
    return Finished(codes, seconds, logs)


@dataclass(frozen=True)
class Result:
    workers: int
    jobs: int
    concurrency: int
    seconds: float
    returncodes: list[int | None]
    statuses: Counter[str]
    runs: Counter[tuple[int, int]]  # (attempts, calls) per job
    images: Counter[int]  # images per job
    upstream_calls: int
    claims: Counter[int]  # claims per task
    tasks: int
    per_worker: Counter[str]  # jobs each worker ran

    @property
    def exactly_once(self) -> bool:
        return (self.returncodes == [0] * self.workers
                and self.statuses == Counter({Job.Status.SUCCEEDED: self.jobs})
                and self.runs == Counter({(1, 1): self.jobs}) and self.images == Counter({1: self.jobs})
                and self.upstream_calls == self.jobs and self.tasks == self.jobs
                and self.claims == Counter({1: self.jobs}))


def run(*, workers: int = WORKERS, jobs: int = JOBS, concurrency: int = CONCURRENCY, seconds: float = SECONDS,
        log_dir: Path, log: Callable[[str], object] = lambda _: None) -> Result:
    users = [get_user_model().objects.create_user(f"bench-workers-{index}-{time.monotonic_ns()}")
             for index in range(2)]
    log(f"several workers: queuing {jobs:,} jobs...")
    job_ids = [services.job_submit_generation(user=users[index % 2], enqueue=job_enqueue, request={
        **REQUEST, "prompt": f"bench workers {index % PROMPTS}"}).pk for index in range(jobs)]
    log(f"several workers: {workers} worker processes × concurrency {concurrency} run them...")
    with benchmarks.slow_upstream(seconds) as upstream:
        base_url = upstream.base_url
        before = benchmarks.in_flight(base_url)["served"]
        env = worker_env(STUDIO_PROVIDER="openai", OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=base_url + "/v1",
                         STUDIO_MAX_JOBS_PER_USER=str(jobs), STUDIO_IMAGES_PER_MINUTE="0")
        waiting = Job.objects.filter(pk__in=job_ids, status__in=Job.ACTIVE_STATUSES)
        finished = run_workers(workers, concurrency=concurrency, env=env, log_dir=log_dir,
                               timeout=max(600.0, jobs * 2.0), until=lambda: not waiting.exists())
        upstream_calls = benchmarks.in_flight(base_url)["served"] - before
    if finished.returncodes != [0] * workers:
        log(f"several workers: exit codes {finished.returncodes}:\n{finished.logs[-4000:]}")
    rows = Job.objects.filter(pk__in=job_ids)
    tasks = DBTaskResult.objects.filter(args_kwargs__kwargs__job_id__in=job_ids)
    owners = list(tasks.values_list("worker_ids", flat=True))
    return Result(
        workers=workers, jobs=jobs, concurrency=concurrency, seconds=finished.seconds,
        returncodes=finished.returncodes,
        statuses=Counter(rows.values_list("status", flat=True)),
        runs=Counter(rows.values_list("attempts", "calls")),
        images=Counter(Counter(Image.objects.filter(job_id__in=job_ids).values_list("job_id", flat=True))[pk]
                       for pk in job_ids),
        upstream_calls=upstream_calls, claims=Counter(len(ids) for ids in owners), tasks=len(owners),
        per_worker=_per_worker(workers, owners),
    )


def _per_worker(workers: int, owners: list[list[str]]) -> Counter[str]:
    """Jobs each worker ran, a worker that ran none included."""
    spread = Counter({f"worker-{index}": 0 for index in range(workers)})
    spread.update(ids[-1] for ids in owners if ids)
    return spread


def _counts(counter: Counter, name: Callable[[object], str] = str) -> str:
    return ", ".join(f"{count:,} × {name(key)}" for key, count in sorted(counter.items(), key=lambda kv: -kv[1]))


def markdown(results: list[Result], *, seconds: float) -> list[str]:
    lines = [f"| workers × jobs (calls of {seconds:g} s) | wall time | jobs/s | job status "
             "| attempts, calls per job | images per job | calls at the upstream | claims per task "
             "| jobs per worker | exactly once |",
             "|---|--:|--:|---|---|---|--:|---|---|---|"]
    for result in results:
        spread = " / ".join(f"{count:,}" for _, count in sorted(result.per_worker.items()))
        lines.append(
            f"| {result.workers} × {result.jobs:,} (concurrency {result.concurrency} each) "
            f"| {result.seconds:.1f} s | {result.jobs / result.seconds:.1f} | {_counts(result.statuses)} "
            f"| {_counts(result.runs, lambda pair: f'{pair[0]}, {pair[1]}')} | {_counts(result.images)} "
            f"| {result.upstream_calls:,} | {_counts(result.claims)} | {spread} "
            f"| {'yes' if result.exactly_once else 'NO'} |")
    return lines
