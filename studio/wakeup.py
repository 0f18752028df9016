"""Waking the worker when a job is queued, instead of polling for it (issue 10: pick-up).

A queued job should start within 100 ms when a slot is free, without every worker querying
the queue ten times a second while nothing happens.

- **PostgreSQL**: ``job_enqueue`` sends ``NOTIFY studio_job_queued`` (inside a transaction it is
  delivered when the transaction commits, with the task row). Each worker LISTENs on a
  connection of its own, kept open (Django's connections come and go between the loop's
  rounds, and a notification sent while nobody listens is lost), and waits on its socket.
- **SQLite** has no notifications, but the database is one file on this machine: a worker
  reads ``PRAGMA data_version`` on a connection of its own every SQLITE_CHECK_SECONDS. It
  reads no table and takes no lock, and it changes when any other connection commits: a
  claim round (whose transaction takes SQLite's one write lock) follows a commit, never more
  than 20 times a second, so completing jobs are not crowded out of the write lock; a queued
  job is seen within 50 ms (25 ms on average). A 10 ms check would see it sooner but would
  run claim rounds up to 100 times a second while jobs complete.

Either way the worker also looks at the queue every ``--interval`` seconds (1 s) for what no
commit announces (a pace or a per-user cap that frees with time or on another worker).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sqlite3
import threading
import time

from django.db import connections

logger = logging.getLogger(__name__)
CHANNEL = "studio_job_queued"
SQLITE_CHECK_SECONDS = 0.05


def notify_job_queued(*, using: str = "default") -> None:
    """Tell the workers a job was queued (PostgreSQL; elsewhere they notice by themselves)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


class Wakeup:
    """A threading.Event that a ``select`` can wait on too (a pipe): set by a job's thread when it
    ends, and by a signal handler (a write to a pipe is safe there)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        # Reentrant: a signal handler runs in the main thread, maybe inside clear(). Once closed,
        # a late set() (a job's thread ending as the worker stops) must not write to a number the
        # process may have given to another file since.
        self._lock = threading.RLock()
        self._closed = False

    def set(self) -> None:
        self._event.set()
        with self._lock:
            if not self._closed:
                with contextlib.suppress(OSError):  # full: it is set already
                    os.write(self._write, b"\0")

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def clear(self) -> None:
        self._event.clear()
        with self._lock:
            if not self._closed:
                with contextlib.suppress(OSError):  # BlockingIOError: drained
                    while os.read(self._read, 4096):
                        pass

    def fileno(self) -> int:
        return self._read

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._read)
                os.close(self._write)


class QueueWatch:
    """Waits for a sign that a job may have been queued (here: none; the worker polls)."""

    def wait(self, seconds: float, wakeup: Wakeup) -> bool:
        """Until ``seconds`` pass, ``wakeup`` is set, or a job may have been queued (True)."""
        wakeup.wait(seconds)
        return False

    def close(self) -> None:
        pass


class PostgresWatch(QueueWatch):
    def __init__(self, using: str) -> None:
        self._using = using
        self._connection = None
        self._connect()

    def _connect(self) -> None:
        import psycopg

        # Straight from psycopg, not Django's get_new_connection: never one of a pool's
        # connections, which would go back to the pool still listening.
        connection = psycopg.connect(**connections[self._using].get_connection_params(), autocommit=True)
        connection.execute(f"LISTEN {CHANNEL}")
        self._connection = connection

    def wait(self, seconds: float, wakeup: Wakeup) -> bool:
        import psycopg

        deadline = time.monotonic() + seconds
        if self._connection is None or self._connection.closed:
            try:
                self._connect()
            except psycopg.Error:
                logger.warning("Cannot LISTEN for queued jobs; polling until the database is back.", exc_info=True)
                wakeup.wait(seconds)
                return False
            return True  # notifications sent while it was away are lost: look now
        while True:
            try:
                if list(self._connection.notifies(timeout=0)):  # received meanwhile, or now
                    return True
            except psycopg.Error:
                self.close()
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or wakeup.is_set():
                return False
            ready, _, _ = select.select([self._connection.fileno(), wakeup.fileno()], [], [], remaining)
            if not ready or wakeup.fileno() in ready:
                return False

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                logger.debug("closing the LISTEN connection failed", exc_info=True)
            self._connection = None


class SqliteWatch(QueueWatch):
    def __init__(self, path: str) -> None:
        # Autocommit (isolation_level None): each PRAGMA sees the latest commit.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._version = self._data_version()

    def _data_version(self) -> int:
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def wait(self, seconds: float, wakeup: Wakeup) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            version = self._data_version()
            if version != self._version:
                self._version = version
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or wakeup.wait(min(SQLITE_CHECK_SECONDS, remaining)):
                return False

    def close(self) -> None:
        self._connection.close()


def queue_watch(*, using: str = "default") -> QueueWatch:
    """The way this database can tell a worker that a job may have been queued."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return PostgresWatch(using)
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return SqliteWatch(name)
    return QueueWatch()
