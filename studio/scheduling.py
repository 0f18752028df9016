"""Which queued jobs start next: round-robin across users and spaces, each user capped (issue 10).

A queue taken oldest first lets one user's burst of 200 jobs hold back everyone else's single
job until the burst is through. Instead, every time a worker has free slots it orders the
queued jobs by how many jobs their user already runs (fewest first), then their space, then
age: a user with nothing running goes before a user with 40 running, whatever was queued
first. Within one user (and space) jobs keep their order. A user with
STUDIO_MAX_JOBS_PER_USER jobs running waits, and their cards say so.

Counts are read from the jobs' rows (all workers) plus the jobs this worker has just taken
but whose threads have not yet marked them running.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from . import pacing
from .models import Job

SCAN_LIMIT = 20_000  # queued rows read per round, oldest first; a deeper queue waits its turn


@dataclass(frozen=True)
class _Queued:
    pk: int
    user: int
    space: int


def _running_counts(field: str, *, besides: Collection[int]) -> Counter[int]:
    rows = (Job.objects.filter(status=Job.Status.RUNNING).exclude(pk__in=besides)
            .order_by().values(field).annotate(n=Count("pk")))
    return Counter({row[field]: row["n"] for row in rows})


def next_jobs(*, limit: int, taken: Collection[int] = (), per_user: int | None = None) -> list[int]:
    """Up to ``limit`` queued jobs' ids in the order they should start. ``taken``: ids this worker
    has claimed whose rows may still say queued (counted as running, never returned)."""
    per_user = settings.STUDIO_MAX_JOBS_PER_USER if per_user is None else per_user
    if limit <= 0:
        return []
    taken = set(taken)
    by_user = _running_counts("created_by", besides=taken)
    by_space = _running_counts("space", besides=taken)
    # This worker's own jobs count whether their rows say queued or running yet: read in one
    # query, a job that starts meanwhile cannot slip between two counts and be missed.
    for user, space in Job.objects.filter(pk__in=taken, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
                                          ).values_list("created_by", "space"):
        by_user[user] += 1
        by_space[space] += 1
    queues: dict[tuple[int, int], deque[_Queued]] = defaultdict(deque)
    rows = (Job.objects.filter(status=Job.Status.QUEUED, cancel_requested=False)
            .order_by("created_at", "pk").values_list("pk", "created_by", "space")[:SCAN_LIMIT])
    for pk, user, space in rows:
        if pk not in taken:
            queues[(user, space)].append(_Queued(pk, user, space))
    return _round_robin(queues, by_user, by_space, limit=limit, per_user=per_user)


def _round_robin(queues: dict[tuple[int, int], deque[_Queued]], by_user: Counter[int], by_space: Counter[int],
                 *, limit: int, per_user: int) -> list[int]:
    # A heap of each (user, space) queue's head, keyed by the counts when it was pushed; a popped
    # head whose counts have grown since is pushed back with the new ones (lazy update).
    def key(job: _Queued) -> tuple[int, int, int]:
        return by_user[job.user], by_space[job.space], job.pk

    heap = [(key(queue[0]), group) for group, queue in queues.items()]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < limit:
        pushed, group = heapq.heappop(heap)
        queue = queues[group]
        job = queue[0]
        if by_user[job.user] >= per_user:
            continue  # this user waits until one of theirs ends
        if key(job) != pushed:
            heapq.heappush(heap, (key(job), group))
            continue
        queue.popleft()
        chosen.append(job.pk)
        by_user[job.user] += 1
        by_space[job.space] += 1
        if queue:
            heapq.heappush(heap, (key(queue[0]), group))
    return chosen


@dataclass(frozen=True)
class Waiting:
    """Why a queued job has not started."""

    reason: str  # "user_limit", "pace" or "queue"
    running: int = 0
    limit: int = 0  # jobs per user; or, for "pace", images per minute
    starts_at: datetime | None = None  # "pace": when it should start
    slowed: bool = False  # "pace": the API asked us to slow down

    @property
    def message(self) -> str:
        if self.reason == "user_limit":
            return (f"Waiting: you have {self.running} jobs running, the most one person may run at once "
                    f"({self.limit}). It starts when one of them ends.")
        if self.reason == "pace" and self.starts_at is not None:
            seconds = max(1, math.ceil((self.starts_at - timezone.now()).total_seconds()))
            why = " (slowed down: the API said it was over the limit)" if self.slowed else ""
            return (f"Waiting for its turn: calls are paced at {self.limit} images a minute{why}. "
                    f"Expected to start at {timezone.localtime(self.starts_at):%H:%M:%S} (in about {seconds} s).")
        return "Waiting for a worker…"


def waiting_reasons(*, jobs: Iterable[Any]) -> dict[int, Waiting]:
    """Why each queued job of ``jobs`` waits, by id: its user's cap, one query per creator, else the
    pace (one more query), else a free worker."""
    queued = [job for job in jobs if job.status == Job.Status.QUEUED]
    limit = settings.STUDIO_MAX_JOBS_PER_USER
    running: dict[int, int] = {}
    for user_id in {job.created_by_id for job in queued}:
        running[user_id] = Job.objects.filter(status=Job.Status.RUNNING, created_by_id=user_id).count()
    reasons = {job.pk: Waiting("user_limit", running[job.created_by_id], limit)
               for job in queued if running[job.created_by_id] >= limit}
    others = [job for job in queued if job.pk not in reasons]
    starts = pacing.expected_starts(jobs=others)
    state = pacing.pace_state() if starts else None
    for job in others:
        if job.pk in starts and state is not None:
            reasons[job.pk] = Waiting("pace", limit=state.per_minute, starts_at=starts[job.pk], slowed=state.slowed)
        else:
            reasons[job.pk] = Waiting("queue")
    return reasons
