"""Calls in flight at the upstream, for `make bench` (issue 10).

The bench serves its own slow upstream: the emulator over HTTP in a separate process
(``manage.py serve_emulator``), whose calls each take ``seconds`` and which counts its open
requests (``GET /_emulator/in-flight``). Two measurements per load:

- **client**: ``calls`` threads of this process share one ``ImagesClient`` (the studio's
  client, default pool) and each makes one call: the most calls open at the upstream at
  once, and the wall time;
- **worker**: ``calls`` generation jobs are queued, then ``manage.py worker --batch
  --concurrency calls`` runs them in its own process against the upstream: the most calls
  open at once, the wall time until the worker exits, its peak RSS, and how the jobs ended.

Both give the CPU seconds the worker (or the client's process) and the upstream spent: on a
shared machine the wall time says how much CPU the run was given as much as what it needed.

Pictures are 1024x1024 low-quality PNGs from eight prompts in turn (the upstream draws each
once and then serves it from its cache, as a busy emulator would).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from imageapi.client import ImagesClient
from imageapi.emulator.handler import RENDER_SECONDS
from imageapi.emulator.wsgi import IN_FLIGHT_PATH

LOADS = (250, 1000)
SECONDS = 30.0
PROMPTS = 8
MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Exhausted|Timeout)\b.*:")
REQUEST = {"model": "gpt-image-2", "size": "1024x1024", "quality": "low", "n": 1}


@dataclass(frozen=True)
class Result:
    mode: str  # "client" or "worker"
    calls: int
    peak_in_flight: int
    seconds: float
    peak_rss_mib: float | None = None
    outcomes: str = ""
    peak_db_connections: int | None = None  # PostgreSQL: the database's connections, bench included
    cpu_seconds: float | None = None  # the worker's (or, for "client", this process's during the run)
    upstream_cpu_seconds: float | None = None


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a live process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Upstream:
    base_url: str
    pid: int


@contextmanager
def slow_upstream(seconds: float) -> Iterator[Upstream]:
    """The emulator over HTTP in its own process, each low-quality call taking ``seconds``."""
    port = _free_port()
    latency = seconds / RENDER_SECONDS["low"]
    process = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(MANAGE), "serve_emulator", "--port", str(port), "--latency", f"{latency}", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base_url + IN_FLIGHT_PATH, timeout=1, trust_env=False).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The bench's upstream did not start: {process.stderr.read()!r}") from None
                time.sleep(0.1)
        yield Upstream(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def in_flight(base_url: str) -> dict[str, int]:
    return httpx.get(base_url + IN_FLIGHT_PATH, timeout=5, trust_env=False).json()


def client_run(calls: int, seconds: float) -> Result:
    with slow_upstream(seconds) as upstream:
        base_url = upstream.base_url
        cpu_before = time.process_time()
        upstream_before = _cpu_seconds(upstream.pid) or 0.0
        client = ImagesClient(api_key="bench", base_url=base_url + "/v1", timeout=seconds * 4, max_retries=0)
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def call(index: int) -> None:
            try:
                client.generate(prompt=f"bench picture {index % PROMPTS}", **REQUEST)
                outcome = "ok"
            except Exception as error:  # counted and reported in the table
                outcome = type(error).__name__
            with lock:
                outcomes[outcome] += 1

        threads = [threading.Thread(target=call, args=(index,)) for index in range(calls)]
        started = time.perf_counter()
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            client.close()
        elapsed = time.perf_counter() - started
        peak = in_flight(base_url)["peak"]
        upstream_cpu = (_cpu_seconds(upstream.pid) or 0.0) - upstream_before
    return Result("client", calls, peak, elapsed, outcomes=_outcomes(outcomes),
                  cpu_seconds=time.process_time() - cpu_before, upstream_cpu_seconds=upstream_cpu)


def database_url() -> str:
    """The URL of the database this process uses (the test or bench database), for a worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def _rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):  # the peak resident set so far
            return int(line.split()[1]) / 1024
    return None


