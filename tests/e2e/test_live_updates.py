"""Live updates in a real browser: one poll per page, whatever the number of cards, carrying the
active cards' ids and bringing them back out of band; it stops when they have all ended.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import HAS_CHROMIUM, JOB_TIMEOUT_MS, NO_CHROMIUM
from .test_studio_flow import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def test_one_poll_per_page_updates_every_card_then_stops(page, worker, designer, console_errors):
    from studio.models import Job

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, designer)
    form = page.locator("#generate-form")
    form.get_by_label("Quality").select_option("low")
    for prompt in ("A heron in the reeds", "A kingfisher on a branch"):
        form.get_by_label("Prompt").fill(prompt)
        form.get_by_role("button", name="Generate").click()
        expect(page.locator("#jobs article.job", has_text=prompt)).to_be_visible()
    expect(page.locator("#jobs [hx-trigger]")).to_have_count(0)  # no card polls by itself
    expect(page.locator("#jobs-live")).to_have_count(1)

    for prompt in ("A heron in the reeds", "A kingfisher on a branch"):
        card = page.locator("#jobs article.job", has_text=prompt)
        expect(card.locator(".status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
        expect(card.locator(".job-images img")).to_have_count(1)
    expect(page.locator("#jobs-live")).not_to_have_attribute("hx-trigger", re.compile(".*"))  # stopped

    job_ids = {str(pk) for pk in Job.objects.values_list("pk", flat=True)}
    polls = [urlsplit(url) for url in requests if re.fullmatch(r"/jobs/(live|\d+)/", urlsplit(url).path)]
    assert polls and all(poll.path == "/jobs/live/" for poll in polls)  # never a card of its own
    assert all(set(parse_qs(poll.query).get("live", [])) <= job_ids for poll in polls)
    assert console_errors == []
