"""The theme switch: system by default, then light, then dark, remembered across pages."""

from __future__ import annotations

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

LIGHT_BG, DARK_BG = "rgb(246, 246, 247)", "rgb(12, 12, 14)"


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_the_theme_follows_the_system_until_switched_and_is_remembered(page, transactional_db):
    page.emulate_media(color_scheme="dark")
    page.goto("/accounts/login/")
    switch = page.locator("#theme-switch")
    assert switch.is_visible() and "follows the system" in switch.get_attribute("aria-label")
    assert _background(page) == DARK_BG
    switch.click()  # light, whatever the system says
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert _background(page) == LIGHT_BG
    page.emulate_media(color_scheme="light")
    switch.click()  # dark
    assert _background(page) == DARK_BG
    page.reload()
    assert _background(page) == DARK_BG and "Theme: dark" in page.locator("#theme-switch").get_attribute("aria-label")
    page.locator("#theme-switch").click()  # back to the system's choice
    assert page.evaluate("document.documentElement.dataset.theme") is None
    assert _background(page) == LIGHT_BG
