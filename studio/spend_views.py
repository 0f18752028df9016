"""The spend pages and the CSV ledger: one's own, a team's (its owners), everything (staff).
Who may see what is ``permissions.spend_scope``; every figure is a read in ``ledger``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from teams.models import Budget, Space
from teams.permissions import manageable_space_ids

from . import ledger, spending
from .charts import bar_chart
from .permissions import SpendScope, spend_scope
from .spend_forms import SpendFilterForm

LEDGER_PAGE = 50


def _filter_form(request: HttpRequest, scope: SpendScope) -> SpendFilterForm:
    jobs = scope.jobs
    spaces = None
    if scope.kind != "team":
        spaces = list(Space.objects.filter(pk__in=jobs.order_by().values("space_id")).order_by("kind", "name")
                      .values_list("pk", "name"))
    return SpendFilterForm(request.GET or None,
                           members=ledger.distinct_values(jobs, "created_by__username") if scope.by_member else None,
                           models=ledger.distinct_values(jobs, "model"), spaces=spaces)


def _spend_page(request: HttpRequest, scope: SpendScope) -> HttpResponse:
    form = _filter_form(request, scope)
    period = form.period()
    jobs = ledger.filter_jobs(scope.jobs, **form.filters())
    in_period = period.jobs(jobs)
    over_time = ledger.spend_over_time(jobs, period)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "scope": scope,
        "form": form,
        "period": period,
        "query": query.urlencode(),
        "totals": ledger.spend_totals(in_period),
        "over_time": over_time,
        "chart": bar_chart([(row.label, row.totals.spent) for row in over_time]),
        "by_month": ledger.spend_by_month(in_period),
        "groups": [(title, ledger.spend_by(in_period, group)) for title, group in _groups(scope)],
        "top_images": ledger.most_expensive_images(in_period, user=request.user),
        "page": Paginator(ledger.ledger(in_period), LEDGER_PAGE).get_page(request.GET.get("page")),
        "owned_teams": Space.objects.filter(pk__in=manageable_space_ids(request.user), kind=Space.Kind.TEAM),
        "budgets": _budgets(request, scope),
    }
    return render(request, "studio/spend.html", context)


def _budgets(request: HttpRequest, scope: SpendScope) -> list[spending.BudgetState]:
    """This month's budgets the page is about: the viewer's own, or the team's and its members'
    (staff find every budget in the admin)."""
    if scope.kind == "mine":
        return spending.budget_states(user=request.user)
    if scope.kind == "team":
        budgets = Budget.objects.filter(space=scope.team).select_related("space", "user")
        return sorted(spending.budget_states_of(budgets), key=lambda state: state.left)
    return []


def _groups(scope: SpendScope) -> list[tuple[str, str]]:
    groups = [("By member", "member")] if scope.by_member else []
    if scope.kind != "team":
        groups.append(("By space", "space"))
    return [*groups, ("By model", "model"), ("By quality", "quality"), ("By size", "size")]


def _csv(request: HttpRequest, scope: SpendScope) -> HttpResponse:
    form = _filter_form(request, scope)
    if form.is_bound and not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponse(f"Invalid filters: {errors}", status=400, content_type="text/plain; charset=utf-8")
    period = form.period()
    jobs = period.jobs(ledger.filter_jobs(scope.jobs, **form.filters()))
    # Names stay ASCII whoever asks (a header is Latin-1): the scope, never a username.
    whose = f"team-{scope.team.pk}" if scope.team else scope.kind
    response = StreamingHttpResponse(ledger.ledger_csv(jobs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="spend-{whose}-{period.first_day:%Y%m%d}-'
                                       f'{period.last_day:%Y%m%d}.csv"')
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def spend(request: HttpRequest) -> HttpResponse:
    return _spend_page(request, spend_scope(request.user))


@require_GET
def spend_team(request: HttpRequest, pk: int) -> HttpResponse:
    return _spend_page(request, spend_scope(request.user, team_pk=pk))


@require_GET
def spend_all(request: HttpRequest) -> HttpResponse:
    return _spend_page(request, spend_scope(request.user, everything=True))


@require_GET
def spend_csv(request: HttpRequest) -> HttpResponse:
    return _csv(request, spend_scope(request.user))


@require_GET
def spend_team_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return _csv(request, spend_scope(request.user, team_pk=pk))


@require_GET
def spend_all_csv(request: HttpRequest) -> HttpResponse:
    return _csv(request, spend_scope(request.user, everything=True))
