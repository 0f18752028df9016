"""The gallery at scale, for `make bench`: grid pages rendered through the real view while a team grows.

A team is seeded to each size in turn (1,000, then 10,000, then 100,000 images: each step adds to the
last), and a member's grid is requested ``repeats`` times per case with the test client: the first page,
a page 90% deep, a search, filters sorted by cost, and a search with those filters 90% deep. Deep pages
start from a cursor made the way the grid makes it (``encode_cursor``) from the image 90% down the list.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from teams.services import personal_space

from .forms import GalleryFilterForm
from .models import Image
from .seeding import seed_images, seed_members, team_space
from .selectors import SORTS, encode_cursor, filtered_images, gallery_count, gallery_page

SCALES = (1_000, 10_000, 100_000)
REPEATS = 20
DEEP = 0.9  # how far down the list a deep page starts
PERSONAL_IMAGES = 100  # the member's own space, so the grid reads two spaces as it does for anyone in a team
SEARCH = "fox"  # one of seeding.WORDS: in ~19% of the prompts
# ~1.4% of the images: high 1024x1024 is one in nine, one of eight tags; that size and quality cost $0.21.
FILTERS = {"quality": "high", "size": "1024x1024", "tag": "harbour", "cost_min": "0.20", "cost_max": "0.50",
           "sort": "cost"}
URL = "/gallery/"
COUNT_URL = "/gallery/count/"


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, str]
    deep: bool = False


CASES = (
    Case("first page", {}),
    Case("deep page (90%)", {}, deep=True),
    Case(f"search “{SEARCH}”", {"q": SEARCH}),
    Case("filters, by cost", FILTERS),
    Case("search + filters, deep page (90%)", {**FILTERS, "q": SEARCH}, deep=True),
)


@dataclass(frozen=True)
class Result:
    case: str
    images: int
    p50_ms: float
    p95_ms: float
    sql_p50_ms: float  # of the server time, in the database driver's execute()
    queries: str  # "9", or "8–9" if they varied between requests
    shown: int  # images on the page
    count: str  # the grid's count label
    count_p50_ms: float  # /gallery/count/, which the grid asks for after the page is shown
    count_sql_p50_ms: float


class SqlTimer:
    """A database execute wrapper adding up the time spent running SQL."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def run(scales: Iterable[int] = SCALES, *, repeats: int = REPEATS,
        log: Callable[[str], None] = lambda line: None) -> list[Result]:
    """Seed and measure at each of ``scales`` (team sizes, smallest first). Needs a throw-away database."""
    team = team_space("Benchmark team")
    member = seed_members(team, 3)[0]
    seed_images(personal_space(user=member), PERSONAL_IMAGES, users=[member])
    client = Client()
    client.force_login(member)
    results = []
    for scale in sorted(scales):
        started = time.perf_counter()
        total = seed_images(team, max(0, scale - Image.objects.filter(space=team).count()))
        _refresh_statistics()
        log(f"gallery: {total:,} images seeded in {time.perf_counter() - started:.0f} s")
        results += [_measure(client, member, case, scale, repeats) for case in CASES]
    return results


def _refresh_statistics() -> None:
    """On PostgreSQL, what autovacuum does shortly after a bulk load: statistics for the planner, and the
    GIN index's pending list merged into the index (a search would otherwise scan that list linearly)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _measure(client: Client, user: Any, case: Case, scale: int, repeats: int) -> Result:
    params = with_deep_cursor(user, case.params) if case.deep else case.params
    times, sql_times, queries = _timed(client, URL, params, repeats)
    count_times, count_sql_times, _ = _timed(client, COUNT_URL, params, repeats)
    filters = GalleryFilterForm(params, user=user).filters()
    page = gallery_page(user=user, filters=filters, cursor=params.get("after"))
    return Result(case=case.name, images=scale, p50_ms=statistics.median(times),
                  p95_ms=times[math.ceil(len(times) * 0.95) - 1], sql_p50_ms=statistics.median(sql_times),
                  queries="–".join(map(str, sorted(queries))), shown=len(page.images),
                  count=gallery_count(user=user, filters=filters).label,
                  count_p50_ms=statistics.median(count_times), count_sql_p50_ms=statistics.median(count_sql_times))


def _timed(client: Client, url: str, params: dict[str, str], repeats: int) -> tuple[list[float], list[float], set]:
    """Server times (sorted) and SQL times in ms, and the query counts seen, of ``repeats`` requests."""
    _get(client, params, url=url)  # warm up: templates, connection
    times, sql_times, queries = [], [], set()
    for _ in range(repeats):
        timer = SqlTimer()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
            started = time.perf_counter()
            _get(client, params, url=url)
            times.append((time.perf_counter() - started) * 1000)
        sql_times.append(timer.seconds * 1000)
        queries.add(len(captured))
    return sorted(times), sql_times, queries


def _get(client: Client, params: dict[str, str], *, url: str = URL) -> None:
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"the gallery answered {response.status_code} to {params}")


def with_deep_cursor(user: Any, params: dict[str, str], depth: float = DEEP) -> dict[str, str]:
    """``params`` (a grid query string) with the cursor that makes the page start ``depth`` of the way down
    the list: that of the image just before that point, as the grid's "Older" link would carry it."""
    filters = GalleryFilterForm(params, user=user).filters()
    sort = filters.get("sort") or "newest"
    fields, descending = SORTS[sort]
    listed = filtered_images(user=user, filters=filters).order_by(*(f"-{f}" if descending else f for f in fields))
    start = int(listed.count() * depth)
    if start < 1:
        return params
    return {**params, "after": encode_cursor(listed[start - 1], sort=sort)}


def markdown(results: list[Result]) -> list[str]:
    lines = ["| case | images | p50 | p95 | SQL (p50) | queries | shown, of | count: p50 (SQL) |",
             "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for result in sorted(results, key=lambda r: ([c.name for c in CASES].index(r.case), r.images)):
        lines.append(f"| {result.case} | {result.images:,} | {result.p50_ms:.1f} ms | {result.p95_ms:.1f} ms | "
                     f"{result.sql_p50_ms:.1f} ms | {result.queries} | {result.shown} of {result.count} | "
                     f"{result.count_p50_ms:.1f} ({result.count_sql_p50_ms:.1f}) ms |")
    return lines
