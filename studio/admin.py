from django.contrib import admin

from .models import Job, JobInput, WorkerHeartbeat


class JobInputInline(admin.TabularInline):
    model = JobInput
    extra = 0
    raw_id_fields = ["input_image"]
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "created_by", "kind", "status", "model", "short_prompt", "attempts",
                    "cost_usd", "created_at"]
    list_filter = ["status", "kind", "model", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["prompt", "request_id", "created_by__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by", "mask"]
    readonly_fields = ["created_at", "started_at", "finished_at", "request_id", "latency_ms", "usage",
                       "cost_usd", "attempts", "calls", "interrupted", "lease_owner", "lease_expires_at",
                       "retry_at", "receipt", "submit_key"]
    inlines = [JobInputInline]

    @admin.display(description="Prompt")
    def short_prompt(self, job: Job) -> str:
        return job.prompt[:60]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "seen_at", "in_flight"]
