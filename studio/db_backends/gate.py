"""A bound on the database connections a worker's job threads hold at once (issue 10).

A worker runs up to a thousand jobs in threads; each opens a connection to claim its job, gives
it back while its call waits on the Images API, and opens one again to store the answer.
Without a bound, calls that finish together open as many connections as there are calls
("too many clients" on PostgreSQL, a queue of writers timing out on SQLite). A thread entered
into a gate (``use``) must take one of its slots before it connects, and gives the slot back
when it closes the connection: the rest wait their turn, so connections do not grow with
calls in flight. Threads outside any gate (the web server, the worker's own loop, tests)
connect as usual.

The gate also keeps the connections its threads close, open, for the next thread to take: a
job's thread connects and closes several times (it gives its connection back while its call
waits), and opening a connection per job would cost a server process each time on PostgreSQL
(issue 10: nothing in a job's path opens a connection per job). So the connections of a gate's
threads are at most ``limit`` over the worker's life, however many jobs it runs.

It lives in the backend (``connect``/``close``) rather than around chosen service calls so that
every query a job makes is covered, including ones added later.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

_local = threading.local()
# A connection kept open this long without use is closed rather than handed out again: the
# server or a firewall may have dropped it meanwhile.
IDLE_SECONDS = 60.0


class FifoSlots:
    """A counting semaphore that serves its waiters in the order they came: a slot given back
    goes straight to the longest-waiting thread, never to one arriving meanwhile. So a job's
    thread waits for a connection only behind threads that asked before it, and the order the
    scheduler chose (fair between people) is the order jobs get to the database."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._lock = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()  # each held until its thread is given a slot

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            handed = threading.Lock()
            handed.acquire()
            self._waiters.append(handed)
        handed.acquire()  # released by ``release`` once this thread has the slot

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()  # the slot passes on without becoming free
                return
            if self._free >= self.limit:
                raise ValueError("A slot was given back that was never taken.")
            self._free += 1

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)


class Gate:
    """``limit`` connections at once among the threads that ``use`` it, given in the order
    threads ask for them."""

    def __init__(self, limit: int, *, idle_seconds: float = IDLE_SECONDS) -> None:
        if limit < 1:
            raise ValueError("A gate needs at least one slot.")
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._slots = FifoSlots(limit)
        self._lock = threading.Lock()
        self._idle: dict[str, list[tuple[float, Any]]] = {}  # alias: (closed at, open DB-API connection)
        self.held = 0
        self.peak = 0
        self.opened = 0  # connections opened to the database by the gate's threads
        self._closed = False
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

    def count_opened(self) -> None:
        with self._lock:
            self.opened += 1

    def keep(self, alias: str, raw: Any) -> None:
        """Keep a closed wrapper's connection open for the next thread (the caller holds a slot,
        so the gate's connections, kept and in use, never pass its limit)."""
        with self._lock:
            if not self._closed:
                self._idle.setdefault(alias, []).append((time.monotonic(), raw))
                return
        _close_quietly([raw])  # a thread finishing after its worker stopped

    def take(self, alias: str) -> Any | None:
        """A kept connection to ``alias`` used recently, or None; older ones are closed."""
        stale = []
        try:
            with self._lock:
                kept = self._idle.get(alias, [])
                while kept:
                    closed_at, raw = kept.pop()
                    if time.monotonic() - closed_at <= self.idle_seconds:
                        return raw
                    stale.append(raw)
            return None
        finally:
            _close_quietly(stale)

    def close_idle(self) -> int:
        """Close the connections kept open, and from now on those closed (the worker stops);
        returns how many."""
        with self._lock:
            self._closed = True
            kept = [raw for entries in self._idle.values() for _, raw in entries]
            self._idle.clear()
        _close_quietly(kept)
        return len(kept)

    @property
    def idle(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._idle.values())


def _close_quietly(raws: list[Any]) -> None:
    for raw in raws:
        with suppress(Exception):  # a dropped connection is as good as closed
            raw.close()


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
    """Mixed into a backend's DatabaseWrapper: take the thread's gate slot to connect (and a
    connection the gate kept open, if any), give both back on close."""

    _gate_slot: Gate | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        gate = getattr(_local, "gate", None)
        if gate is not None and self._gate_slot is None:
            gate.acquire()
            self._gate_slot = gate
        try:
            if self._gate_slot is not None and (kept := self._gate_slot.take(self.alias)) is not None:  # type: ignore[attr-defined]
                return kept
            raw = super().get_new_connection(conn_params)  # type: ignore[misc]
        except BaseException:
            self._give_back()
            raise
        if self._gate_slot is not None:
            self._gate_slot.count_opened()
        return raw

    def _close(self) -> None:
        try:
            if self._gate_slot is not None and self._clean():
                self._gate_slot.keep(self.alias, self.connection)  # type: ignore[attr-defined]
                return
            super()._close()  # type: ignore[misc]
        finally:
            self._give_back()

    def _clean(self) -> bool:
        """Whether this connection may serve another thread: no transaction open, no error seen."""
        raw = self.connection  # type: ignore[attr-defined]
        if raw is None or self.in_atomic_block or self.errors_occurred:  # type: ignore[attr-defined]
            return False
        if getattr(raw, "closed", False) or getattr(raw, "broken", False):
            return False
        try:
            raw.rollback()  # nothing to undo in autocommit mode; it ends a stray transaction otherwise
        except Exception:  # not reusable: closed for real
            return False
        return True

    def _give_back(self) -> None:
        gate, self._gate_slot = self._gate_slot, None
        if gate is not None:
            gate.release()
