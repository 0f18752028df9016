"""Reads of the studio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from imageapi import catalogue

from .models import Job, ModelOffer, WorkerHeartbeat
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


def offered_models() -> list[str]:
    """The models the picker offers: ``STUDIO_MODELS``, with staff's word in the admin over it
    (a model ticked there is added, one unticked is taken out), the default model always first
    and always offered; a model shut down since is never offered."""
    offers = dict(ModelOffer.objects.values_list("model", "offered"))
    chosen = [model for model in settings.STUDIO_MODELS if offers.get(model, True)]
    chosen += [model for model, offered in offers.items() if offered]
    return [model for model in dict.fromkeys([settings.STUDIO_MODEL, *chosen])
            if model == settings.STUDIO_MODEL or not _shut_down(model)]


def _shut_down(model: str) -> bool:
    entry = catalogue.entry_for(model)
    return entry is None or entry.is_shut_down
