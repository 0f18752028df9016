"""The bound on the database connections a worker's job threads hold (studio.db_backends.gate)."""

import threading

import pytest
from django.db import connection, connections, transaction

from imageapi.client import ImagesClient
from studio import images_client, services
from studio.db_backends import gate
from studio.models import Job
from studio.tasks import job_enqueue
from tests.factories import make_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_threads_in_a_gate_hold_no_more_connections_than_its_slots():
    slots = gate.Gate(2)
    inside = threading.Barrier(2, timeout=10)
    held_at_once = []
    lock = threading.Lock()
    holding = [0]

    def work(index):
        with gate.use(slots):
            connection.ensure_connection()
            with lock:
                holding[0] += 1
                held_at_once.append(holding[0])
            if index < 2:
                inside.wait()  # the first two really hold their connections together
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            with lock:
                holding[0] -= 1
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(held_at_once) == 8
    assert max(held_at_once) == slots.peak == 2
    assert slots.held == 0  # every close gave its slot back
    assert slots.opened == 2  # and its connection, open, to the next thread
    assert slots.close_idle() == 2


def _in_thread(work):
    errors = []

    def run():
        try:
            work()
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and not errors, errors


def _select_one():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_closed_connection_serves_the_next_thread_still_open():
    slots = gate.Gate(1)
    seen = []

    def work():
        with gate.use(slots):
            _select_one()
            seen.append(connection.connection)

    _in_thread(work)
    _in_thread(work)
    assert slots.opened == 1
    assert seen[0] is seen[1]
    assert slots.idle == 1 and slots.held == 0
    slots.close_idle()
    assert slots.idle == 0
    _in_thread(work)  # a gate that closed its connections (its worker stopped) keeps none
    assert slots.opened == 2 and slots.idle == 0


def test_a_connection_closed_inside_a_transaction_is_not_kept():
    slots = gate.Gate(1)

    def work():
        with gate.use(slots), transaction.atomic():
            _select_one()
            connection.close()  # what a broken job would leave behind

    _in_thread(work)
    assert slots.idle == 0 and slots.held == 0


def test_a_connection_that_saw_an_error_is_not_kept():
    slots = gate.Gate(1)

    def work():
        with gate.use(slots):
            _select_one()
            connection.errors_occurred = True  # as Django marks it after an operational error
            connection.close()

    _in_thread(work)
    assert slots.idle == 0 and slots.held == 0


def test_a_connection_kept_too_long_is_closed_not_handed_out():
    slots = gate.Gate(1, idle_seconds=-1)  # every kept connection is already too old

    def work():
        with gate.use(slots):
            _select_one()

    _in_thread(work)
    assert slots.idle == 1
    _in_thread(work)
    assert slots.opened == 2 and slots.idle == 1
    slots.close_idle()


def test_a_failed_connect_gives_its_slot_back(monkeypatch):
    slots = gate.Gate(1)
    errors = []

    def work():
        wrapper = connections.create_connection("default")
        monkeypatch.setattr(type(wrapper).__mro__[2], "get_new_connection",
                            lambda self, params: (_ for _ in ()).throw(OSError("refused")))
        with gate.use(slots):
            try:
                wrapper.ensure_connection()
            except OSError as error:
                errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    assert errors and slots.held == 0


def test_threads_outside_a_gate_connect_as_usual():
    slots = gate.Gate(1)
    slots.acquire()  # the only slot is taken: a gated thread would wait
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        slots.release()


def test_many_jobs_in_flight_share_a_few_connections(alice, settings, monkeypatch):
    settings.STUDIO_WORKER_DB_CONNECTIONS = 3
    # Every call waits until all 12 are in flight: the jobs then complete together, as calls
    # that started together do, and all need the database at once.
    together = threading.Barrier(12, timeout=60)
    original = services._call_api

    def call(*args):
        together.wait()
        return original(*args)

    monkeypatch.setattr(services, "_call_api", call)
    jobs = [services.job_submit_generation(user=alice, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": f"picture {i}", "n": 1, "size": "1024x1024", "quality": "low"})
        for i in range(12)]
    worker = make_worker(concurrency=12, worker_id="gate-worker")
    worker.run()
    assert set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)) == {
        Job.Status.SUCCEEDED}
    assert worker.db_gate.limit == 3
    assert 1 <= worker.db_gate.peak <= 3
    assert worker.db_gate.held == 0
    # Each job connects several times (to claim, then again after its call): its thread takes a
    # connection the gate kept open, so the worker opened no more than the gate's limit in all,
    # and closed them when it stopped.
    assert 1 <= worker.db_gate.opened <= 3
    assert worker.db_gate.idle == 0


def test_jobs_share_one_client_and_open_no_connection_each(alice, settings, monkeypatch):
    settings.STUDIO_WORKER_DB_CONNECTIONS = 2
    built = []

    def build(*args, **kwargs):
        built.append(ImagesClient(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(images_client, "ImagesClient", build)
    images_client.forget_images_client()
    jobs = [services.job_submit_generation(user=alice, enqueue=job_enqueue, request={
        "model": "gpt-image-2", "prompt": f"one client {i}", "n": 1, "size": "1024x1024", "quality": "low"})
        for i in range(20)]
    worker = make_worker(concurrency=10, worker_id="shared-worker")
    worker.run()
    assert set(Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)) == {
        Job.Status.SUCCEEDED}
    assert len(built) == 1
    assert worker.db_gate.opened <= 2


def test_slots_go_to_waiting_threads_in_the_order_they_asked():
    """A job's thread waits for a connection only behind threads that asked before it, so the
    order the scheduler chose is the order jobs reach the database."""
    slots = gate.FifoSlots(1)
    slots.acquire()
    served: list[int] = []

    def ask(index: int) -> None:
        slots.acquire()
        served.append(index)
        slots.release()

    threads = []
    for index in range(6):
        thread = threading.Thread(target=ask, args=(index,))
        thread.start()
        threads.append(thread)
        while slots.waiting < index + 1:  # this one queues before the next is started
            threading.Event().wait(0.001)
    slots.release()
    for thread in threads:
        thread.join()
    assert served == [0, 1, 2, 3, 4, 5]
    slots.acquire()  # every slot came back
    slots.release()
    with pytest.raises(ValueError, match="never taken"):
        slots.release()
