"""Pacing the calls made with one upstream key: images per minute, all workers together (issue 10).

OpenAI limits how many images an organisation may start a minute (README: by usage tier); a
call over the limit gets a 429 and its retries cost time. So with STUDIO_IMAGES_PER_MINUTE set,
a worker starts a job only when the shared pace allows its ``n`` images: a generic cell rate
algorithm (GCRA) on one database row, which every worker updates inside the transaction that
claims the jobs (the row is locked with SELECT … FOR UPDATE on PostgreSQL; on SQLite the claim's
transaction is exclusive already). A job the pace holds back stays queued, its card says when
it should start.

The row keeps ``next_free_at``: when the pace will have caught up with every image started so
far. An image moves it on by 60 / rate seconds. A job of n images may start now if, once its
images are added, the pace is at most a burst ahead of now; the burst is one second's worth of
images (OpenAI enforces per-minute limits over shorter periods), at least one image. A job
larger than the burst starts when the pace is idle, alone.

A 429 that is a rate limit (not billing) halves the pace, at most once per SLOWDOWN_SPACING
(the calls already in flight were started at the old pace and may be refused too), down to
MIN_FACTOR; every image that arrives afterwards gives back 1/rate of the full pace, so after a
minute or so of successes it is back to full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from imageapi.errors import NON_RETRYABLE_CODES, ImageAPIError

from .models import Job, UpstreamPace

PACE_KEY = "default"  # one upstream key per deployment; the row is shared by all its workers
MIN_FACTOR = 1 / 16
SLOWDOWN_SPACING = timedelta(seconds=10)
# A job expected to start sooner than this waits for a free worker slot rather than the pace.
PACE_MESSAGE_AFTER = timedelta(seconds=1)


def images_per_minute() -> int:
    return settings.STUDIO_IMAGES_PER_MINUTE


def enabled() -> bool:
    return images_per_minute() > 0


@dataclass(frozen=True)
class _Rate:
    per_image: timedelta  # how far one image moves the pace on
    tolerance: timedelta  # how far ahead of now the pace may run: the burst

    @classmethod
    def of(cls, pace: UpstreamPace) -> _Rate:
        per_minute = images_per_minute() * max(pace.factor, MIN_FACTOR)
        per_image = timedelta(seconds=60 / per_minute)
        return cls(per_image=per_image, tolerance=per_image * max(1.0, per_minute / 60))


def _locked() -> UpstreamPace:
    """The pace's row, locked until the caller's transaction ends."""
    UpstreamPace.objects.get_or_create(key=PACE_KEY)
    return UpstreamPace.objects.select_for_update().get(key=PACE_KEY)


def pace_admit(*, sizes: Sequence[int], now: datetime | None = None) -> int:
    """How many of the jobs about to start (``sizes``: their images, in the order they would
    start) the pace lets start at ``now``; their images are booked. The caller claims that many
    of them, in the same transaction, and leaves the rest queued."""
    if not enabled() or not sizes:
        return len(sizes)
    now = now or timezone.now()
    with transaction.atomic():
        pace = _locked()
        rate = _Rate.of(pace)
        start = max(pace.next_free_at or now, now)
        admitted = 0
        for images in sizes:
            after = start + rate.per_image * max(images, 0)
            if images > 0 and start > now and after - now > rate.tolerance:
                break  # the rest wait, in order: a smaller job behind may not jump a larger one
            start = after
            admitted += 1
        if admitted:
            pace.next_free_at = start
            pace.save(update_fields=["next_free_at"])
    return admitted


def pace_wait(*, now: datetime | None = None) -> float:
    """Seconds until the pace lets one more image start (0 when it would now)."""
    if not enabled():
        return 0.0
    now = now or timezone.now()
    pace = UpstreamPace.objects.filter(key=PACE_KEY).first()
    if pace is None or pace.next_free_at is None:
        return 0.0
    rate = _Rate.of(pace)
    return max(0.0, (pace.next_free_at + rate.per_image - rate.tolerance - now).total_seconds())


def is_rate_limit(error: ImageAPIError) -> bool:
    """A 429 that says "slow down" (a billing 429 says "pay", which pacing cannot help)."""
    return error.status == 429 and error.code not in NON_RETRYABLE_CODES


def pace_slow_down(*, now: datetime | None = None) -> bool:
    """The upstream answered a rate-limit 429: halve the pace (once per SLOWDOWN_SPACING).
    True when it did."""
    if not enabled():
        return False
    now = now or timezone.now()
    with transaction.atomic():
        pace = _locked()
        if pace.slowed_at is not None and now - pace.slowed_at < SLOWDOWN_SPACING:
            return False
        pace.factor = max(MIN_FACTOR, pace.factor / 2)
        pace.slowed_at = now
        pace.save(update_fields=["factor", "slowed_at"])
    return True


def pace_recover(*, images: int) -> None:
    """``images`` arrived: a slowed pace gets 1/rate of the full pace back for each."""
    if enabled() and images > 0:
        UpstreamPace.objects.filter(key=PACE_KEY, factor__lt=1).update(
            factor=Least(Value(1.0), F("factor") + images / images_per_minute()))


@dataclass(frozen=True)
class PaceState:
    per_minute: int  # the pace in use, after any slowdown
    slowed: bool


def pace_state() -> PaceState:
    pace = UpstreamPace.objects.filter(key=PACE_KEY).first()
    factor = max(pace.factor, MIN_FACTOR) if pace else 1.0
    return PaceState(per_minute=max(1, round(images_per_minute() * factor)), slowed=factor < 1)


def _images() -> Any:
    """A job's images, read from its request in the database (``n``, 1 when not given)."""
    return Coalesce(Cast(KT("request__n"), IntegerField()), Value(1))


def expected_starts(*, jobs: Iterable[Job], now: datetime | None = None) -> dict[int, datetime]:
    """When the pace should let each of these queued jobs start, for those it holds back (not
    those due within PACE_MESSAGE_AFTER): every image queued before a job goes first. An estimate:
    fairness between people reorders the queue, and a slowdown or a cancel moves it."""
    jobs = [job for job in jobs if job.status == Job.Status.QUEUED]
    if not enabled() or not jobs:
        return {}
    now = now or timezone.now()
    pace = UpstreamPace.objects.filter(key=PACE_KEY).first()
    if pace is None:
        pace = UpstreamPace(key=PACE_KEY)
    rate = _Rate.of(pace)
    waiting = Job.objects.filter(status=Job.Status.QUEUED, cancel_requested=False)
    ahead = waiting.aggregate(**{
        f"job_{job.pk}": Coalesce(Sum(_images(), filter=Q(created_at__lt=job.created_at)
                                      | Q(created_at=job.created_at, pk__lt=job.pk)), Value(0))
        for job in jobs
    })
    start = max(pace.next_free_at or now, now)
    starts = {}
    for job in jobs:
        # Once the images ahead have started, the job's own fit in the burst (or, larger than
        # the burst, it goes when the pace is idle).
        after_ahead = start + rate.per_image * ahead[f"job_{job.pk}"]
        due = after_ahead - max(timedelta(0), rate.tolerance - rate.per_image * job.n)
        if due - now >= PACE_MESSAGE_AFTER:
            starts[job.pk] = due
    return starts

