"""Reads of where the money went, for the spend pages, their chart, the CSV ledger and the admin.

Every figure is aggregated in the database over a queryset of jobs that ``permissions.spend_scope``
chose; what a job costs or counts is ``studio.spending``'s rule (``SPENT``, ``HELD``,
``UNCERTAIN``), and days and months are those of ``STUDIO_BUDGET_TIMEZONE``."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDay, TruncMonth

from gallery.models import Image
from gallery.permissions import visible_images

from .models import Job
from .spending import HELD, MAY_HAVE_BEEN_BILLED, PRICE_UNKNOWN, SPENT, UNCERTAIN, ZERO, budget_zone, month_bounds

TOP_IMAGES = 10
# Longer periods are charted and listed by month rather than by day.
MAX_DAYS_BY_DAY = 62
CSV_CHUNK = 500


# -- the period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in ``STUDIO_BUDGET_TIMEZONE``, whole days."""

    start: datetime
    end: datetime

    @classmethod
    def month_of(cls, day: date) -> Period:
        zone = budget_zone()
        return cls(*month_bounds(datetime(day.year, day.month, day.day, 12, tzinfo=zone)))

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """From the start of ``first`` to the end of ``last``, both included."""
        zone = budget_zone()
        start = datetime(first.year, first.month, first.day, tzinfo=zone)
        end_day = last + timedelta(days=1)
        return cls(start, datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone))

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def is_month(self) -> bool:
        return self == Period.month_of(self.first_day)

    @property
    def by_month(self) -> bool:
        return (self.last_day - self.first_day).days + 1 > MAX_DAYS_BY_DAY

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.start:%B %Y}"
        return f"{self.first_day:%-d %b %Y} – {self.last_day:%-d %b %Y}"

    def jobs(self, jobs: QuerySet[Job]) -> QuerySet[Job]:
        return jobs.filter(created_at__gte=self.start, created_at__lt=self.end)


# -- totals ---------------------------------------------------------------------------------------


def _sums() -> dict[str, Any]:
    return {
        "jobs": Count("id"),
        "spent": Coalesce(Sum(SPENT), ZERO),
        "uncertain": Coalesce(Sum(UNCERTAIN), ZERO),
        "uncertain_jobs": Count("id", filter=MAY_HAVE_BEEN_BILLED),
        "held": Coalesce(Sum(HELD), ZERO),
        "estimated": Coalesce(Sum("reserved_usd"), ZERO),
        "price_unknown_jobs": Count("id", filter=PRICE_UNKNOWN),
    }


@dataclass(frozen=True)
class Totals:
    """What a set of jobs cost: ``spent`` counts what was billed and, at its reservation, what
    may have been (``uncertain``); ``held`` is what running jobs reserve; ``estimated`` what all
    of them reserved at submit."""

    jobs: int
    spent: Decimal
    uncertain: Decimal
    uncertain_jobs: int
    held: Decimal
    estimated: Decimal
    price_unknown_jobs: int

    @property
    def billed(self) -> Decimal:
        return self.spent - self.uncertain


def spend_totals(jobs: QuerySet[Job]) -> Totals:
    return Totals(**jobs.order_by().aggregate(**_sums()))


@dataclass(frozen=True)
class Row:
    """The totals of one group (a member, a model, a day…)."""

    key: Any
    label: str
    totals: Totals


# Groups by a column of the job or a parameter of its request; the label shown for empties.
GROUPS: dict[str, tuple[Any, str]] = {
    "member": (F("created_by__username"), "—"),
    "space": (F("space__name"), "—"),
    "model": (F("model"), "—"),
    "quality": (KT("request__quality"), "auto"),
    "size": (KT("request__size"), "auto"),
}


def spend_by(jobs: QuerySet[Job], group: str) -> list[Row]:
    """Totals per member, space, model, quality or size, the most spent first."""
    expression, empty = GROUPS[group]
    rows = (jobs.order_by().annotate(group_key=expression).values("group_key").annotate(**_sums())
            .order_by("-spent", "group_key"))
    result = []
    for row in rows:
        key = row.pop("group_key")
        result.append(Row(key=key, label=str(key) if key else empty, totals=Totals(**row)))
    return result


def spend_over_time(jobs: QuerySet[Job], period: Period) -> list[Row]:
    """Totals per day of the period (per month when it is long), every day or month present,
    at zero when nothing was spent."""
    zone = budget_zone()
    trunc = TruncMonth if period.by_month else TruncDay
    rows = (period.jobs(jobs).order_by().annotate(bucket=trunc("created_at", tzinfo=zone)).values("bucket")
            .annotate(**_sums()))
    found = {row.pop("bucket").astimezone(zone).date(): Totals(**row) for row in rows}
    empty = Totals(jobs=0, spent=Decimal(0), uncertain=Decimal(0), uncertain_jobs=0, held=Decimal(0),
                   estimated=Decimal(0), price_unknown_jobs=0)
    return [Row(key=bucket, label=_bucket_label(bucket, by_month=period.by_month), totals=found.get(bucket, empty))
            for bucket in _buckets(period)]


