"""A bound on the database connections a worker's job threads hold at once (issue 10).

A worker runs up to a thousand jobs in threads; each opens a connection to claim its job, gives
it back while its call waits on the Images API, and opens one again to store the answer.
Without a bound, calls that finish together open as many connections as there are calls
("too many clients" on PostgreSQL, a queue of writers timing out on SQLite). A thread entered
into a gate (``use``) must take one of its slots before it connects, and gives the slot back
when it closes the connection: the rest wait their turn, so connections do not grow with
calls in flight. Threads outside any gate (the web server, the worker's own loop, tests)
connect as usual.

It lives in the backend (``connect``/``close``) rather than around chosen service calls so that
every query a job makes is covered, including ones added later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


class Gate:
    """``limit`` connections at once among the threads that ``use`` it."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("A gate needs at least one slot.")
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.held = 0
        self.peak = 0
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        started = time.monotonic()
        self._slots.acquire()
        with self._lock:
            self.held += 1
            self.peak = max(self.peak, self.held)
            self.waited_seconds += time.monotonic() - started

    def release(self) -> None:
        with self._lock:
            self.held -= 1
        self._slots.release()


@contextmanager
def use(gate: Gate) -> Iterator[None]:
    """Connections this thread opens inside the block take a slot of ``gate``."""
    previous = getattr(_local, "gate", None)
    _local.gate = gate
    try:
        yield
    finally:
        _local.gate = previous


class GatedConnectionMixin:
    """Mixed into a backend's DatabaseWrapper: take the thread's gate slot to connect, give it
    back on close."""

    _gate_slot: Gate | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        gate = getattr(_local, "gate", None)
        if gate is not None and self._gate_slot is None:
            gate.acquire()
            self._gate_slot = gate
        try:
            return super().get_new_connection(conn_params)  # type: ignore[misc]
        except BaseException:
            self._give_back()
            raise

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._give_back()

    def _give_back(self) -> None:
        gate, self._gate_slot = self._gate_slot, None
        if gate is not None:
            gate.release()
