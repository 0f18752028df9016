from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Staff see the whole log; nobody may add, change or delete it."""

    list_display = ["created_at", "actor", "space", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type", "space"]
    search_fields = ["summary", "actor__username", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "space"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
