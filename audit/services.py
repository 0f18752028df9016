from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent


def audit_record(*, actor: Any, action: str, obj: models.Model, space: Any = None, summary: str = "") -> AuditEvent:
    """Append one event; ``space`` defaults to the object's own space."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        space=space if space is not None else getattr(obj, "space", None),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        summary=summary[:300],
    )
