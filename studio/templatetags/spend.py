"""Money in templates: amounts in USD, what a job's card says it cost, the header's spend figure
and the budget notice beside the studio's forms."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.http import HttpRequest

from teams.permissions import writable_space_ids

from .. import spending
from ..models import Job

register = template.Library()


@register.filter
def usd(amount: Decimal | None) -> str:
    """$12.35 from a dollar up; below, up to four decimals, so that a job's $0.006 is not $0.01."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    if abs(amount) >= 1 or amount == 0:
        return f"${amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    text = f"{amount.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


@register.filter
def cost_state(job: Job) -> str:
    """What a job's cost is: ``billed`` (known), ``reserved`` (still running), ``price_unknown``,
    ``may_have_been_billed`` or ``nothing_billed``."""
    if job.cost_usd is not None:
        return "billed"
    if job.is_active:
        return "price_unknown" if job.price_unknown else "reserved"
    if spending.price_unknown(job):
        return "price_unknown"
    if spending.may_have_been_billed(job):
        return "may_have_been_billed"
    return "nothing_billed"


@register.filter
def percent(state: spending.BudgetState) -> int:
    """How much of a budget is used, in whole percent (rounded down: 79.9% is not yet 80%)."""
    return int(state.share * 100)


def _states(request: HttpRequest | None, user: Any) -> list[spending.BudgetState]:
    """The budgets that concern the user (their own, and those of spaces they generate into),
    tightest first; read once per request however many places show them."""
    cached = getattr(request, "_budget_states", None) if request is not None else None
    if cached is not None:
        return cached
    states = spending.budget_states(user=user)
    if any(state.budget.space_id for state in states):
        writable = set(writable_space_ids(user).values_list("pk", flat=True))
        states = [state for state in states if state.budget.space_id is None or state.budget.space_id in writable]
    if request is not None:
        request._budget_states = states
    return states


@register.inclusion_tag("studio/_spend_header.html", takes_context=True)
def spend_header(context: template.Context) -> dict[str, Any]:
    request, user = context.get("request"), context.get("user")
    if user is None or not user.is_authenticated:
        return {"show": False}
    states = _states(request, user)
    tightest = states[0] if states else None
    return {"show": True, "spent": spending.user_spend_this_month(user=user), "tightest": tightest,
            "left": max(Decimal(0), tightest.left) if tightest else None}


@register.inclusion_tag("studio/_budget_notice.html", takes_context=True)
def budget_notice(context: template.Context) -> dict[str, Any]:
    request, user = context.get("request"), context.get("user")
    if user is None or not user.is_authenticated:
        return {"states": []}
    _, month_end = spending.month_bounds()
    return {"states": [state for state in _states(request, user) if state.warning],
            "resumes_on": month_end.date()}
