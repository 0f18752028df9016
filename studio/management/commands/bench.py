"""`make bench`: speed figures for docs/benchmarks.md, measured on a throw-away database."""

from __future__ import annotations

import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment
from django.utils import timezone

from gallery import benchmarks as gallery_benchmarks
from gallery import ingest_bench
from gallery.models import Image
from gallery.selectors import GALLERY_PAGE_SIZE, encode_cursor
from imageapi.client import ImagesClient
from imageapi.emulator import Emulator, EmulatorTransport
from studio import benchmarks as in_flight_benchmarks
from studio import fairness_bench, page_weight, pickup_bench, upload_bench, workers_bench


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--scale takes sizes like 1000,10000,100000, not {value!r}") from None
    return [size for size in sizes if size > 0]


def _use_own_test_database(scratch: str) -> None:
    """Not the test suite's database (``make test`` may be running): a file in ``scratch`` for SQLite,
    a database of its own for PostgreSQL."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        name = os.path.join(scratch, "bench.sqlite3")
    else:
        name = f"test_{settings_dict['NAME']}_bench"
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": name}


class Command(BaseCommand):
    help = ("Measure the emulator, the worker's throughput and the gallery, small and at scale; "
            "print Markdown tables.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jobs", type=int, default=16, help="Jobs per worker run (default: %(default)s).")
        parser.add_argument("--images", type=int, default=200, help="Images in the gallery (default: %(default)s).")
        parser.add_argument("--scale", type=_sizes, default=",".join(map(str, gallery_benchmarks.SCALES)),
                            help="Team sizes for the gallery at scale, comma-separated, or 0 to skip "
                                 "(default: %(default)s).")
        parser.add_argument("--weight-only", action="store_true",
                            help="Only the page weight in the browser (quick).")
        parser.add_argument("--repeats", type=int, default=gallery_benchmarks.REPEATS,
                            help="Requests per gallery case and size (default: %(default)s).")
        parser.add_argument("--in-flight", type=_sizes, default=",".join(map(str, in_flight_benchmarks.LOADS)),
                            help="Concurrent slow calls to hold open, comma-separated, or 0 to skip "
                                 "(default: %(default)s).")
        parser.add_argument("--in-flight-only", action="store_true",
                            help="Only the calls in flight at the upstream (--in-flight loads).")
        parser.add_argument("--in-flight-seconds", type=float, default=in_flight_benchmarks.SECONDS,
                            help="How long each of those calls takes (default: %(default)s).")
        parser.add_argument("--fairness", type=int, default=fairness_bench.BURST,
                            help="Jobs in one person's burst, queued before another person's single job, "
                                 "or 0 to skip (default: %(default)s).")
        parser.add_argument("--fairness-concurrency", type=int, default=fairness_bench.CONCURRENCY,
                            help="The worker's concurrency while the burst runs (default: %(default)s).")
        parser.add_argument("--fairness-repeats", type=int, default=fairness_bench.REPEATS,
                            help="Runs of the burst in each order; medians are reported (default: %(default)s).")
        parser.add_argument("--workers", type=int, default=workers_bench.WORKERS,
                            help="Worker processes sharing the bench's database, each job to run exactly once, "
                                 "or 0 to skip (default: %(default)s).")
        parser.add_argument("--workers-jobs", type=int, default=workers_bench.JOBS,
                            help="Jobs those workers share (default: %(default)s; the issue's figure is 1000).")
        parser.add_argument("--workers-concurrency", type=int, default=workers_bench.CONCURRENCY,
                            help="Each of those workers' concurrency (default: %(default)s).")
        parser.add_argument("--uploads", type=int, default=upload_bench.REPEATS,
                            help="Edits of 16 inputs of 48 MB posted to a real server to measure its memory, "
                                 "or 0 to skip (default: %(default)s).")

    def handle(self, *, jobs: int, images: int, scale: list[int], repeats: int, in_flight: list[int],
               in_flight_seconds: float, uploads: int, fairness: int, fairness_concurrency: int,
               fairness_repeats: int, workers: int, workers_jobs: int, workers_concurrency: int,
               weight_only: bool = False, in_flight_only: bool = False, **options) -> None:
        if fairness < 0 or fairness_concurrency < 1 or fairness_repeats < 1:
            raise CommandError("--fairness takes 0 or more jobs, --fairness-concurrency and --fairness-repeats "
                               "1 or more.")
        if workers < 0 or workers_jobs < 1 or workers_concurrency < 1:
            raise CommandError("--workers takes 0 or more processes, --workers-jobs and --workers-concurrency "
                               "1 or more.")
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())  # other work on the machine skews times
        for name in ("studio", "django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(logging.WARNING)  # one line per job would bury the table
        setup_test_environment()
        scratch = tempfile.TemporaryDirectory()
        _use_own_test_database(scratch.name)
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            with override_settings(MEDIA_ROOT=os.path.join(scratch.name, "media"), STATIC_ROOT=scratch.name,
                                   STUDIO_PROVIDER="offline", ALLOWED_HOSTS=["*"]):
                rows = [] if weight_only or in_flight_only else [*self._emulator(), *self._worker(jobs),
                                               *pickup_bench.rows(pickup_bench.run()), *self._gallery(images),
                                               *ingest_bench.rows(ingest_bench.run())]
                fair = fairness_bench.run(burst=fairness, concurrency=fairness_concurrency,
                                          repeats=fairness_repeats, log=self.stderr.write) \
                    if fairness and not weight_only and not in_flight_only else []
                several = [workers_bench.run(workers=workers, jobs=workers_jobs, concurrency=workers_concurrency,
                                             log_dir=Path(scratch.name), log=self.stderr.write)] \
                    if workers and not weight_only and not in_flight_only else []
                held = [] if weight_only else in_flight_benchmarks.run(in_flight, seconds=in_flight_seconds,
                                                                        log=self.stderr.write)
                # Page weight as in production: no debug toolbar or debug-only assets.
                with override_settings(DEBUG=False):
                    weights = [] if in_flight_only else page_weight.measure()
                rows += page_weight.rows(weights) if weights else []
                # Server time as in production: no template debugging (queries are still counted).
                with override_settings(DEBUG=False):
                    at_scale = gallery_benchmarks.run(scale, repeats=repeats, log=self.stderr.write) \
                        if scale and not weight_only and not in_flight_only else []
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            scratch.cleanup()
        # A server of its own (gunicorn on a scratch database): the memory of one web process.
        if uploads and not weight_only and not in_flight_only:
            rows += upload_bench.run(log=self.stderr.write, repeats=uploads)
        self.stdout.write(f"Machine: {platform.machine()}, {platform.processor() or platform.platform()}, "
                          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, database {connection.vendor}; "
                          f"{timezone.now():%Y-%m-%d}; load average at the start {load}\n")
        if rows:
            self.stdout.write("| measure | result |\n|---|---|")
        for name, value in rows:
            self.stdout.write(f"| {name} | {value} |")
        if held:
            self.stdout.write("\nCalls in flight at the upstream (the bench's own slow emulator over HTTP):\n")
            self.stdout.write("\n".join(in_flight_benchmarks.markdown(held, seconds=in_flight_seconds)))
        if fair:
            self.stdout.write("\nFairness: one person's single job behind another's burst "
                              f"(medians of {fairness_repeats}):\n")
            self.stdout.write("\n".join(fairness_bench.markdown(fair, burst=fairness, concurrency=fairness_concurrency,
                                                                latency=fairness_bench.LATENCY)))
        if several:
            self.stdout.write("\nSeveral worker processes on one database, each job exactly once "
                              "(the bench's own upstream over HTTP counts the calls):\n")
            self.stdout.write("\n".join(workers_bench.markdown(several, seconds=workers_bench.SECONDS)))
        if weights:
            self.stdout.write("\n".join(page_weight.details(weights)))
        if at_scale:
            self.stdout.write(f"\nGallery grid at scale, server time over {repeats} requests each:\n")
            self.stdout.write("\n".join(gallery_benchmarks.markdown(at_scale)))

    def _emulator(self) -> list[tuple[str, str]]:
        client = ImagesClient(api_key="bench", transport=EmulatorTransport(Emulator()))
        rows = []
        for size, quality in (("1024x1024", "low"), ("3840x2160", "high")):
            times = []
            for index in range(10):
                started = time.perf_counter()
                client.generate(prompt=f"benchmark picture {index}", size=size, quality=quality)
                times.append(time.perf_counter() - started)
            rows.append((f"emulator generate {size} png, p50 of 10", f"{statistics.median(times) * 1000:.0f} ms"))
        return rows

    def _worker(self, jobs: int) -> list[tuple[str, str]]:
        from studio import services
        from studio.tasks import job_enqueue
        from studio.worker import ConcurrentWorker

        user = get_user_model().objects.create_user("bench-worker")
        rows = []
        # Each emulated call waits ~0.5 s, like a (much faster) real API: the worker's job is to overlap waits.
        with override_settings(STUDIO_EMULATOR_LATENCY=0.33):
            for concurrency in (1, 8):
                for index in range(jobs):
                    services.job_submit_generation(user=user, request={
                        "model": "gpt-image-2", "prompt": f"bench {concurrency} {index}", "size": "1024x1024",
                        "quality": "low", "n": 1}, enqueue=job_enqueue)
                started = time.perf_counter()
                ConcurrentWorker(
                    concurrency=concurrency, queue_names=["default"],
                    interval=0.05, batch=True, backend_name="default", startup_delay=False, max_tasks=None,
                    worker_id=f"bench-{concurrency}", excluded_queue_names=[],
                ).run()
                elapsed = time.perf_counter() - started
                rows.append((f"worker, {jobs} jobs of ~0.5 s, concurrency {concurrency}",
                             f"{elapsed:.1f} s ({jobs / elapsed:.1f} jobs/s)"))
        return rows

    def _gallery(self, images: int) -> list[tuple[str, str]]:
        from studio import services

        user = get_user_model().objects.create_user("bench-gallery")
        with override_settings(STUDIO_EMULATOR_LATENCY=0):
            for index in range(0, images, 10):
                job = services.job_submit_generation(user=user, request={
                    "model": "gpt-image-2", "prompt": f"gallery {index}", "size": "1024x1024", "quality": "low",
                    "n": min(10, images - index)})
                services.job_run(job_id=job.pk)
        client = Client()
        client.force_login(user)
        # The grid pages by cursor: the last page is the one after the image a page and one from the end.
        before_last = Image.objects.order_by("-created_at", "-id")[max(0, images - GALLERY_PAGE_SIZE - 1)]
        rows = []
        for label, url in (("first page", "/gallery/"),
                           ("last page", f"/gallery/?after={encode_cursor(before_last, sort='newest')}")):
            times, queries = [], 0
            for _ in range(20):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - started)
                assert response.status_code == 200
                queries = len(captured)
            times.sort()
            rows.append((f"gallery {label}, {images} images: p50 / p95, queries",
                         f"{times[len(times) // 2] * 1000:.1f} / {times[int(len(times) * .95) - 1] * 1000:.1f} ms, "
                         f"{queries}"))
        return rows
