from django.contrib import admin

from .models import Invitation, Membership, Preference, Space


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "owner", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "owner__username", "memberships__user__username"]
    raw_id_fields = ["owner"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["invitee", "space", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["invitee", "space__name"]
    raw_id_fields = ["space", "invited_by", "accepted_by"]
    readonly_fields = ["token"]


admin.site.register(Preference)
