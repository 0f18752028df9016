"""Fairness, for `make bench` (issue 10): one person's single job behind another's burst.

User A queues a burst (200 jobs); the worker (``ConcurrentWorker``, in this process, against
the offline emulator with a short latency) runs them ``concurrency`` at a time. Once the
first wave has started, user B queues one job. Measured from the rows, per job, at two
moments: **claimed** (the worker took its task off the queue: the scheduler's choice) and
**started** (its thread marked it running: what B's card shows; a claimed job's thread may
first wait for one of the worker's few database connections):

- **B's wait**: submit → claimed, and submit → started;
- **burst jobs before B**: how many of A's jobs were claimed (started) after B's submit and
  before B's job; the issue's bound is ``concurrency``. Out of **queued ahead**: A's jobs not
  yet claimed when B submitted, all of which go first in FIFO order;
- the burst's wall time, first submit to last job ended.

Each repeat runs twice, in turns so a busy machine slows both alike: with the studio's
scheduling (``studio.scheduling.next_jobs``, round-robin across users), and with the queue
taken oldest first (FIFO, what the worker did before), by swapping ``next_jobs`` for the
length of that run only. The per-person cap (STUDIO_MAX_JOBS_PER_USER) is lifted above the
burst and the pace is off, so the order of the queue alone is measured.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from unittest import mock

from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django_tasks_db.models import DBTaskResult

from imageapi.emulator.handler import RENDER_SECONDS

from . import scheduling, services
from .models import Job
from .tasks import job_enqueue
from .worker import ConcurrentWorker

BURST = 200
CONCURRENCY = 50
LATENCY = 0.2  # the emulator's scale: a low-quality call takes 0.3 s
REPEATS = 3
PROMPTS = 8  # the emulator draws each prompt once, then serves it from its cache
REQUEST = {"model": "gpt-image-2", "size": "1024x1024", "quality": "low", "n": 1}
ORDERS = ("fair", "fifo")


@dataclass(frozen=True)
class Run:
    order: str  # "fair" (the studio's scheduling) or "fifo" (oldest first)
    claim_wait_seconds: float  # B's submit → its task claimed
    wait_seconds: float  # B's submit → its job started
    claimed_before: int  # A's jobs claimed after B's submit, before B's
    started_before: int  # A's jobs started after B's submit, before B's
    queued_ahead: int  # A's jobs not yet claimed when B submitted
    wall_seconds: float  # the burst's first submit → the last job ended
    succeeded: int
    jobs: int


@dataclass(frozen=True)
class Summary:
    order: str
    runs: list[Run]

    def median(self, measure: str) -> float:
        return statistics.median(getattr(run, measure) for run in self.runs)


def oldest_first(*, limit: int, taken: Collection[int] = (), per_user: int | None = None) -> list[int]:
    """The queue as a plain FIFO: the same contract as ``scheduling.next_jobs``, no fairness."""
    if limit <= 0:
        return []
    queued = (Job.objects.filter(status=Job.Status.QUEUED, cancel_requested=False)
              .exclude(pk__in=list(taken)).order_by("created_at", "pk").values_list("pk", flat=True))
    return list(queued[:limit])


def run_once(*, order: str, burst: int, concurrency: int, latency: float) -> Run:
    users = get_user_model().objects
    stamp = time.monotonic_ns()
    person_a = users.create_user(f"bench-fair-a-{stamp}")
    person_b = users.create_user(f"bench-fair-b-{stamp}")
    chooser = scheduling.next_jobs if order == "fair" else oldest_first
    with override_settings(STUDIO_EMULATOR_LATENCY=latency, STUDIO_MAX_JOBS_PER_USER=burst + 1,
                           STUDIO_IMAGES_PER_MINUTE=0), mock.patch.object(scheduling, "next_jobs", chooser):
        burst_ids = [services.job_submit_generation(user=person_a, enqueue=job_enqueue, request={
            **REQUEST, "prompt": f"bench burst {index % PROMPTS}"}).pk for index in range(burst)]
        worker = ConcurrentWorker(
            concurrency=concurrency, queue_names=["default"], interval=0.02, batch=True,
            backend_name="default", startup_delay=False, max_tasks=None,
            worker_id=f"bench-fair-{order}-{stamp}", excluded_queue_names=[],
        )
        failure: list[BaseException] = []

        def work() -> None:
            try:
                worker.run()
            except BaseException as error:  # reported below, in the bench's own thread
                failure.append(error)

        thread = threading.Thread(target=work, name="bench-fair-worker")
        thread.start()
        try:
            # B submits once the first wave of the burst has started: a full worker, a long queue.
            started = Job.objects.filter(pk__in=burst_ids, started_at__isnull=False)
            deadline = time.monotonic() + 300
            while (thread.is_alive() and started.count() < min(concurrency, burst)
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            single = services.job_submit_generation(user=person_b, enqueue=job_enqueue, request={
                **REQUEST, "prompt": "bench single"})
        except BaseException:
            worker.running = False
            raise
        finally:
            thread.join(timeout=600)
            if thread.is_alive():
                worker.running = False
                thread.join(timeout=60)
    if failure:
        raise RuntimeError(f"The bench's worker stopped: {failure[0]!r}") from failure[0]
    single.refresh_from_db()
    jobs = Job.objects.filter(pk__in=[*burst_ids, single.pk])
    # Each job here has one task, claimed once (one attempt): its claim is the task's start.
    claimed_at = dict(DBTaskResult.objects.filter(args_kwargs__kwargs__job_id__in=[*burst_ids, single.pk])
                      .values_list("args_kwargs__kwargs__job_id", "started_at"))
    single_claimed = claimed_at.get(single.pk)
    if single.started_at is None or single_claimed is None:
        raise RuntimeError(f"The single job never started ({single.status}): the bench's worker left it queued.")
    submitted = single.created_at
    burst_claims = [claimed_at.get(pk) for pk in burst_ids]
    burst_starts = Job.objects.filter(pk__in=burst_ids).values_list("started_at", flat=True)
    first = min(jobs.values_list("created_at", flat=True))
    last = max(ended for ended in jobs.values_list("finished_at", flat=True) if ended is not None)
    return Run(
        order=order,
        claim_wait_seconds=(single_claimed - submitted).total_seconds(),
        wait_seconds=(single.started_at - submitted).total_seconds(),
        claimed_before=sum(1 for at in burst_claims if at and submitted < at < single_claimed),
        started_before=sum(1 for at in burst_starts if at and submitted < at < single.started_at),
        queued_ahead=sum(1 for at in burst_claims if at is None or at > submitted),
        wall_seconds=(last - first).total_seconds(),
        succeeded=jobs.filter(status=Job.Status.SUCCEEDED).count(), jobs=burst + 1,
    )


def run(*, burst: int = BURST, concurrency: int = CONCURRENCY, latency: float = LATENCY, repeats: int = REPEATS,
        orders: tuple[str, ...] = ORDERS, log: Callable[[str], object] = lambda _: None) -> list[Summary]:
    runs: dict[str, list[Run]] = {order: [] for order in orders}
    for repeat in range(repeats):
        for order in orders:  # in turns: load on the machine falls on both alike
            log(f"fairness: {order}, a burst of {burst} and one job, concurrency {concurrency} "
                f"({repeat + 1} of {repeats})...")
            runs[order].append(run_once(order=order, burst=burst, concurrency=concurrency, latency=latency))
    return [Summary(order, measured) for order, measured in runs.items()]


def markdown(summaries: list[Summary], *, burst: int, concurrency: int, latency: float) -> list[str]:
    label = {"fair": "round-robin (the studio)", "fifo": "oldest first (FIFO, for comparison)"}
    call = latency * RENDER_SECONDS[REQUEST["quality"]]
    lines = [f"| order ({burst}-job burst, then one job; concurrency {concurrency}; calls of {call:.2f} s) "
             "| single job's wait: claimed / started "
             f"| burst jobs claimed / started before it (bound {concurrency}) | burst jobs queued ahead of it "
             "| burst wall time | each run: wait started, burst jobs started before it | succeeded |",
             "|---|--:|--:|--:|--:|---|---|"]
    for summary in summaries:
        runs = summary.runs
        each = "; ".join(f"{run.wait_seconds:.2f} s, {run.started_before}" for run in runs)
        succeeded = ", ".join(f"{run.succeeded}/{run.jobs}" for run in runs)
        lines.append(
            f"| {label[summary.order]} "
            f"| {summary.median('claim_wait_seconds'):.2f} s / {summary.median('wait_seconds'):.2f} s "
            f"| {summary.median('claimed_before'):g} / {summary.median('started_before'):g} "
            f"| {summary.median('queued_ahead'):g} | {summary.median('wall_seconds'):.1f} s | {each} | {succeeded} |")
    return lines
