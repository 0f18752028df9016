"""Reads of the studio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from .permissions import visible_jobs

PROMPT_HISTORY_LIMIT = 50


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
