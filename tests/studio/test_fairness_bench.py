"""The fairness benchmark (``studio.fairness_bench``), run tiny so it cannot rot: both orders
run every job, and the numbers it reports are those of the jobs' rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from studio import fairness_bench
from studio.models import Job


@pytest.mark.django_db(transaction=True)
def test_a_tiny_run_measures_both_orders_and_every_job_succeeds() -> None:
    summaries = fairness_bench.run(burst=12, concurrency=3, latency=0.0, repeats=1)
    assert [summary.order for summary in summaries] == ["fair", "fifo"]
    for summary in summaries:
        [run] = summary.runs
        assert run.jobs == 13 and run.succeeded == 13
        assert 0 <= run.claim_wait_seconds <= run.wait_seconds and run.wall_seconds > 0
        assert run.claimed_before <= run.queued_ahead <= 12
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}
    assert Job.objects.count() == 26


@pytest.mark.django_db(transaction=True)
def test_in_fifo_order_the_whole_burst_goes_first_and_fairly_at_most_the_concurrency() -> None:
    fair, fifo = fairness_bench.run(burst=12, concurrency=3, latency=0.1, repeats=1)
    [fair_run], [fifo_run] = fair.runs, fifo.runs
    # Oldest first, every job of the burst still queued when B submitted is claimed before B's.
    assert fifo_run.claimed_before == fifo_run.queued_ahead
    assert fair_run.claimed_before <= 3


@pytest.mark.django_db
def test_the_fifo_order_is_oldest_first_and_skips_taken_and_cancelled_jobs(alice, bob) -> None:
    from studio import services

    def submit(user, prompt):
        return services.job_submit_generation(user=user, request={**fairness_bench.REQUEST, "prompt": prompt}).pk

    first, second, third = submit(alice, "a"), submit(alice, "b"), submit(bob, "c")
    cancelled = submit(bob, "d")
    services.job_cancel(job=Job.objects.get(pk=cancelled))
    assert fairness_bench.oldest_first(limit=5) == [first, second, third]
    assert fairness_bench.oldest_first(limit=5, taken={first}) == [second, third]
    assert fairness_bench.oldest_first(limit=1) == [first]
    assert fairness_bench.oldest_first(limit=0) == []


def test_the_table_gives_medians_each_run_and_the_bound() -> None:
    fair = [fairness_bench.Run("fair", claim_wait, wait, claimed, started, 150, 20.0, 201, 201)
            for claim_wait, wait, claimed, started in ((0.1, 0.4, 0, 2), (0.3, 0.6, 1, 5), (0.2, 0.5, 0, 3))]
    fifo = [fairness_bench.Run("fifo", 5.5, 6.0, 150, 148, 150, 21.0, 201, 201)]
    lines = fairness_bench.markdown([fairness_bench.Summary("fair", fair), fairness_bench.Summary("fifo", fifo)],
                                    burst=200, concurrency=50, latency=0.2)
    assert lines[0].startswith("| order (200-job burst, then one job; concurrency 50; calls of 0.30 s) "
                               "| single job's wait: claimed / started "
                               "| burst jobs claimed / started before it (bound 50) |")
    assert lines[2] == ("| round-robin (the studio) | 0.20 s / 0.50 s | 0 / 3 | 150 | 20.0 s "
                        "| 0.40 s, 2; 0.60 s, 5; 0.50 s, 3 | 201/201, 201/201, 201/201 |")
    assert lines[3] == ("| oldest first (FIFO, for comparison) | 5.50 s / 6.00 s | 150 / 148 | 150 | 21.0 s "
                        "| 6.00 s, 148 | 201/201 |")


@pytest.mark.parametrize("option", [["--fairness", "-1"], ["--fairness-concurrency", "0"],
                                    ["--fairness-repeats", "0"]])
def test_the_bench_refuses_a_bad_fairness_option_before_measuring(option) -> None:
    with pytest.raises(CommandError, match="--fairness"):
        call_command("bench", *option)
