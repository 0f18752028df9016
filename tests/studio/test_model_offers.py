"""Which models the picker offers (issue 11): ``STUDIO_MODELS``, with staff's word in the admin
over it; the default model is always offered and a shut-down model never is."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from studio.models import Job, ModelOffer
from studio.selectors import offered_models

pytestmark = pytest.mark.django_db

BASE = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low", "output_format": "png",
        "n": "1", "background": "auto", "moderation": "auto", "partial_images": "0"}


def _picker(client) -> list[str]:
    select = re.search(r'<select name="model"[^>]*>(.*?)</select>', client.get("/").content.decode(), re.S)
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.fixture
def two_models(settings):
    settings.STUDIO_MODEL = "gpt-image-2"
    settings.STUDIO_MODELS = ["gpt-image-2", "gpt-image-2.5-flare"]


def test_without_a_word_from_staff_the_picker_offers_studio_models(alice_client, two_models):
    assert offered_models() == ["gpt-image-2", "gpt-image-2.5-flare"]
    assert _picker(alice_client) == ["gpt-image-2", "gpt-image-2.5-flare"]


def test_a_model_unticked_in_the_admin_leaves_the_picker_and_is_refused(alice_client, alice, two_models):
    ModelOffer.objects.create(model="gpt-image-2.5-flare", offered=False)
    assert _picker(alice_client) == ["gpt-image-2"]
    response = alice_client.post("/generate/", {**BASE, "model": "gpt-image-2.5-flare"})
    assert "gpt-image-2.5-flare is not offered here" in response.content.decode()
    assert not Job.objects.filter(created_by=alice).exists()


def test_a_model_ticked_in_the_admin_joins_the_picker(alice_client, two_models):
    ModelOffer.objects.create(model="gpt-image-2.6-flare", offered=True)
    assert _picker(alice_client) == ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.6-flare"]


def test_the_default_model_is_always_offered(two_models):
    ModelOffer.objects.create(model="gpt-image-2", offered=False)
    assert offered_models()[0] == "gpt-image-2"


def test_a_model_shut_down_since_it_was_ticked_is_not_offered(two_models):
    ModelOffer.objects.create(model="gpt-image-1", offered=True)  # written before it was shut down
    assert "gpt-image-1" not in offered_models()


@pytest.mark.parametrize(("model", "message"), [
    ("gpt-image-1", "gpt-image-1 was shut down on 2026-10-23"),
    ("gpt-image-9", "gpt-image-9 is not in the catalogue."),
])
def test_staff_cannot_offer_a_shut_down_or_unknown_model(model, message):
    with pytest.raises(ValidationError, match=message):
        ModelOffer(model=model, offered=True).full_clean()


def test_staff_untick_a_model_in_the_admin(client, django_user_model, two_models):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get("/admin/studio/modeloffer/add/").content.decode()
    assert '<option value="gpt-image-2.6-sunburst">' in page and '<option value="gpt-image-1">' not in page
    response = client.post("/admin/studio/modeloffer/add/", {"model": "gpt-image-2.5-flare"})
    assert response.status_code == 302
    assert ModelOffer.objects.get().offered is False  # an unticked box is "not offered"
    assert offered_models() == ["gpt-image-2"]
    assert client.get("/admin/studio/modeloffer/").status_code == 200
