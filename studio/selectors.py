"""Reads of the studio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from .models import Job, WorkerHeartbeat
from .permissions import visible_jobs

PROMPT_HISTORY_LIMIT = 50
HEARTBEAT_STALE_SECONDS = 30  # a worker beats every 5 s at most; six missed beats and it is gone


def worker_alive() -> bool:
    """Whether some task worker beat recently: without one, queued jobs wait for ever."""
    cutoff = timezone.now() - timedelta(seconds=HEARTBEAT_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).exists()


def has_active_jobs(*, user: Any) -> bool:
    """Whether any job the user may see is queued or running."""
    return visible_jobs(user).filter(status__in=Job.ACTIVE_STATUSES).exists()


@dataclass(frozen=True)
class RecentPrompt:
    prompt: str
    last_used: datetime
    times: int
    job_id: int  # the latest job with this prompt: reusing it brings back its settings too


def recent_prompts(*, user: Any, query: str = "", limit: int = PROMPT_HISTORY_LIMIT) -> list[RecentPrompt]:
    """The user's prompts, each once, most recently used first; ``query`` keeps those containing
    every one of its words."""
    jobs = visible_jobs(user)
    for word in query.split()[:10]:
        jobs = jobs.filter(prompt__icontains=word)
    rows = (jobs.values("prompt").annotate(last_used=Max("created_at"), times=Count("id"), job_id=Max("id"))
            .order_by("-last_used")[:limit])
    return [RecentPrompt(**row) for row in rows]
