"""The spend page's chart, in a real browser on a desktop and a phone: drawn, inside the screen,
in the accent colour of each scheme, its numbers in the table beside it, and no console errors.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM, SIZES
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def _seed_this_month(user) -> int:
    """Three jobs on the first of this month and two today; gives how many days have spend."""
    from studio.models import Job
    from studio.spending import month_bounds
    from tests.factories import JobFactory

    start, _ = month_bounds()
    days = set()
    first_day = [(start + timedelta(hours=hour), cost) for hour, cost in ((1, "0.40"), (2, "0.10"), (3, "0.05"))]
    for when, cost in [*first_day, (None, "0.25"), (None, "0.35")]:
        job = JobFactory(created_by=user, cost_usd=Decimal(cost), reserved_usd=Decimal("0.50"))
        if when is not None:
            Job.objects.filter(pk=job.pk).update(created_at=when)
        job.refresh_from_db()
        days.add(job.created_at.astimezone(start.tzinfo).date())
    return len(days)


@pytest.mark.parametrize("size", SIZES)
def test_the_spend_chart_renders_on_a_phone_and_a_desktop_without_console_errors(
        open_page, designer, console_errors, size):
    days_with_spend = _seed_this_month(designer)
    page = open_page(**SIZES[size])
    log_in(page, designer)
    width = page.viewport_size["width"]

    page.goto("/spend/")
    expect(page.get_by_role("heading", name="Your spend")).to_be_visible()
    chart = page.locator("[data-spend-chart] svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.spend-chart-bar")).to_have_count(days_with_spend)
    box = chart.bounding_box()
    assert box["height"] > 100 and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    expect(page.locator("[data-total=spent]")).to_have_text("$1.15")
    expect(page.get_by_role("table", name="Spend by day")).to_contain_text("$1.15" if days_with_spend == 1 else "$0.55")

    fills = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        fills[scheme] = chart.locator("rect.spend-chart-bar").first.evaluate("bar => getComputedStyle(bar).fill")
        assert fills[scheme] == page.evaluate("getComputedStyle(document.querySelector('[data-spend-chart]')).color")
    assert fills["light"] != fills["dark"]

    assert_accessible_in_both_color_schemes(page)
    assert console_errors == []
