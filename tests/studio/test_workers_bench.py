"""The several-workers benchmark (``studio.workers_bench``), run tiny so it cannot rot: its
worker processes run every job once against its own upstream, which counts the calls."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from studio import workers_bench
from studio.models import Job


@pytest.mark.django_db(transaction=True)
def test_a_tiny_run_counts_every_job_once_at_the_upstream_and_in_the_rows(tmp_path) -> None:
    result = workers_bench.run(workers=2, jobs=8, concurrency=3, seconds=0.05, log_dir=tmp_path)
    assert result.returncodes == [0, 0]
    assert result.statuses == Counter({Job.Status.SUCCEEDED: 8})
    assert result.runs == Counter({(1, 1): 8}) and result.images == Counter({1: 8})
    assert result.upstream_calls == 8
    assert result.tasks == 8 and result.claims == Counter({1: 8})
    assert sum(result.per_worker.values()) == 8 and set(result.per_worker) == {"worker-0", "worker-1"}
    assert result.exactly_once


def _result(**changes) -> workers_bench.Result:
    fields = dict(workers=4, jobs=1000, concurrency=50, seconds=80.0, returncodes=[0, 0, 0, 0],
                  statuses=Counter({"succeeded": 1000}), runs=Counter({(1, 1): 1000}), images=Counter({1: 1000}),
                  upstream_calls=1000, claims=Counter({1: 1000}), tasks=1000,
                  per_worker=Counter({"worker-0": 240, "worker-1": 260, "worker-2": 250, "worker-3": 250}))
    return workers_bench.Result(**{**fields, **changes})


def test_a_job_run_twice_or_a_call_too_many_is_not_exactly_once() -> None:
    assert _result().exactly_once
    assert not _result(runs=Counter({(1, 1): 999, (2, 2): 1})).exactly_once
    assert not _result(upstream_calls=1001).exactly_once
    assert not _result(claims=Counter({1: 999, 2: 1})).exactly_once
    assert not _result(statuses=Counter({"succeeded": 999, "failed": 1})).exactly_once
    assert not _result(images=Counter({1: 999, 2: 1})).exactly_once
    assert not _result(returncodes=[0, 0, 0, None]).exactly_once


def test_the_table_names_the_load_and_every_count() -> None:
    lines = workers_bench.markdown([_result()], seconds=0.1)
    assert lines[0].startswith("| workers × jobs (calls of 0.1 s) | wall time | jobs/s | job status |")
    assert lines[2] == ("| 4 × 1,000 (concurrency 50 each) | 80.0 s | 12.5 | 1,000 × succeeded | 1,000 × 1, 1 "
                        "| 1,000 × 1 | 1,000 | 1,000 × 1 | 240 / 260 / 250 / 250 | yes |")


@pytest.mark.parametrize("option", [["--workers", "-1"], ["--workers-jobs", "0"], ["--workers-concurrency", "0"]])
def test_the_bench_refuses_a_bad_workers_option_before_measuring(option) -> None:
    with pytest.raises(CommandError, match="--workers"):
        call_command("bench", *option)