def _buckets(period: Period) -> Iterator[date]:
    day = period.first_day
    if period.by_month:
        day = day.replace(day=1)
        while day <= period.last_day:
            yield day
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return
    while day <= period.last_day:
        yield day
        day += timedelta(days=1)


def _bucket_label(bucket: date, *, by_month: bool) -> str:
    return f"{bucket:%B %Y}" if by_month else f"{bucket:%a %-d %b}"


def spend_by_month(jobs: QuerySet[Job]) -> list[Row]:
    """Totals per calendar month (in the budget time zone), the latest first."""
    zone = budget_zone()
    rows = (jobs.order_by().annotate(bucket=TruncMonth("created_at", tzinfo=zone)).values("bucket")
            .annotate(**_sums()).order_by("-bucket"))
    result = []
    for row in rows:
        month = row.pop("bucket").astimezone(zone).date()
        result.append(Row(key=month, label=f"{month:%B %Y}", totals=Totals(**row)))
    return result


# -- the most expensive images, and each job's estimate beside its cost ------------------------------


@dataclass(frozen=True)
class CostlyImage:
    image: Image
    visible: bool  # whether the viewer may open it in the gallery


def most_expensive_images(jobs: QuerySet[Job], *, user: Any, limit: int = TOP_IMAGES) -> list[CostlyImage]:
    images = list(Image.objects.filter(job__in=jobs.order_by().values("pk"))
                  .select_related("created_by", "space").order_by("-cost_usd", "-created_at", "-id")[:limit])
    visible = set(visible_images(user).filter(pk__in=[image.pk for image in images]).values_list("pk", flat=True))
    return [CostlyImage(image=image, visible=image.pk in visible) for image in images]


def ledger(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """The jobs, newest first, each with ``may_have_been_billed`` and ``cost_unknown`` (billed at
    a price the book did not have)."""
    return (jobs.select_related("created_by", "space").defer("receipt")
            .annotate(may_have_been_billed=ExpressionWrapper(MAY_HAVE_BEEN_BILLED, output_field=BooleanField()),
                      cost_unknown=ExpressionWrapper(PRICE_UNKNOWN, output_field=BooleanField()))
            .order_by("-created_at", "-id"))


def distinct_values(jobs: QuerySet[Job], field: str) -> list[str]:
    """The values a filter may offer: the members or models that occur in ``jobs``."""
    return list(jobs.order_by(field).values_list(field, flat=True).distinct())


def filter_jobs(jobs: QuerySet[Job], *, member: str = "", model: str = "", space: Any = None) -> QuerySet[Job]:
    conditions = Q()
    if member:
        conditions &= Q(created_by__username=member)
    if model:
        conditions &= Q(model=model)
    if space:
        conditions &= Q(space_id=space)
    return jobs.filter(conditions)


# -- the CSV ledger -------------------------------------------------------------------------------

CSV_HEADER = [
    "job", "created_at", "finished_at", "user", "space", "kind", "model", "size", "quality", "n",
    "parameters", "prompt", "input_tokens", "output_tokens", "total_tokens", "estimate_usd", "actual_usd",
    "status", "may_have_been_billed", "price_unknown", "error_code", "request_id",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """The cell as text, a leading quote on anything a spreadsheet would take for a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def ledger_csv(jobs: QuerySet[Job]) -> Iterator[str]:
    """The CSV ledger, line by line, read from the database in chunks (never all in memory)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for job in ledger(jobs).iterator(chunk_size=CSV_CHUNK):
        yield writer.writerow([csv_safe(cell) for cell in _csv_row(job)])


def _plain(amount: Decimal | None) -> str:
    """Dollars as plain digits (never ``0E-8``); empty when unknown."""
    return "" if amount is None else f"{amount:f}"


def _csv_row(job: Job) -> Iterable[Any]:
    zone = budget_zone()
    usage = job.usage or {}
    parameters = {key: value for key, value in (job.request or {}).items() if key != "prompt"}
    return [
        job.pk, job.created_at.astimezone(zone).isoformat(),
        job.finished_at.astimezone(zone).isoformat() if job.finished_at else "",
        job.created_by.get_username(), job.space.name, job.kind, job.model,
        parameters.get("size", "auto"), parameters.get("quality", "auto"), job.n,
        json.dumps(parameters, sort_keys=True, separators=(",", ":")), job.prompt,
        usage.get("input_tokens", ""), usage.get("output_tokens", ""), usage.get("total_tokens", ""),
        "" if job.price_unknown else _plain(job.reserved_usd), _plain(job.cost_usd), job.status,
        "yes" if job.may_have_been_billed else "no", "yes" if job.cost_unknown else "no",
        job.error_code, job.request_id,
    ]
