"""A share link that is no longer available says so on a page of its own (issue 14): 410 once
revoked or expired, 404 for a token that never existed, never Django's debug page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gallery.models import ShareLink
from gallery.services import share_link_create
from studio import services as studio_services


@pytest.fixture
def link(alice):
    job = studio_services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "A secret harbour", "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png"})
    studio_services.job_run(job_id=job.pk)
    return share_link_create(user=alice, target=job.images.get(), days=7, show_prompt=True)


def _assert_friendly(response, status: int) -> None:
    assert response.status_code == status
    html = response.content.decode()
    assert "This link is no longer available" in html
    assert "Traceback" not in html and "technical" not in html.lower() and "A secret harbour" not in html
    assert response["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("debug", [True, False])
def test_a_revoked_link_is_gone_on_a_friendly_page(settings, link, debug):
    settings.DEBUG = debug
    assert Client().get(f"/s/{link.token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    _assert_friendly(Client().get(f"/s/{link.token}/"), 410)


def test_an_expired_link_is_gone_on_a_friendly_page(settings, link):
    settings.DEBUG = True
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    _assert_friendly(Client().get(f"/s/{link.token}/"), 410)
    assert Client().get(f"/s/{link.token}/0/image/").status_code == 404  # the files are gone too


@pytest.mark.django_db
def test_an_unknown_token_is_not_found_on_the_same_friendly_page(settings):
    settings.DEBUG = True
    _assert_friendly(Client().get("/s/no-such-token/"), 404)
