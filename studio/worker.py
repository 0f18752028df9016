"""The task worker: django-tasks-db's worker, keeping several jobs in flight at once.

A job spends nearly all its time waiting on the Images API, so one process runs many in
threads; each thread gives its database connection back while it waits (see
``services.job_run``), so connections are not tied to jobs in flight.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from types import FrameType

from django.db import close_old_connections, connections
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from gallery.services import TRASH_DAYS, trash_purge_expired

from .models import WorkerHeartbeat
from .services import jobs_fail_abandoned

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
HOUSEKEEPING_SECONDS = 3600.0  # the trash is purged hourly, so nobody needs a cron job


class ConcurrentWorker(Worker):
    def __init__(self, *, concurrency: int, abandoned_after: timedelta, **kwargs) -> None:
        super().__init__(**kwargs)
        self.concurrency = concurrency
        self.abandoned_after = abandoned_after
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        self._in_flight: set[Future] = set()
        self._lock = threading.Lock()
        self._slot_freed = threading.Event()
        self._claimed = 0
        self._last_beat = 0.0
        self._last_housekeeping = 0.0

    # Ctrl-C once: stop claiming, let running jobs finish. Twice: leave at once.
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            logger.warning("Received %s again: stopping now.", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.warning("Received %s: finishing %d job(s) in flight (again to force).",
                       signal.strsignal(signum), len(self._in_flight))
        self.running = False
        self._slot_freed.set()

    def run(self) -> None:
        logger.info("Worker %s started: up to %d jobs at once.", self.worker_id, self.concurrency)
        failed = jobs_fail_abandoned(older_than=self.abandoned_after)
        if failed:
            logger.warning("Marked %d job(s) abandoned by a stopped worker as failed.", failed)
        try:
            self._loop()
        finally:
            self._pool.shutdown(wait=True)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            connections.close_all()
        logger.info("Worker %s stopped after %d task(s).", self.worker_id, self._claimed)

    def _loop(self) -> None:
        while self.running:
            close_old_connections()
            self._beat()
            self._housekeeping()
            if self._free_slots() == 0:
                self._wait(self.interval)
                continue
            task_result, polled = self._claim_one()
            if task_result is not None:
                self._submit(task_result)
                if self.max_tasks is not None and self._claimed >= self.max_tasks:
                    return
                continue
            if self.batch and polled and not self._in_flight:
                return
            self._wait(self.interval)

    def _free_slots(self) -> int:
        with self._lock:
            return self.concurrency - len(self._in_flight)

    def _wait(self, seconds: float) -> None:
        self._slot_freed.wait(seconds)
        self._slot_freed.clear()

    def _claim_one(self) -> tuple[DBTaskResult | None, bool]:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None, False  # another worker holds the queue; try again shortly
            raise
        return task_result, True

    def _submit(self, task_result: DBTaskResult) -> None:
        self._claimed += 1
        future = self._pool.submit(self._run_in_thread, task_result)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)

    def _run_in_thread(self, task_result: DBTaskResult) -> None:
        try:
            self.run_task(task_result)
        finally:
            connections.close_all()  # this thread's connections only

    def _done(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)
        self._slot_freed.set()

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.batch or now - self._last_housekeeping < HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = now
        purged = trash_purge_expired()
        if purged:
            logger.info("Purged %d image(s) kept in the trash for more than %d days.", purged, TRASH_DAYS)

    def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = now
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"seen_at": timezone.now(), "in_flight": len(self._in_flight)},
        )
