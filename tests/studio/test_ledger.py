"""Where the money went: totals by member, model, quality, size, day and month (in the budget
time zone), the most expensive images, the CSV ledger and the chart's geometry."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from studio import ledger, spending
from studio.charts import bar_chart, nice_ceiling
from studio.models import Job
from tests.factories import ImageFactory, JobFactory

pytestmark = pytest.mark.django_db


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _job(user, *, cost: str | None = "0.01", reserved: str = "0.02", when: datetime | None = None, **fields):
    fields.setdefault("created_at", when or _at(2026, 3, 10, 12))
    return JobFactory(created_by=user, cost_usd=None if cost is None else Decimal(cost),
                      reserved_usd=Decimal(reserved), **fields)


MARCH = ledger.Period.days(date(2026, 3, 1), date(2026, 3, 31))


# -- totals -------------------------------------------------------------------------------------


def test_totals_count_billed_uncertain_and_held_apart_and_never_price_unknown_as_zero(alice):
    _job(alice, cost="0.10")
    _job(alice, cost="0.05", status=Job.Status.FAILED)
    _job(alice, cost=None, reserved="0.30", status=Job.Status.FAILED, interrupted=1)  # may have been billed
    _job(alice, cost=None, reserved="0.40", status=Job.Status.FAILED)  # refused: nothing billed
    _job(alice, cost=None, reserved="0.50", status=Job.Status.RUNNING)  # holds its reservation
    _job(alice, cost=None, reserved="0.60", status=Job.Status.SUCCEEDED, price_unknown=True)

    totals = ledger.spend_totals(MARCH.jobs(Job.objects.filter(created_by=alice)))

    assert totals.jobs == 6
    assert totals.billed == Decimal("0.15")
    assert totals.uncertain == Decimal("0.30") and totals.uncertain_jobs == 1
    assert totals.spent == Decimal("0.45")
    assert totals.held == Decimal("0.50")
    assert totals.price_unknown_jobs == 1
    assert totals.estimated == Decimal("1.84")  # 0.02 + 0.02 + 0.30 + 0.40 + 0.50 + 0.60


def test_spend_by_member_model_quality_and_size(north):
    _job(north.owner, cost="0.30", model="gpt-image-1", space=north.space)
    _job(north.owner, cost="0.20", space=north.space, request={"model": "gpt-image-2", "prompt": "x",
                                                               "size": "1536x1024", "quality": "high"})
    _job(north.editor, cost="0.05", space=north.space)
    jobs = Job.objects.filter(space=north.space)

    by_member = {row.label: row.totals.spent for row in ledger.spend_by(jobs, "member")}
    assert by_member == {"owen": Decimal("0.50"), "edith": Decimal("0.05")}
    assert [row.label for row in ledger.spend_by(jobs, "member")] == ["owen", "edith"]  # the most first
    by_model = {row.label: (row.totals.jobs, row.totals.spent) for row in ledger.spend_by(jobs, "model")}
    assert by_model == {"gpt-image-1": (1, Decimal("0.30")), "gpt-image-2": (2, Decimal("0.25"))}
    assert {row.label: row.totals.spent for row in ledger.spend_by(jobs, "quality")} == {
        "low": Decimal("0.35"), "high": Decimal("0.20")}
    assert {row.label: row.totals.spent for row in ledger.spend_by(jobs, "size")} == {
        "1024x1024": Decimal("0.35"), "1536x1024": Decimal("0.20")}


def test_spend_over_time_lists_every_day_of_the_period_with_zeros(alice):
    _job(alice, cost="0.10", when=_at(2026, 3, 2, 9))
    _job(alice, cost="0.20", when=_at(2026, 3, 2, 21))
    _job(alice, cost="0.40", when=_at(2026, 3, 31, 23, 59))
    _job(alice, cost="9.00", when=_at(2026, 4, 1, 0, 0))  # the next month

    rows = ledger.spend_over_time(Job.objects.all(), MARCH)

    assert [row.key for row in rows] == [date(2026, 3, day) for day in range(1, 32)]
    spent = {row.key.day: row.totals.spent for row in rows if row.totals.jobs}
    assert spent == {2: Decimal("0.30"), 31: Decimal("0.40")}


def test_days_and_months_follow_the_budget_time_zone(settings, alice):
    settings.STUDIO_BUDGET_TIMEZONE = "America/New_York"
    # 03:00 UTC on 1 March is still 28 February, 22:00, in New York.
    _job(alice, cost="0.70", when=_at(2026, 3, 1, 3))
    _job(alice, cost="0.20", when=_at(2026, 3, 1, 6))  # 01:00 on 1 March in New York

    february, march = ledger.Period.month_of(date(2026, 2, 1)), ledger.Period.month_of(date(2026, 3, 1))
    assert ledger.spend_totals(february.jobs(Job.objects.all())).spent == Decimal("0.70")
    assert ledger.spend_totals(march.jobs(Job.objects.all())).spent == Decimal("0.20")
    days = {row.key: row.totals.spent for row in ledger.spend_over_time(Job.objects.all(), february) if row.totals.jobs}
    assert days == {date(2026, 2, 28): Decimal("0.70")}
    months = {row.key: row.totals.spent for row in ledger.spend_by_month(Job.objects.all())}
    assert months == {date(2026, 2, 1): Decimal("0.70"), date(2026, 3, 1): Decimal("0.20")}


def test_a_long_period_is_charted_by_month(alice):
    _job(alice, cost="0.10", when=_at(2026, 1, 15))
    _job(alice, cost="0.30", when=_at(2026, 3, 15))
    quarter = ledger.Period.days(date(2026, 1, 1), date(2026, 3, 31))
    assert quarter.by_month and not quarter.is_month
    rows = ledger.spend_over_time(Job.objects.all(), quarter)
    assert [(row.key, row.totals.spent) for row in rows] == [
        (date(2026, 1, 1), Decimal("0.10")), (date(2026, 2, 1), Decimal(0)), (date(2026, 3, 1), Decimal("0.30"))]


def test_the_most_expensive_images_first_each_said_visible_or_not(alice, bob, team):
    cheap = ImageFactory(created_by=alice, cost_usd=Decimal("0.01"), job__created_at=_at(2026, 3, 5))
    dear = ImageFactory(created_by=alice, cost_usd=Decimal("0.50"), job__created_at=_at(2026, 3, 5))
    bobs = ImageFactory(created_by=bob, cost_usd=Decimal("0.90"), job__created_at=_at(2026, 3, 5))

    top = ledger.most_expensive_images(MARCH.jobs(Job.objects.all()), user=alice)

    assert [(costly.image, costly.visible) for costly in top] == [(bobs, False), (dear, True), (cheap, True)]


def test_the_queries_do_not_grow_with_the_jobs(alice, django_assert_max_num_queries):
    for index in range(30):
        _job(alice, cost="0.01", when=_at(2026, 3, 1 + index % 28))
    jobs = MARCH.jobs(Job.objects.all())
    with django_assert_max_num_queries(1):
        ledger.spend_by(jobs, "member")
    with django_assert_max_num_queries(1):
        ledger.spend_over_time(jobs, MARCH)


# -- the CSV ledger -------------------------------------------------------------------------------


def _csv(jobs) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(ledger.ledger_csv(jobs)))))


def test_the_csv_has_one_row_per_job_with_estimate_actual_and_flags(alice, team):
    billed = _job(alice, cost="0.0123", reserved="0.05", request_id="req_123",
                  usage={"input_tokens": 20, "output_tokens": 272, "total_tokens": 292})
    lost = _job(alice, cost=None, reserved="0.25", status=Job.Status.CANCELLED, space=team,
                started_at=_at(2026, 3, 10, 12), error_code="")
    unknown = _job(alice, cost=None, reserved="0.07", status=Job.Status.SUCCEEDED, price_unknown=True)

    rows = {int(row["job"]): row for row in _csv(Job.objects.all())}

    assert set(rows) == {billed.pk, lost.pk, unknown.pk}
    row = rows[billed.pk]
    assert row["user"] == "alice" and row["space"] == "Personal" and row["model"] == "gpt-image-2"
    assert (row["size"], row["quality"], row["n"]) == ("1024x1024", "low", "1")
    assert row["estimate_usd"] == "0.05000000" and row["actual_usd"] == "0.01230000"
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == ("20", "272", "292")
    assert row["status"] == "succeeded" and row["request_id"] == "req_123"
    assert row["may_have_been_billed"] == "no" and row["price_unknown"] == "no"
    assert '"output_format":"png"' in row["parameters"] and "prompt" not in row["parameters"]
    assert row["created_at"].startswith("2026-03-10T12:00:00")
    assert rows[lost.pk]["space"] == "Harbour Studio"
    assert rows[lost.pk]["actual_usd"] == "" and rows[lost.pk]["may_have_been_billed"] == "yes"
    assert rows[unknown.pk]["actual_usd"] == "" and rows[unknown.pk]["price_unknown"] == "yes"


@pytest.mark.parametrize("prompt", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(alice, prompt):
    _job(alice, prompt=prompt, request_id="=evil")
    row = _csv(Job.objects.all())[0]
    assert row["prompt"] == f"'{prompt}"
    assert row["request_id"] == "'=evil"


def test_csv_safe_leaves_other_text_alone():
    assert ledger.csv_safe("a quiet harbour") == "a quiet harbour"
    assert ledger.csv_safe(None) == ""
    assert ledger.csv_safe(Decimal("0.5")) == "0.5"


def test_the_csv_is_read_in_chunks(alice, monkeypatch):
    for _ in range(5):
        _job(alice)
    monkeypatch.setattr(ledger, "CSV_CHUNK", 2)
    assert len(_csv(Job.objects.all())) == 5


# -- the chart ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "ceiling"), [
    ("0", "1"), ("0.003", "0.005"), ("0.12", "0.2"), ("2.2", "2.5"), ("7", "10"), ("10", "10"), ("31", "50")])
def test_the_chart_tops_out_at_a_round_figure(value, ceiling):
    assert nice_ceiling(Decimal(value)) == Decimal(ceiling)


def test_bars_are_as_tall_as_their_share_of_the_top():
    chart = bar_chart([("1 Mar", Decimal("1")), ("2 Mar", Decimal("0")), ("3 Mar", Decimal("2"))])
    assert chart.top == Decimal(2) and chart.width == 30
    assert [bar.height for bar in chart.bars] == [50.0, 0.0, 100.0]
    assert [bar.y for bar in chart.bars] == [50.0, 100.0, 0.0]
    assert chart.axis == ["1 Mar", "2 Mar", "3 Mar"] and not chart.empty
    assert bar_chart([("1 Mar", Decimal(0))]).empty


def test_may_have_been_billed_in_hand_agrees_with_the_query(alice):
    _job(alice, cost=None, status=Job.Status.FAILED, interrupted=1)
    _job(alice, cost=None, status=Job.Status.CANCELLED, started_at=_at(2026, 3, 10))
    _job(alice, cost=None, status=Job.Status.CANCELLED)
    _job(alice, cost="0.01", status=Job.Status.FAILED, interrupted=1)
    _job(alice, cost=None, status=Job.Status.RUNNING, interrupted=1)
    flagged = set(Job.objects.filter(spending.MAY_HAVE_BEEN_BILLED).values_list("pk", flat=True))
    assert len(flagged) == 2
    assert {job.pk for job in Job.objects.all() if spending.may_have_been_billed(job)} == flagged


def test_a_job_billed_at_no_known_price_is_flagged_with_no_estimate(alice):
    """A model without a price in the book: nothing reserved, nothing known billed."""
    ran = _job(alice, cost=None, reserved="0", price_unknown=True, status=Job.Status.FAILED,
               usage={"input_tokens": 10, "output_tokens": 200, "total_tokens": 210})
    refused = _job(alice, cost=None, reserved="0", price_unknown=True, status=Job.Status.FAILED)

    rows = {int(row["job"]): row for row in _csv(Job.objects.all())}

    assert rows[ran.pk]["price_unknown"] == "yes" and rows[ran.pk]["estimate_usd"] == ""
    assert rows[refused.pk]["price_unknown"] == "no" and rows[refused.pk]["actual_usd"] == ""
    assert ledger.spend_totals(Job.objects.all()).price_unknown_jobs == 1
    assert spending.price_unknown(ran) and not spending.price_unknown(refused)
    assert rows[ran.pk]["total_tokens"] == "210"
