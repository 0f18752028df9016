from django.contrib import admin
from django.http import HttpRequest

from gallery.admin import ReadOnlyInline, SpaceFilter
from teams.models import Budget

from . import spending
from .models import Job, JobInput, UpstreamPace, WorkerHeartbeat


class JobInputInline(ReadOnlyInline):
    model = JobInput


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "created_by", "kind", "status", "model", "short_prompt", "attempts",
                    "cost_usd", "created_at"]
    list_filter = ["status", "kind", "model", SpaceFilter]
    list_select_related = ["created_by"]
    list_per_page = 50
    search_fields = ["prompt", "request_id", "created_by__username"]
    date_hierarchy = "created_at"
    inlines = [JobInputInline]

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

    @admin.display(description="Used this month (USD)")
    def used_this_month(self, budget: Budget) -> str:
        return f"{spending.budget_state(budget=budget).used:.2f}"

    @admin.display(description="Left (USD)")
    def left_this_month(self, budget: Budget) -> str:
        return f"{spending.budget_state(budget=budget).left:.2f}"
