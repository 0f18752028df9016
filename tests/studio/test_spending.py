"""Budgets: what a job reserves at submit, what it counts once it ended, months, refusals."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from imageapi import pricing
from studio import pricebook, services, spending
from studio.models import Job
from studio.spending import BudgetExceeded
from teams.models import Budget
from teams.services import budget_set, personal_space

pytestmark = pytest.mark.django_db

REQUEST = {"model": "gpt-image-2", "prompt": "a lighthouse", "n": 1, "size": "1024x1024", "quality": "high"}


def _submit(user, space=None, **params):
    return services.job_submit_generation(user=user, space=space, request={**REQUEST, **params})


def _reservation(**params):
    return spending.job_reservation(request={**REQUEST, **params}, entry=pricebook.price_entry_for(model="gpt-image-2"))


# -- the estimate reserved ------------------------------------------------------------------


def test_auto_quality_and_size_reserve_the_upper_end_of_their_range():
    high = _reservation(quality="high", size="1536x1024")
    assert _reservation(quality="auto", size="auto") == max(
        _reservation(quality=quality, size=size) for quality in ("low", "medium", "high")
        for size in ("1024x1024", "1536x1024", "1024x1536"))
    assert _reservation(quality="auto", size="auto") >= high
    assert _reservation(quality="auto") > _reservation(quality="medium") > _reservation(quality="low")


def test_the_reservation_covers_what_the_emulated_call_bills(alice):
    job = _submit(alice, quality="high", size="1536x1024")
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    assert Decimal(0) < job.cost_usd <= job.reserved_usd
    assert spending.charged(Job.objects.filter(pk=job.pk)) == job.cost_usd


def test_a_reservation_counts_n_images_and_input_images():
    one = _reservation()
    assert _reservation(n=3) > 2 * one
    entry = pricebook.price_entry_for(model="gpt-image-2")
    with_input = spending.job_reservation(request=REQUEST, entry=entry, input_images=[(1024, 1024)])
    assert with_input - one == pricing.cost_usd(pricing.Usage(image_input=pricing.estimate_input_image_tokens(
        1024, 1024)), prices=pricebook.prices_of(entry))


# -- what a job counts: reserved, then settled ----------------------------------------------------


def _charged(user):
    return spending.charged(Job.objects.filter(created_by=user))


def test_a_job_holds_its_reservation_until_it_ends_then_counts_what_was_billed(alice):
    job = _submit(alice)
    assert job.reserved_usd == _reservation() > 0
    assert _charged(alice) == job.reserved_usd
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    assert _charged(alice) == job.reserved_usd
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, cost_usd=Decimal("0.004"))
    assert _charged(alice) == Decimal("0.004")


def test_a_failed_job_costs_what_was_billed_and_nothing_when_nothing_was(alice):
    billed, refused = _submit(alice, prompt="billed"), _submit(alice, prompt="refused")
    Job.objects.filter(pk=billed.pk).update(status=Job.Status.FAILED, cost_usd=Decimal("0.01"))
    Job.objects.filter(pk=refused.pk).update(status=Job.Status.FAILED, started_at=timezone.now(),
                                             error_code="moderation_blocked")
    assert _charged(alice) == Decimal("0.01")


def test_a_cut_short_call_of_unknown_cost_may_have_been_billed_and_is_never_counted_as_zero(alice):
    interrupted, cancelled = _submit(alice, prompt="one"), _submit(alice, prompt="two")
    Job.objects.filter(pk=interrupted.pk).update(status=Job.Status.FAILED, interrupted=3, error_code="interrupted")
    Job.objects.filter(pk=cancelled.pk).update(status=Job.Status.CANCELLED, started_at=timezone.now())
    assert _charged(alice) == interrupted.reserved_usd + cancelled.reserved_usd
    flagged = Job.objects.filter(spending.MAY_HAVE_BEEN_BILLED)
    assert set(flagged) == {interrupted, cancelled}


def test_a_job_cancelled_in_the_queue_releases_its_reservation(alice):
    job = _submit(alice)
    services.job_cancel(job=job)
    assert _charged(alice) == 0


def test_a_recovered_job_keeps_its_reservation(alice):
    job = _submit(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, lease_owner="gone", started_at=timezone.now(),
                                         lease_expires_at=timezone.now() - timezone.timedelta(seconds=5))
    recovered = services.jobs_recover(enqueue=lambda pk: None)
    assert recovered.job_ids == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.interrupted == 1
    assert _charged(alice) == job.reserved_usd
    budget_set(user=alice, usd=job.reserved_usd)
    with pytest.raises(BudgetExceeded):
        _submit(alice, prompt="one more")


# -- refusing at submit ---------------------------------------------------------------------


def test_a_job_that_does_not_fit_is_refused_with_what_is_left_and_what_it_would_cost(alice):
    amount = _reservation()
    budget_set(user=alice, usd=Decimal("1.00"))
    Job.objects.create(created_by=alice, space=personal_space(user=alice), model="gpt-image-2", prompt="x",
                       status=Job.Status.SUCCEEDED, cost_usd=Decimal("0.999"))
    with pytest.raises(BudgetExceeded) as refused:
        _submit(alice)
    assert str(refused.value) == (f"This job would cost up to ${amount.quantize(Decimal('0.01'), 'ROUND_UP')}, "
                                  "but your monthly budget has only $0.00 left this month (of $1.00).")
    assert Job.objects.filter(prompt="a lighthouse").count() == 0


def test_a_used_up_budget_says_when_submits_resume(alice):
    budget_set(user=alice, usd=Decimal("0"))
    with pytest.raises(BudgetExceeded, match=r"is used up this month; submits resume on 1 \w+ or when it is raised"):
        _submit(alice)


def test_team_member_and_user_budgets_all_apply(alice, bob, team):
    amount = _reservation().quantize(Decimal("0.01"), "ROUND_UP")
    budget_set(space=team, usd=amount * 2)
    _submit(alice, space=team)
    _submit(alice, space=team, prompt="two")
    with pytest.raises(BudgetExceeded, match="the budget of “Harbour Studio”"):
        _submit(alice, space=team, prompt="three")
    _submit(alice, prompt="personal space is not the team's")  # not the team's budget
    budget_set(space=team, usd=None)
    budget_set(space=team, user=alice, usd=amount * 3)
    _submit(alice, space=team, prompt="three")
    with pytest.raises(BudgetExceeded, match="your budget in “Harbour Studio”"):
        _submit(alice, space=team, prompt="four")
    budget_set(user=alice, usd=amount * 4)
    with pytest.raises(BudgetExceeded, match="your monthly budget"):
        _submit(alice, prompt="five, in any space")


def test_budget_set_rules(alice, bob, team, bob_team):
    with pytest.raises(ValidationError):
        budget_set(space=personal_space(user=alice), usd=Decimal(5))
    with pytest.raises(ValidationError):
        budget_set(space=bob_team, user=alice, usd=Decimal(5))
    with pytest.raises(ValidationError):
        budget_set(user=alice, usd=Decimal(-1))
    budget_set(user=alice, usd=Decimal(5))
    budget_set(user=alice, usd=Decimal(7))
    assert Budget.objects.get(user=alice, space=None).monthly_usd == 7
    budget_set(user=alice, usd=None)
    assert not Budget.objects.exists()


def test_the_studio_form_shows_the_refusal_beside_it_and_nothing_is_queued(alice_client, alice):
    budget_set(user=alice, usd=Decimal("0.01"))
    response = alice_client.post(reverse("studio:generate"), {
        "prompt": "a lighthouse", "size": "1024x1024", "quality": "high", "n": 1, "output_format": "png",
        "background": "auto", "moderation": "auto"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "This job would cost up to $" in body and "has only $0.01 left this month (of $0.01)" in body
    assert not Job.objects.exists()


# -- months in the configured time zone -------------------------------------------------------


def test_a_month_is_a_calendar_month_in_the_budget_time_zone(settings, alice):
    settings.STUDIO_BUDGET_TIMEZONE = "Pacific/Auckland"  # UTC+13 in January
    start, end = spending.month_bounds(datetime(2026, 1, 31, 12, 0, tzinfo=UTC))  # 1 Feb 01:00 in Auckland
    assert (start.month, start.day, end.month) == (2, 1, 3)
    assert start.astimezone(UTC) == datetime(2026, 1, 31, 11, 0, tzinfo=UTC)
    settings.STUDIO_BUDGET_TIMEZONE = "UTC"
    start, end = spending.month_bounds(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_last_months_spend_does_not_count_against_this_month(settings, alice, monkeypatch):
    settings.STUDIO_BUDGET_TIMEZONE = "America/New_York"
    now = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)  # 00:30 on 1 March in New York
    monkeypatch.setattr(timezone, "now", lambda: now)
    space = personal_space(user=alice)
    budget = budget_set(user=alice, usd=Decimal("1.00"))
    Job.objects.create(created_by=alice, space=space, model="gpt-image-2", prompt="February, in New York",
                       status=Job.Status.SUCCEEDED, cost_usd=Decimal("0.90"),
                       created_at=datetime(2026, 3, 1, 4, 59, tzinfo=UTC))
    Job.objects.create(created_by=alice, space=space, model="gpt-image-2", prompt="March",
                       status=Job.Status.SUCCEEDED, cost_usd=Decimal("0.25"),
                       created_at=datetime(2026, 3, 1, 5, 1, tzinfo=UTC))
    assert spending.budget_state(budget=budget).used == Decimal("0.25")
    assert spending.budget_state(budget=budget, now=datetime(2026, 2, 15, tzinfo=UTC)).used == Decimal("0.90")
