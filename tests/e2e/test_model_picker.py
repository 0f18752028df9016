"""The model picker in a real browser (issue 11): picking another model refits the options (its
quality ladder, complexity, GIF with its frames) and the live estimate (its token rule, said to be
approximate where it is); the job runs with that model and its card says so.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HAS_CHROMIUM, JOB_TIMEOUT_MS, NO_CHROMIUM
from .test_studio_flow import log_in, mark_document, same_document

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def option_values(select) -> list[str]:
    return select.locator("option").evaluate_all("options => options.map(option => option.value)")


def test_switching_the_model_refits_the_options_and_the_estimate(page, designer, worker, console_errors):
    log_in(page, designer)
    mark_document(page)
    form = page.locator("#generate-form")
    model, quality = form.get_by_label("Model"), form.get_by_label("Quality")
    estimate = form.locator(".size-feedback")
    expect(model).to_have_value("gpt-image-2")
    form.get_by_label("Size preset").select_option("1024x1024")
    quality.select_option("low")
    form.get_by_label("Live previews").select_option("0")  # each would add 100 tokens
    expect(estimate).to_contain_text("≈ 196 output tokens")
    expect(estimate).to_contain_text("with gpt-image-2")
    expect(estimate.get_by_text("approximate")).to_have_count(0)
    expect(form.get_by_label("Complexity")).to_have_count(0)
    assert option_values(quality) == ["auto", "low", "medium", "high"]

    model.select_option("gpt-image-2.6-flare")
    complexity = form.get_by_label("Complexity")
    expect(complexity).to_be_visible()
    expect(quality).to_have_value("low")  # the new model takes it: kept
    assert option_values(form.get_by_label("Quality")) == ["auto", "low", "medium", "high", "xhigh", "max"]
    expect(estimate).to_contain_text("≈ 824 output tokens")
    expect(estimate).to_contain_text("with gpt-image-2.6-flare")
    tag = estimate.get_by_text("approximate", exact=True)
    expect(tag).to_be_visible()
    expect(tag).to_have_attribute("title", re.compile("OpenAI publishes no formula for 2.6"))

    # GIF: its frames appear, live previews (which a GIF has not) go.
    frames = form.get_by_label("Frames")
    expect(frames).to_be_hidden()
    form.get_by_label("Format").select_option("gif")
    expect(frames).to_be_visible()
    expect(form.get_by_label("Live previews")).to_be_hidden()
    frames.fill("4")
    complexity.select_option("low")

    form.get_by_label("Prompt").fill("a paper kite looping over dunes")
    form.get_by_role("button", name="Generate").click()
    card = page.locator(".job").first
    expect(card.locator(".job-model")).to_have_text("gpt-image-2.6-flare")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    result = card.locator(".job-images img")
    expect(result).to_be_visible()
    # Transparent pixels would show on a checkerboard, not on the card's colour.
    assert "conic-gradient" in result.evaluate("img => getComputedStyle(img).backgroundImage")

    # Back to gpt-image-2: what it lacks is reset, what it takes kept.
    form = page.locator("#generate-form")
    form.get_by_label("Model").select_option("gpt-image-2")
    expect(form.get_by_label("Complexity")).to_have_count(0)
    expect(form.get_by_label("Format")).to_have_value("png")
    expect(form.get_by_label("Quality")).to_have_value("low")
    expect(form.locator(".size-feedback")).to_contain_text("with gpt-image-2")
    assert same_document(page)
    assert console_errors == []
