"""Money: budgets reserved at submit, and what jobs cost, by month in ``STUDIO_BUDGET_TIMEZONE``.

The ledger is the jobs themselves. A job holds ``reserved_usd`` (its upper-end estimate) against
every budget that applies while it is queued or running; when it ends it counts at what the API
billed (``cost_usd``), or at nothing when nothing was billed; an attempt cut short whose cost is
unknown "may have been billed" and keeps counting at its reservation, never at $0.

A job whose model has no price in the book when it is submitted (``Job.price_unknown``) cannot be
reserved: it is refused wherever a budget applies (``PriceUnknownUnderBudget``), and runs where
none does, reserving nothing; its cost stays unknown (``cost_usd`` empty), so it counts $0 against a
budget added later, flagged by ``price_unknown`` for the spend pages."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from imageapi import pricing
from teams.models import Budget, Space

from .models import Job, PriceEntry
from .pricebook import prices_of

MONEY = DecimalField(max_digits=14, decimal_places=8)
ZERO = Value(Decimal(0), output_field=MONEY)
WARN_AT = Decimal("0.8")

ACTIVE = Q(status__in=Job.ACTIVE_STATUSES)
# Ended without a known cost, after a call may have gone out: a worker stopped mid-call, or the
# job was cancelled while running (and the answer never came back to say what it cost).
MAY_HAVE_BEEN_BILLED = (~ACTIVE & Q(cost_usd__isnull=True)
                        & (Q(interrupted__gt=0) | Q(status=Job.Status.CANCELLED, started_at__isnull=False)))
# What a job counts against budgets now.
CHARGE = Case(
    When(ACTIVE, then=Greatest(F("reserved_usd"), Coalesce(F("cost_usd"), ZERO), output_field=MONEY)),
    When(cost_usd__isnull=False, then=F("cost_usd")),
    When(MAY_HAVE_BEEN_BILLED, then=F("reserved_usd")),
    default=ZERO, output_field=MONEY,
)
# What a job has cost once it ended: billed, or may have been (its reservation); nothing while
# it runs, when it only holds its reservation (``HELD``).
SPENT = Case(When(ACTIVE, then=ZERO), default=CHARGE, output_field=MONEY)
HELD = Case(When(ACTIVE, then=CHARGE), default=ZERO, output_field=MONEY)
UNCERTAIN = Case(When(MAY_HAVE_BEEN_BILLED, then=F("reserved_usd")), default=ZERO, output_field=MONEY)
# Ended after the API billed it (it succeeded, or its usage came back), but its model had no price
# in the book when it was submitted: shown as "price unknown", never as $0.
PRICE_UNKNOWN = (~ACTIVE & Q(price_unknown=True, cost_usd__isnull=True)
                 & (Q(status=Job.Status.SUCCEEDED) | ~Q(usage={})))


def may_have_been_billed(job: Job) -> bool:
    """``MAY_HAVE_BEEN_BILLED`` for one job in hand (a card), without a query."""
    return (not job.is_active and job.cost_usd is None
            and (job.interrupted > 0 or (job.status == Job.Status.CANCELLED and job.started_at is not None)))


def price_unknown(job: Job) -> bool:
    """``PRICE_UNKNOWN`` for one job in hand."""
    return (not job.is_active and job.price_unknown and job.cost_usd is None
            and (job.status == Job.Status.SUCCEEDED or bool(job.usage)))


class BudgetRefused(Exception):
    """A job cannot be held against a budget that applies; the message says why (shown next to
    the form)."""


class PriceUnknownUnderBudget(BudgetRefused):
    """The job's model has no price now, so what it may cost cannot be held against a budget."""

    def __init__(self, *, budget: Budget, model: str) -> None:
        self.budget, self.model = budget, model
        super().__init__(f"{model} has no price in the price book today, so this job cannot be held against "
                         f"{_budget_words(budget)}. Ask staff to add its price, or choose another model.")


class BudgetExceeded(BudgetRefused):
    """A job does not fit a budget that applies: the message says how much is left and what
    the job would cost."""

    def __init__(self, *, budget: Budget, left: Decimal, cost: Decimal, month_ends: datetime) -> None:
        self.budget, self.left, self.cost = budget, left, cost
        whose = _budget_words(budget)
        if left <= 0:
            message = (f"{whose} of ${budget.monthly_usd:.2f} is used up this month; "
                       f"submits resume on {month_ends:%-d %B} or when it is raised. "
                       f"This job would cost up to ${_cents_up(cost)}.")
        else:
            message = (f"This job would cost up to ${_cents_up(cost)}, but {whose} has only "
                       f"${_cents_down(left)} left this month (of ${budget.monthly_usd:.2f}).")
        super().__init__(message)


def _budget_words(budget: Budget) -> str:
    if budget.scope == "member":
        return f"your budget in “{budget.space}”"
    if budget.scope == "team":
        return f"the budget of “{budget.space}”"
    return "your monthly budget"


def _cents_up(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding="ROUND_UP")


def _cents_down(amount: Decimal) -> Decimal:
    return max(Decimal(0), amount).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


# -- months ----------------------------------------------------------------------------------