def worker_run(calls: int, seconds: float, *, log: Callable[[str], object] = lambda _: None) -> Result:
    from studio import services
    from studio.models import Job
    from studio.tasks import job_enqueue

    user = get_user_model().objects.create_user(f"bench-in-flight-{calls}-{time.monotonic_ns()}")
    job_ids = [services.job_submit_generation(user=user, enqueue=job_enqueue,
                                             request={**REQUEST, "prompt": f"bench job {i % PROMPTS}"}).pk
               for i in range(calls)]
    with slow_upstream(seconds) as upstream:
        base_url = upstream.base_url
        upstream_before = _cpu_seconds(upstream.pid) or 0.0
        env = {**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
               "STUDIO_PROVIDER": "openai", "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": base_url + "/v1",
               "STUDIO_REQUEST_TIMEOUT": str(seconds * 4),
               # As in production: with DEBUG on, Django formats and keeps every query it runs.
               "DEBUG": "false", "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
               # One organisation's load from one bench user: the per-person cap is not measured here.
               "STUDIO_MAX_JOBS_PER_USER": str(calls)}
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(MANAGE), "worker", "--batch", "--concurrency", str(calls), "--interval", "0.05"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        peak_rss: float | None = None
        cpu: float | None = None
        peak_connections = 0
        errors = bytearray()
        reader = threading.Thread(target=lambda: errors.extend(process.stderr.read()), daemon=True)
        reader.start()
        deadline = started + seconds * 6 + 300
        while process.poll() is None:
            rss = _rss_mib(process.pid)
            peak_rss = max(peak_rss or 0.0, rss or 0.0)
            cpu = _cpu_seconds(process.pid) or cpu  # the last reading before it exits (≤ 0.25 s short)
            peak_connections = max(peak_connections, _database_connections())
            if time.perf_counter() > deadline:
                process.kill()
                log(f"worker at {calls}: killed after {deadline - started:.0f} s")
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        peak = in_flight(base_url)["peak"]
        upstream_cpu = (_cpu_seconds(upstream.pid) or 0.0) - upstream_before
        reader.join(timeout=5)
    if keep := os.environ.get("STUDIO_BENCH_WORKER_LOG"):  # the worker's whole log, to read a failure
        Path(keep).write_bytes(bytes(errors))
    if process.returncode:
        log(f"worker at {calls} exited with {process.returncode}: {bytes(errors[-2000:]).decode(errors='replace')}")
    raised = Counter(_exceptions(bytes(errors).decode(errors="replace")))
    for line, count in raised.most_common(3):
        log(f"worker at {calls}: {count} × {line[:200]}")
    jobs = Job.objects.filter(pk__in=job_ids)
    outcomes = _outcomes(Counter(jobs.values_list("status", flat=True)))
    reasons = Counter(message[:80] for message in jobs.filter(status=Job.Status.FAILED)
                      .values_list("error_message", flat=True))
    if reasons:
        outcomes += "; failed with: " + "; ".join(f"“{reason}” ×{count}" for reason, count in reasons.most_common(2))
    return Result("worker", calls, peak, elapsed, peak_rss_mib=peak_rss, outcomes=outcomes,
                  peak_db_connections=peak_connections if connection.vendor == "postgresql" else None,
                  cpu_seconds=cpu, upstream_cpu_seconds=upstream_cpu)


def _exceptions(log_text: str) -> Iterator[str]:
    """The last line of each traceback in a worker's log: plain lines, or JSON lines (DEBUG off)
    carrying theirs in ``exc_info``."""
    for line in log_text.splitlines():
        if line.startswith("{"):
            try:
                traceback = json.loads(line).get("exc_info") or ""
            except (ValueError, AttributeError):
                continue
            line = traceback.strip().rsplit("\n", 1)[-1]
        if _EXCEPTION_LINE.match(line):
            yield line


def _database_connections() -> int:
    """Connections to the bench's database now, all clients (PostgreSQL; 0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _outcomes(counts: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counts.most_common())


def run(loads: tuple[int, ...] | list[int], *, seconds: float = SECONDS,
        log: Callable[[str], object] = lambda _: None) -> list[Result]:
    results = []
    for calls in loads:
        log(f"in flight: {calls} calls of {seconds:.0f} s from one client...")
        results.append(client_run(calls, seconds))
        log(f"in flight: {calls} jobs of {seconds:.0f} s through the worker...")
        results.append(worker_run(calls, seconds, log=log))
    return results


def markdown(results: list[Result], *, seconds: float) -> list[str]:
    lines = [f"| load ({seconds:.0f}-second calls) | peak calls in flight at the upstream | wall time "
             "| worker peak RSS | peak database connections | CPU: worker (client) / upstream | outcomes |",
             "|---|--:|--:|--:|--:|--:|---|"]
    for result in results:
        who = "one ImagesClient, one thread per call" if result.mode == "client" else "manage.py worker --batch"
        rss = f"{result.peak_rss_mib:.0f} MiB" if result.peak_rss_mib else "—"
        connections = f"{result.peak_db_connections}" if result.peak_db_connections else "—"
        cpu = " / ".join("—" if value is None else f"{value:.1f} s"
                         for value in (result.cpu_seconds, result.upstream_cpu_seconds))
        lines.append(f"| {result.calls:,} calls, {who} | {result.peak_in_flight:,} | {result.seconds:.1f} s "
                     f"| {rss} | {connections} | {cpu} | {result.outcomes} |")
    return lines
