"""Links that are easy to hand over (issue 14): copy buttons for share and invitation links, pending
invitations listed with their links, and a revoked share link's friendly page, at desktop and phone
sizes.

Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import pytest

from .conftest import HAS_CHROMIUM, NO_CHROMIUM, SIZES
from .test_edit_inputs import gallery_image
from .test_studio_flow import assert_accessible_in_both_color_schemes, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM)]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


@pytest.mark.parametrize("size", SIZES)
def test_copy_a_share_link_then_revoked_it_says_it_is_no_longer_available(
        open_page, designer, console_errors, size):
    from gallery.services import share_link_create, share_link_revoke

    image = gallery_image(designer, prompt="A lantern in the fog")
    link = share_link_create(user=designer, target=image, days=7, show_prompt=False)
    page = open_page(**SIZES[size], permissions=["clipboard-read", "clipboard-write"])
    log_in(page, designer)
    page.goto(f"/gallery/{image.pk}/")
    copy = page.locator(f"[data-copy=share-{link.pk}]")
    expect(copy).to_have_accessible_name("Copy the link to this image")
    copy.click()
    expect(copy).to_contain_text("Copied")
    url = page.get_by_label("Share link to this image").input_value()
    assert url.endswith(f"/s/{link.token}/") and clipboard(page) == url

    share_link_revoke(user=designer, link=link)
    response = page.goto(url)
    assert response.status == 410
    expect(page.get_by_role("heading", name="This link is no longer available")).to_be_visible()
    expect(page).to_have_title("Link no longer available · Studio")
    assert "lantern" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
    assert_accessible_in_both_color_schemes(page)
    console_errors[:] = [e for e in console_errors if "410" not in e]  # the page's own status, as meant
    assert console_errors == []


@pytest.mark.parametrize("size", SIZES)
def test_pending_invitations_keep_their_links_to_copy(open_page, designer, console_errors, size):
    from teams.services import team_create

    team = team_create(user=designer, name="Harbour Studio")
    page = open_page(**SIZES[size], permissions=["clipboard-read", "clipboard-write"])
    log_in(page, designer)
    page.goto(f"/teams/{team.pk}/")
    page.get_by_label("Username or e-mail").fill("newcomer@example.com")
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.locator(".message-warning")).to_contain_text("No account has the username or e-mail")

    pending = page.get_by_role("region", name="Pending invitations")
    field = pending.get_by_label("Invitation link for newcomer@example.com")
    expect(field).to_have_value(__import__("re").compile(r"/teams/join/[\w-]+/$"))
    pending.get_by_role("button", name="Copy the invitation link for newcomer@example.com").click()
    assert clipboard(page) == field.input_value()
    page.reload()  # still listed once the message is gone
    expect(pending.get_by_label("Invitation link for newcomer@example.com")).to_have_value(field.input_value())
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
    assert_accessible_in_both_color_schemes(page)

    pending.get_by_role("button", name="Revoke the invitation of newcomer@example.com").click()
    expect(page.get_by_role("region", name="Pending invitations")).to_have_count(0)
    assert console_errors == []
