"""The in-flight benchmark's own parts (``studio.benchmarks``): its upstream starts in its
own process, counts what it serves, and the table says what was measured."""

from __future__ import annotations

import pytest

from studio import benchmarks, pickup_bench


def test_the_client_run_serves_every_call_through_its_own_upstream() -> None:
    result = benchmarks.client_run(12, seconds=1.5)
    assert result.mode == "client" and result.calls == 12
    assert result.outcomes == "12 ok"
    assert 1 <= result.peak_in_flight <= 12
    assert result.cpu_seconds > 0 and result.upstream_cpu_seconds > 0  # both drew or read 12 pictures


def test_the_table_names_the_load_and_every_measure() -> None:
    lines = benchmarks.markdown([
        benchmarks.Result("client", 1000, 1000, 31.5, outcomes="1000 ok"),
        benchmarks.Result("worker", 1000, 998, 44.0, peak_rss_mib=612.4, outcomes="1000 succeeded",
                          peak_db_connections=12, cpu_seconds=81.25, upstream_cpu_seconds=12.0),
    ], seconds=30)
    assert lines[0].startswith("| load (30-second calls) | peak calls in flight at the upstream |")
    assert lines[2] == ("| 1,000 calls, one ImagesClient, one thread per call | 1,000 | 31.5 s | — | — | — / — "
                        "| 1000 ok |")
    assert lines[3] == ("| 1,000 calls, manage.py worker --batch | 998 | 44.0 s | 612 MiB | 12 | 81.2 s / 12.0 s "
                        "| 1000 succeeded |")


@pytest.mark.django_db(transaction=True)
def test_the_pick_up_bench_times_each_job_from_its_rows() -> None:
    result = pickup_bench.run(jobs=3)
    assert result.jobs == 2 and len(result.to_running_ms) == len(result.to_stored_ms) == 2
    assert all(0 <= running <= stored for running, stored in zip(result.to_running_ms, result.to_stored_ms,
                                                                 strict=True))
    names = [name for name, _ in pickup_bench.rows(result)]
    assert names[0].startswith("pick-up: submit → running, p50 of 2")
    assert names[1] == "submit → image stored, zero-latency emulator, p50 / p95 of 2"


def test_the_worker_log_s_exceptions_are_found_in_plain_and_json_lines() -> None:
    log = "\n".join([
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "django.db.utils.OperationalError: database is locked",
        '{"level": "ERROR", "message": "job 7 failed unexpectedly", "exc_info": "Traceback (most recent call '
        'last):\\n  File \\"y.py\\", line 2\\nhttpx.PoolTimeout: timed out"}',
        '{"level": "INFO", "message": "job 8 succeeded"}',
    ])
    assert list(benchmarks._exceptions(log)) == ["django.db.utils.OperationalError: database is locked",
                                                 "httpx.PoolTimeout: timed out"]
