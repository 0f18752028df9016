from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from gallery.admin import ReadOnlyInline, SpaceFilter
from imageapi.catalogue import active_models
from teams.models import Budget

from . import ledger, pricebook, spending
from .models import Job, JobInput, ModelOffer, PriceEntry, UpstreamPace, WorkerHeartbeat


class JobInputInline(ReadOnlyInline):
    model = JobInput


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "created_by", "kind", "status", "model", "short_prompt", "attempts",
                    "reserved_usd", "cost_usd", "price_unknown", "created_at"]
    list_filter = ["status", "kind", "model", SpaceFilter]
    list_select_related = ["created_by"]
    list_per_page = 50
    search_fields = ["prompt", "request_id", "created_by__username"]
    date_hierarchy = "created_at"
    inlines = [JobInputInline]
    change_list_template = "admin/studio/job/change_list.html"
    SUMMARY_ROWS = 10

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The list, above it the spend of every job the filters keep (all pages): the same
        totals as the spend pages (``studio.ledger``)."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            jobs = changelist.queryset
            response.context_data["spend"] = {
                "totals": ledger.spend_totals(jobs),
                "groups": [(title, ledger.spend_by(jobs, group)[:self.SUMMARY_ROWS])
                           for title, group in (("Member", "member"), ("Model", "model"))],
            }
        return response

    # A job is the record of a call: its request, usage, cost and files are history, shown, never
    # edited; jobs come from the studio, never added by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    @admin.display(description="Prompt")
    def short_prompt(self, job: Job) -> str:
        return job.prompt[:60]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "seen_at", "in_flight"]


@admin.register(UpstreamPace)
class UpstreamPaceAdmin(admin.ModelAdmin):
    """The shared pace (studio.pacing): an operator may set ``factor`` back to 1 after a slowdown."""

    list_display = ["key", "factor", "next_free_at", "slowed_at"]


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Monthly budgets, with what each has used this month (spent plus reserved)."""

    list_display = ["__str__", "monthly_usd", "used_this_month", "left_this_month", "updated_at"]
    list_select_related = ["space", "user"]
    raw_id_fields = ["user"]
    search_fields = ["space__name", "user__username"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # The page's budgets read what they used in one query, not one each.
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            for state in spending.budget_states_of(changelist.result_list):
                state.budget.month_state = state
        return response

    def _state(self, budget: Budget) -> spending.BudgetState:
        return getattr(budget, "month_state", None) or spending.budget_state(budget=budget)

    @admin.display(description="Used this month (USD)")
    def used_this_month(self, budget: Budget) -> str:
        return f"{self._state(budget).used:.2f}"

    @admin.display(description="Left (USD)")
    def left_this_month(self, budget: Budget) -> str:
        return f"{self._state(budget).left:.2f}"


@admin.register(PriceEntry)
class PriceEntryAdmin(admin.ModelAdmin):
    """The price book: staff add an entry from the date a price applies. An entry that has priced
    a job keeps its rates (read-only) and cannot be deleted, so past jobs keep their cost."""

    list_display = ["model", "valid_from", "is_current", "text_input", "text_cached_input", "image_input",
                    "image_cached_input", "image_output", "text_output", "note"]
    list_filter = ["model"]
    ordering = ["model", "-valid_from"]
    search_fields = ["model", "note"]
    date_hierarchy = "valid_from"
    fields = ["model", "valid_from", *PriceEntry.RATES, "note"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PriceEntry]:
        return pricebook.with_current_flag(super().get_queryset(request))

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str]:
        # The studio's warning links here with ?model=<id>.
        return {**super().get_changeform_initial_data(request), "valid_from": timezone.now().date().isoformat()}

    def get_readonly_fields(self, request: HttpRequest, obj: PriceEntry | None = None) -> list[str]:
        if obj is not None and obj.jobs.exists():
            return ["model", "valid_from", *PriceEntry.RATES]
        return []

    @admin.display(boolean=True, description="Current")
    def is_current(self, entry: PriceEntry) -> bool:
        return entry.valid_from == entry.current_from


@admin.register(ModelOffer)
class ModelOfferAdmin(admin.ModelAdmin):
    """Which models the picker offers, over ``STUDIO_MODELS``: a row per model staff decided on."""

    list_display = ["model", "offered", "changed_at"]
    list_editable = ["offered"]
    fields = ["model", "offered"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "model":
            choices = [(entry.id, entry.id) for entry in active_models()]
            return forms.ChoiceField(choices=choices, label="Model", help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)
