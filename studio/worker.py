"""The task worker: django-tasks-db's worker, keeping several jobs in flight at once.

A job spends nearly all its time waiting on the Images API, so one process runs many in
threads; each thread gives its database connection back while it waits (see
``services.job_run``), so connections are not tied to jobs in flight.

Every worker renews the leases of the jobs it runs with its heartbeat, and takes back the
jobs of any worker whose leases ran out (``services.jobs_recover``), so a worker killed
mid-job costs its jobs one attempt, not their life. Several workers on several machines may
share one database: claims and recoveries lock rows (skipping rows another worker holds).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from types import FrameType

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from gallery.services import TRASH_DAYS, trash_purge_expired

from . import pacing, scheduling, services, tasks, wakeup
from .db_backends import gate
from .models import Job, WorkerHeartbeat

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
RECOVERY_SECONDS = 10.0
HOUSEKEEPING_SECONDS = 3600.0  # trash and storage are checked hourly, so nobody needs a cron job
GONE_HEARTBEATS_AFTER = timedelta(days=1)
# Tasks claimed per round: one short transaction each (on SQLite it holds the one write lock,
# which completing jobs wait for), and the queue's order is read again between rounds.
CLAIM_BATCH = 50
# Times one claim asks the scheduler again when the jobs it offered were claimed by other workers.
CLAIM_ROUNDS = 4


class ConcurrentWorker(Worker):
    def __init__(self, *, concurrency: int, shutdown_grace: float | None = None,
                 exit: Callable[[int], None] = os._exit, clock: Callable[[], datetime] = timezone.now,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.concurrency = concurrency
        self.clock = clock  # the pace's time (tests move it by hand)
        self._held_by_pace = False
        self.shutdown_grace = settings.STUDIO_SHUTDOWN_GRACE if shutdown_grace is None else shutdown_grace
        lease = settings.STUDIO_JOB_LEASE_SECONDS
        # Beats and recoveries come often enough that a live worker's lease never runs out, and
        # a dead worker's jobs are taken back within a third of a lease after theirs does.
        self.heartbeat_seconds = min(HEARTBEAT_SECONDS, lease / 3)
        self.recovery_seconds = min(RECOVERY_SECONDS, lease / 3)
        self._exit = exit
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        # Job threads share a few database connections, however many calls are in flight (kept
        # open from one job to the next, not opened per job); the worker's own loop (claims,
        # heartbeats) keeps its connection outside the gate, so it never waits behind completing jobs.
        self.db_gate = gate.Gate(min(concurrency, settings.STUDIO_WORKER_DB_CONNECTIONS))
        self._in_flight: set[Future] = set()
        self._job_ids: set[int] = set()
        self._lock = threading.Lock()
        # Set when a job's thread ends or a signal arrives; the queue watch (studio.wakeup) wakes
        # the loop when a job is queued.
        self._wakeup = wakeup.Wakeup()
        self._watch: wakeup.QueueWatch | None = None
        self._claimed = 0
        # Due at once: time.monotonic() may start near zero (a fresh machine or container).
        self._last_beat = self._last_recovery = self._last_housekeeping = float("-inf")
        self._signalled = False
        self._force = False

    # SIGTERM or Ctrl-C once: stop claiming, give calls in flight STUDIO_SHUTDOWN_GRACE seconds,
    # then put what is left back on the queue. Twice: put it back at once.
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self._signalled:
            logger.warning("Received %s again: returning %d job(s) in flight to the queue now.",
                           signal.strsignal(signum), len(self._in_flight))
            self._force = True
            return
        logger.warning("Received %s: finishing %d job(s) in flight for up to %gs (again to stop at once).",
                       signal.strsignal(signum), len(self._in_flight), self.shutdown_grace)
        self._signalled = True
        self.running = False
        self._wakeup.set()

    def stop(self) -> None:
        """Stop claiming; ``run`` returns once the jobs in flight have ended."""
        self.running = False
        self._wakeup.set()

    def run(self) -> None:
        logger.info("Worker %s started: up to %d jobs at once.", self.worker_id, self.concurrency)
        self._recover()
        self._watch = wakeup.queue_watch(using=DBTaskResult.objects.db)
        try:
            self._loop()
            self._drain()
        finally:
            self._watch.close()
            self._wakeup.close()
            self._pool.shutdown(wait=False)
            self.db_gate.close_idle()  # the job threads' connections, kept open between jobs
            try:
                WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            except DatabaseError:
                logger.warning("Could not remove this worker's heartbeat.", exc_info=True)
            connections.close_all()
        logger.info("Worker %s stopped after %d task(s).", self.worker_id, self._claimed)

    def _loop(self) -> None:
        while self.running:
            try:
                self._tick()
            except DatabaseError:
                # The database is briefly unreachable: keep the worker, try again shortly.
                logger.exception("Worker %s: database error; retrying.", self.worker_id)
                connections.close_all()
                self._wait(max(self.interval, 1.0))
                continue
            if self._done_with_batch:
                return

    _done_with_batch = False

    def _tick(self) -> None:
        close_old_connections()
        self._beat()
        self._recover_now_and_then()
        self._housekeeping()
        free = min(self._free_slots(), CLAIM_BATCH)
        if self.max_tasks is not None:
            free = min(free, self.max_tasks - self._claimed)
        if free <= 0:
            self._wait(self.interval, watch=False)  # only a job ending frees a slot
            return
        claimed, polled = self._claim(free)
        for task_result in claimed:
            self._submit(task_result)
        if claimed:
            if self.max_tasks is not None and self._claimed >= self.max_tasks:
                self._done_with_batch = True
            return
        if self._held_by_pace:
            # Queued jobs wait for the pace (studio.pacing): look again when it lets one more start.
            self._wait(min(self.interval, max(pacing.pace_wait(now=self.clock()), 0.01)))
            return
        if self.batch and polled and not self._in_flight:
            self._done_with_batch = True
            return
        self._wait(self.interval)

    def _drain(self) -> None:
        """Let the jobs in flight finish: all of them after a batch, within the grace after a
        signal; the rest go back to the queue and the process leaves them."""
        deadline = time.monotonic() + self.shutdown_grace
        while True:
            with self._lock:
                pending = set(self._in_flight)
            if not pending:
                return
            if self._signalled and (self._force or time.monotonic() >= deadline):
                self._release_and_exit(len(pending))
                return
            try:
                self._beat()
            except DatabaseError:
                logger.warning("Could not renew the leases.", exc_info=True)
            wait(pending, timeout=0.2)

    def _release_and_exit(self, pending: int) -> None:
        released = services.jobs_release(owner=self.worker_id, enqueue=tasks.job_enqueue)
        tasks_ended = self._end_stale_tasks(released)
        logger.warning("Worker %s: %d call(s) still in flight; %d job(s) went back to the queue (%d task(s) closed).",
                       self.worker_id, pending, len(released), tasks_ended)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        connections.close_all()
        for handler in logging.getLogger().handlers:
            handler.flush()
        # Threads blocked on the API cannot be stopped; their jobs are queued again already.
        self._exit(0)

    def _free_slots(self) -> int:
        with self._lock:
            return self.concurrency - len(self._in_flight)

    def _wait(self, seconds: float, *, watch: bool = True) -> None:
        """Until ``seconds`` pass, a job's thread ends, a signal arrives or (``watch``) a job may
        have been queued."""
        if watch and self._watch is not None:
            self._watch.wait(seconds, self._wakeup)
        else:
            self._wakeup.wait(seconds)
        self._wakeup.clear()

    def _claim(self, limit: int) -> tuple[list[DBTaskResult], bool]:
        """Claim up to ``limit`` tasks, their jobs in the order ``scheduling.next_jobs`` gives (fair
        between users and spaces, each user capped); then tasks whose job no longer waits (ended
        or cancelled: they finish at once). Rows other workers have locked are skipped."""
        tasks_ = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks_ = tasks_.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks_ = tasks_.exclude(queue_name__in=self.excluded_queue_names)
        if not tasks_.exists():
            # Nothing queued (the usual case while calls are in flight, and this runs as each ends):
            # the scheduler's counts of running jobs are not read, their cost grows with them.
            self._held_by_pace = False
            return [], True
        with self._lock:
            taken = set(self._job_ids)
        order = scheduling.next_jobs(limit=limit, taken=taken)
        # Found by a plain read first: an idle look at the queue takes no lock (on SQLite the
        # claim's transaction holds the one write lock, which completing jobs need).
        stale = [] if order else self._stale_task_ids(tasks_, limit)
        if not order and not stale:
            self._held_by_pace = False
            return [], True
        try:
            with exclusive_transaction(tasks_.db):
                if order:
                    claimed = self._within_pace(self._claim_in_order(tasks_, order, taken=taken, limit=limit))
                else:
                    claimed = list(tasks_.filter(pk__in=stale).select_for_update(skip_locked=True))
                for task_result in claimed:
                    task_result.claim(self.worker_id)
        except OperationalError as error:
            if is_locked_database_exception(error):
                return [], False  # another worker holds the queue; try again shortly
            raise
        return claimed, True

    @staticmethod
    def _claim_in_order(tasks_, order: list[int], *, taken: set[int], limit: int) -> list[DBTaskResult]:
        """The ready tasks of ``order``'s jobs, in that order. A job another worker claimed a moment
        ago still says queued: it is counted as running and the scheduler is asked again, so this
        worker takes the next ones rather than nothing."""
        claimed: list[DBTaskResult] = []
        for _ in range(CLAIM_ROUNDS):
            rank = {pk: index for index, pk in enumerate(order)}
            found = sorted(tasks_.filter(args_kwargs__kwargs__job_id__in=order).select_for_update(skip_locked=True),
                           key=lambda task: rank.get(_job_id(task), len(rank)))
            claimed += found[:limit - len(claimed)]
            elsewhere = set(order) - {_job_id(task) for task in found}
            if len(claimed) >= limit or not elsewhere:
                break
            taken = taken | set(order)
            order = scheduling.next_jobs(limit=limit - len(claimed), taken=taken)
            if not order:
                break
        return claimed

    def _within_pace(self, claimed: list[DBTaskResult]) -> list[DBTaskResult]:
        """The leading tasks whose jobs' images the shared pace lets start now (booked in the
        claim's transaction); the others stay queued, in order."""
        self._held_by_pace = False
        if not pacing.enabled() or not claimed:
            return claimed
        jobs = Job.objects.filter(pk__in=[_job_id(task) for task in claimed])
        images = {pk: int(n or 1) for pk, n in jobs.values_list("pk", "request__n")}
        # A job whose answer is already kept (a receipt) is stored without calling again: no image.
        images.update(dict.fromkeys(jobs.filter(receipt__isnull=False).values_list("pk", flat=True), 0))
        admitted = pacing.pace_admit(sizes=[images.get(_job_id(task), 0) for task in claimed], now=self.clock())
        self._held_by_pace = admitted < len(claimed)
        return claimed[:admitted]

    @staticmethod
    def _stale_task_ids(tasks_, limit: int) -> list:
        """Ready tasks whose job no longer waits (ended or cancelled), to close."""
        heads = list(tasks_.order_by("-priority", "enqueued_at").values_list("pk", "args_kwargs")[:200])
        job_ids = {_job_id_of(args) for _, args in heads} - {None}
        waiting = set(Job.objects.filter(pk__in=job_ids, status=Job.Status.QUEUED).values_list("pk", flat=True))
        return [pk for pk, args in heads if _job_id_of(args) not in waiting][:limit]

    def _submit(self, task_result: DBTaskResult) -> None:
        self._claimed += 1
        if (job_id := _job_id(task_result)) is not None:
            with self._lock:
                self._job_ids.add(job_id)  # counts as running for the scheduler from now on
        future = self._pool.submit(self._run_in_thread, task_result)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)

    def _run_in_thread(self, task_result: DBTaskResult) -> None:
        token = services.LEASE_OWNER.set(self.worker_id)
        job_id = _job_id(task_result)
        with self._lock:
            self._job_ids.add(job_id)
        try:
            with gate.use(self.db_gate):
                self._run_gated(task_result, job_id)
        finally:
            services.LEASE_OWNER.reset(token)

    def _run_gated(self, task_result: DBTaskResult, job_id: int | None) -> None:
        try:
            self.run_task(task_result)
        finally:
            with self._lock:
                self._job_ids.discard(job_id)
            try:
                if job_id is not None:
                    services.job_ensure_ended(job_id=job_id, owner=self.worker_id)
            except DatabaseError:
                # Its lease is no longer renewed: another worker (or this one) will take it back.
                logger.exception("job %s: could not check that it ended", job_id)
            connections.close_all()  # this thread's connections only (and its gate slot)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)
        self._wakeup.set()

    def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < self.heartbeat_seconds:
            return
        self._last_beat = now
        with self._lock:
            job_ids = list(self._job_ids)
        # Only the jobs a thread still runs: a job whose thread died lets its lease run out.
        services.jobs_renew_leases(owner=self.worker_id, job_ids=job_ids)
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"seen_at": timezone.now(), "in_flight": len(self._in_flight)},
        )

    def _recover_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_recovery < self.recovery_seconds:
            return
        self._last_recovery = now
        self._recover()

    def _recover(self) -> None:
        recovery = services.jobs_recover(enqueue=tasks.job_enqueue)
        self._end_stale_tasks(recovery.job_ids)
        self._requeue_lost()
        WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - GONE_HEARTBEATS_AFTER).delete()

    @staticmethod
    def _requeue_lost() -> list[int]:
        """Queue again the jobs that lost their task: a submit that died between its commit and the
        enqueue, or a worker killed between claiming the task and claiming its job (the task then
        stays "running" for ever). Queuing a job twice is harmless: only one run claims it."""
        cutoff = timezone.now() - timedelta(seconds=settings.STUDIO_JOB_LEASE_SECONDS)
        queued = list(Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=cutoff)
                      .values_list("pk", flat=True)[:500])
        if not queued:
            return []
        for_them = DBTaskResult.objects.filter(args_kwargs__kwargs__job_id__in=queued, status__in=["READY", "RUNNING"])
        # A task a busy worker claimed long ago may still be waiting for a free thread: it is
        # lost only once that worker's heartbeat stopped too (else the job would run twice).
        beating = set(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True))
        alive = {
            int(job_id)
            for job_id, status, started_at, worker_ids in for_them.values_list(
                "args_kwargs__kwargs__job_id", "status", "started_at", "worker_ids")
            if status == "READY" or (started_at and started_at >= cutoff) or (worker_ids and worker_ids[-1] in beating)
        }
        lost = [pk for pk in queued if pk not in alive]
        ConcurrentWorker._end_stale_tasks(lost)
        for pk in lost:
            tasks.job_enqueue(pk)
        if lost:
            logger.warning("Queued %d job(s) again that had lost their task: %s", len(lost), lost)
        return lost

    @staticmethod
    def _end_stale_tasks(job_ids: Iterable[int]) -> int:
        """Close the queue's record of attempts taken back from a worker: their job was queued
        again as a new task, and the old one must not look like it is still running."""
        job_ids = list(job_ids)
        if not job_ids:
            return 0
        return DBTaskResult.objects.filter(status="RUNNING", args_kwargs__kwargs__job_id__in=job_ids).update(
            status="FAILED", finished_at=timezone.now(), exception_class_path="studio.worker.WorkerStopped",
            traceback="The worker running this attempt stopped; the job was queued again or failed.",
        )

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.batch or now - self._last_housekeeping < HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = now
        purged = trash_purge_expired()
        if purged:
            logger.info("Purged %d image(s) kept in the trash for more than %d days.", purged, TRASH_DAYS)
        report = services.storage_check(repair=True)
        if report.problems:
            logger.warning("Storage check: %s", report.summary())


def _job_id_of(args_kwargs: dict | None) -> int | None:
    job_id = ((args_kwargs or {}).get("kwargs") or {}).get("job_id")
    return int(job_id) if job_id is not None else None


def _job_id(task_result: DBTaskResult) -> int | None:
    return _job_id_of(task_result.args_kwargs)