def budget_zone() -> ZoneInfo:
    return ZoneInfo(settings.STUDIO_BUDGET_TIMEZONE)


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The calendar month (in ``STUDIO_BUDGET_TIMEZONE``) around ``now``: [start, end)."""
    local = (now or timezone.now()).astimezone(budget_zone())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


# -- budgets and what they have left ----------------------------------------------------------


def budgets_applying(*, user: Any, space: Space) -> QuerySet[Budget]:
    """The user's own budget, and for a team space the team's and the member's."""
    scope = Q(user=user, space__isnull=True)
    if space.is_team:
        scope |= Q(space=space, user__isnull=True) | Q(space=space, user=user)
    return Budget.objects.filter(scope).order_by("pk")


def _counts_against(budget: Budget) -> Q:
    """The jobs a budget caps."""
    if budget.scope == "member":
        return Q(space_id=budget.space_id, created_by_id=budget.user_id)
    if budget.scope == "team":
        return Q(space_id=budget.space_id)
    return Q(created_by_id=budget.user_id)


def _jobs_of(budget: Budget) -> QuerySet[Job]:
    return Job.objects.filter(_counts_against(budget))


def charged(jobs: QuerySet[Job]) -> Decimal:
    """What ``jobs`` count against budgets now (reserved while active, billed once ended)."""
    return jobs.aggregate(total=Coalesce(Sum(CHARGE), ZERO))["total"]


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    used: Decimal  # spent plus reserved this month

    @property
    def left(self) -> Decimal:
        return self.budget.monthly_usd - self.used

    @property
    def share(self) -> Decimal:
        if self.budget.monthly_usd <= 0:
            return Decimal(1)
        return self.used / self.budget.monthly_usd

    @property
    def warning(self) -> bool:
        return self.share >= WARN_AT

    @property
    def exhausted(self) -> bool:
        return self.left <= 0

    @property
    def label(self) -> str:
        return _budget_words(self.budget)


def budget_state(*, budget: Budget, now: datetime | None = None) -> BudgetState:
    start, end = month_bounds(now)
    return BudgetState(budget=budget, used=charged(_jobs_of(budget).filter(created_at__gte=start,
                                                                             created_at__lt=end)))


def budget_states(*, user: Any, space: Space | None = None) -> list[BudgetState]:
    """Every budget that applies to the user (in ``space``, or in any space they belong to),
    tightest (least left) first."""
    if space is not None:
        budgets = budgets_applying(user=user, space=space).select_related("space", "user")
    else:
        budgets = Budget.objects.filter(
            Q(user=user, space__isnull=True) | Q(user=user, space__memberships__user=user)
            | Q(user__isnull=True, space__memberships__user=user)
        ).distinct().select_related("space", "user")
    return sorted(budget_states_of(budgets), key=lambda state: state.left)


def budget_states_of(budgets: Iterable[Budget], *, now: datetime | None = None) -> list[BudgetState]:
    """``budget_state`` of each budget, read in one query however many there are (the header
    shows them on every page)."""
    budgets = list(budgets)
    if not budgets:
        return []
    start, end = month_bounds(now)
    scopes = [_counts_against(budget) for budget in budgets]
    jobs = Job.objects.filter(created_at__gte=start, created_at__lt=end).filter(reduce(operator.or_, scopes))
    used = jobs.aggregate(**{f"budget_{index}": Coalesce(Sum(CHARGE, filter=scope), ZERO)
                             for index, scope in enumerate(scopes)})
    return [BudgetState(budget=budget, used=used[f"budget_{index}"]) for index, budget in enumerate(budgets)]


def user_spend_this_month(*, user: Any) -> Decimal:
    """What the user's jobs of this month have cost (billed, or may have been), reservations apart."""
    start, end = month_bounds()
    jobs = Job.objects.filter(created_by=user, created_at__gte=start, created_at__lt=end).exclude(ACTIVE)
    return charged(jobs)


# -- reserving at submit ----------------------------------------------------------------------


def job_reservation(*, request: dict[str, Any], entry: PriceEntry | None,
                    input_images: Sequence[tuple[int, int]] = ()) -> Decimal | None:
    """The most a job with these API parameters may cost at ``entry``'s rates (``auto`` at the
    upper end); ``None`` without an entry (price unknown)."""
    if entry is None:
        return None
    return pricing.reservation_usd(
        model=request["model"], prices=prices_of(entry), size=str(request.get("size") or "auto"),
        quality=str(request.get("quality") or "auto"), n=int(request.get("n") or 1),
        partial_images=int(request.get("partial_images") or 0),
        prompt=str(request.get("prompt") or ""), input_images=tuple(input_images),
    )


def budget_reserve(*, user: Any, space: Space, amount: Decimal | None, model: str = "") -> None:
    """Inside the submit's transaction, before the job row is written: lock every budget that
    applies (row locks on PostgreSQL; SQLite's transactions are immediate, so the writer holds
    the whole database) and raise ``BudgetExceeded`` if ``amount`` does not fit one of them, or
    ``PriceUnknownUnderBudget`` if ``amount`` is unknown (``None``: ``model`` has no price) and
    any applies. The job saved in the same transaction with ``reserved_usd=amount`` is the
    reservation."""
    # Locked in primary-key order, so that two submits never wait on each other crosswise; the
    # locking query has no join (PostgreSQL refuses FOR UPDATE beside an outer join).
    budgets = list(budgets_applying(user=user, space=space).select_for_update())
    _, month_end = month_bounds()
    if amount is None and budgets:
        raise PriceUnknownUnderBudget(budget=budgets[0], model=model)
    for budget in budgets:
        state = budget_state(budget=budget)
        if amount is not None and amount > state.left:
            raise BudgetExceeded(budget=budget, left=state.left, cost=amount, month_ends=month_end)
