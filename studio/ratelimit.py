"""How fast one user may submit jobs: a sliding window over the jobs they already submitted.

Separate from budgets (what jobs may cost): this stops a runaway script or a stuck key from
queueing hundreds of calls. The jobs table is the record, so every web process agrees without
another store; the (created_by, created_at) index makes it one short index scan."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import Job


def submit_retry_after(*, user: Any) -> int | None:
    """Seconds until ``user`` may submit again, or None when a submit is allowed now."""
    limit = settings.STUDIO_SUBMIT_RATE_LIMIT
    if not limit:
        return None
    now = timezone.now()
    window = timedelta(seconds=settings.STUDIO_SUBMIT_RATE_WINDOW)
    recent = list(Job.objects.filter(created_by=user, created_at__gt=now - window)
                  .order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(recent) < limit:
        return None
    return max(1, math.ceil((recent[-1] + window - now).total_seconds()))


def rate_limit_message(retry_after: int) -> str:
    limit, window = settings.STUDIO_SUBMIT_RATE_LIMIT, settings.STUDIO_SUBMIT_RATE_WINDOW
    per = "a minute" if window == 60 else f"in {window} seconds"
    return (f"You have submitted {limit} jobs {per}, as many as this studio allows. "
            f"Try again in {retry_after} second{'s' if retry_after != 1 else ''}: your settings are kept.")
