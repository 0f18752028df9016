"""An append-only log of who did what, when, to which object."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit log is append-only.")

    def delete(self):
        raise TypeError("The audit log is append-only.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        GENERATED = "generated", "Generated"
        EDITED = "edited", "Edited"
        DELETED = "deleted", "Moved to trash"
        RESTORED = "restored", "Restored"
        PURGED = "purged", "Purged"
        SHARED = "shared", "Shared"
        UNSHARED = "unshared", "Revoked a share link"
        INVITED = "invited", "Invited"
        JOINED = "joined", "Joined"
        ROLE_CHANGED = "role_changed", "Changed a role"
        REMOVED = "removed", "Removed a member"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    space = models.ForeignKey("teams.Space", null=True, on_delete=models.SET_NULL, related_name="audit_events")
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=300)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["space", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only.")
