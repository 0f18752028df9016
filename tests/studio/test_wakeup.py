"""A queued job wakes the worker (NOTIFY on PostgreSQL, data_version on SQLite) instead of a poll.

Every wait below is far longer than the test allows itself: a wait ends early only when the
event it watches for happens, so the tests do not depend on the machine's speed.
"""

import os
import threading

import pytest
from django.db import connection

from studio import services, wakeup
from studio.models import Job
from studio.tasks import job_enqueue
from studio.worker import ConcurrentWorker

pytestmark = pytest.mark.django_db(transaction=True)
LONG = 600.0  # a wait this long never ends by its timeout during a test


def _submit(user, prompt="a lighthouse"):
    return services.job_submit_generation(user=user, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low"})


def _waiting(watch, wake):
    """A thread blocked in ``watch.wait(LONG)``; its answer lands in the list it returns."""
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(watch.wait(LONG, wake)), daemon=True)
    thread.start()
    return thread, answers


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_a_notify_wakes_the_waiting_loop(alice):
    watch = wakeup.queue_watch()
    try:
        thread, answers = _waiting(watch, wakeup.Wakeup())
        _submit(alice)  # commits, then enqueues and notifies
        thread.join(timeout=60)
        assert answers == [True]
    finally:
        watch.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_a_notify_inside_a_transaction_arrives_with_its_commit(alice):
    from django.db import transaction

    watch = wakeup.queue_watch()
    try:
        with transaction.atomic():
            wakeup.notify_job_queued()
            assert watch.wait(0, wakeup.Wakeup()) is False  # not before the commit
        thread, answers = _waiting(watch, wakeup.Wakeup())
        thread.join(timeout=60)
        assert answers == [True]
    finally:
        watch.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_a_lost_listen_connection_is_noticed_and_opened_again(alice):
    watch = wakeup.queue_watch()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [watch._connection.info.backend_pid])
        for _ in range(2):  # the loss, then the new connection: each time, look at the queue
            thread, answers = _waiting(watch, wakeup.Wakeup())
            thread.join(timeout=60)
            assert answers == [True]
        thread, answers = _waiting(watch, wakeup.Wakeup())
        _submit(alice)
        thread.join(timeout=60)
        assert answers == [True]  # listening again
    finally:
        watch.close()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="data_version is SQLite's")
def test_a_commit_elsewhere_wakes_the_sqlite_watch(alice):
    watch = wakeup.queue_watch()
    try:
        assert isinstance(watch, wakeup.SqliteWatch)
        thread, answers = _waiting(watch, wakeup.Wakeup())
        _submit(alice)
        thread.join(timeout=60)
        assert answers == [True]
    finally:
        watch.close()


def test_a_job_ending_wakes_the_watch_without_a_queued_job():
    watch, wake = wakeup.queue_watch(), wakeup.Wakeup()
    try:
        thread, answers = _waiting(watch, wake)
        wake.set()
        thread.join(timeout=60)
        assert answers == [False]
    finally:
        watch.close()
        wake.close()


class _Observed(ConcurrentWorker):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.idle = threading.Event()

    def _wait(self, seconds: float, *, watch: bool = True) -> None:
        if watch:
            self.idle.set()
        super()._wait(seconds, watch=watch)


def test_the_worker_picks_up_a_queued_job_without_polling(alice):
    """The worker looks at the queue by itself only every ten minutes: the job starts because its
    enqueue woke it."""
    worker = _Observed(concurrency=2, queue_names=["default"], interval=LONG, batch=False,
                       backend_name="default", startup_delay=False, max_tasks=None,
                       worker_id="woken", excluded_queue_names=[])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.idle.wait(60)  # its first look at the queue is over: it found nothing
        job = _submit(alice)
        for _ in range(600):
            if Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED:
                break
            threading.Event().wait(0.1)
        assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    finally:
        worker.stop()  # wakes the loop, which then stops
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_a_wakeup_set_after_it_closed_writes_nowhere():
    wake = wakeup.Wakeup()
    wake.set()
    assert wake.is_set()
    wake.clear()
    assert not wake.is_set()
    wake.close()
    replacement_read, replacement_write = os.pipe()  # may take the numbers the wakeup gave back
    try:
        wake.set()
        wake.clear()
        os.set_blocking(replacement_read, False)
        with pytest.raises(BlockingIOError):
            os.read(replacement_read, 1)  # nothing was written to it
    finally:
        os.close(replacement_read)
        os.close(replacement_write)
