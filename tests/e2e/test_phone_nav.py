"""The phone (issue 14): at 390 px every section is reachable through the menu, Admin included, and
the team members table shows the members' names.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True, "is_mobile": True}


def test_on_a_phone_the_menu_reaches_every_section_and_members_have_names(
        open_page, designer, django_user_model, console_errors):
    from teams.models import Membership, Role
    from teams.services import team_create

    designer.is_staff = True
    designer.save()
    team = team_create(user=designer, name="Harbour Studio")
    colleague = django_user_model.objects.create_user("theodora", "theo@example.com", "x-long-password-1")
    Membership.objects.create(space=team, user=colleague, role=Role.EDITOR)

    page = open_page(**PHONE)
    log_in(page, designer)
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Teams")).to_be_hidden()
    for section, heading in [("Gallery", "Gallery"), ("Prompts", None), ("Teams", "Teams"), ("Create", None)]:
        menu.tap()
        expect(menu).to_have_attribute("aria-expanded", "true")
        link = nav.get_by_role("link", name=section, exact=True)
        expect(link).to_be_visible()
        assert link.evaluate("a => a.getBoundingClientRect().right <= 390")
        if section == "Gallery":
            expect(nav.get_by_role("link", name="Admin")).to_be_visible()
            expect(nav).to_contain_text("Signed in as mira")
            assert_accessible_in_both_color_schemes(page)
        link.tap()
        if heading:
            expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
    # Escape folds the menu back and returns to its button.
    menu.tap()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()


    page.goto(f"/teams/{team.pk}/")
    members = page.get_by_role("table")
    for name in ("mira", "theodora"):
        member = members.locator(".member-name", has_text=name)
        expect(member).to_be_visible()
        assert member.evaluate("element => element.getBoundingClientRect().width > 40")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls in its box
    assert console_errors == []

    menu.tap()
    nav.get_by_role("link", name="Admin").tap()
    expect(page).to_have_url(re.compile(r"/admin/"))


def test_on_a_desktop_the_links_stay_in_the_bar(page, designer, console_errors):
    log_in(page, designer)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    for section in ("Create", "Gallery", "Prompts", "Teams"):
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name=section, exact=True)).to_be_visible()
    assert console_errors == []
