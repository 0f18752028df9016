"""The dated price book (issue 11, "Prices, dated"): which entry prices a job, that a new entry
never changes what past jobs cost, "price unknown" instead of $0, reservations priced from the
book, the admin, the staff warning and the seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imageapi import catalogue, pricing
from imageapi.pricing import Usage
from studio import pricebook, services, spending
from studio.admin import PriceEntryAdmin
from studio.models import Job, PriceEntry
from studio.pricebook import price_book_seed, price_entry_for
from teams.services import budget_set

pytestmark = pytest.mark.django_db

REQUEST = {"model": "gpt-image-2", "prompt": "a lighthouse", "n": 1, "size": "1024x1024", "quality": "high"}
SEEDED_FROM = date(2026, 4, 21)  # gpt-image-2's release, its seed entry's date


def _submit(user, **params) -> Job:
    return services.job_submit_generation(user=user, request={**REQUEST, **params})


def _run(job: Job) -> Job:
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    return job


def _entry(model: str = "gpt-image-2", *, valid_from: date, image_output: str = "30") -> PriceEntry:
    return PriceEntry.objects.create(model=model, valid_from=valid_from, text_input=Decimal(5),
                                     image_output=Decimal(image_output), note="test")


def _today() -> date:
    return timezone.now().astimezone(UTC).date()


@pytest.fixture
def staff_client(django_user_model):
    staff = Client()  # its own: alice_client is the default client
    staff.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return staff


# -- dating ---------------------------------------------------------------------------------------


def test_an_entry_applies_from_midnight_utc_of_its_date_on():
    seeded = price_entry_for(model="gpt-image-2", at=datetime(2026, 4, 21, 0, 0, tzinfo=UTC))
    assert seeded is not None and seeded.valid_from == SEEDED_FROM
    assert price_entry_for(model="gpt-image-2", at=datetime(2026, 4, 20, 23, 59, 59, tzinfo=UTC)) is None
    # 01:00 in Berlin on the 21st is still the 20th in UTC: no price yet.
    berlin = datetime(2026, 4, 21, 1, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert price_entry_for(model="gpt-image-2", at=berlin) is None


def test_a_later_entry_takes_over_from_its_date_and_the_earlier_one_keeps_the_days_before():
    june = _entry(valid_from=date(2026, 6, 1), image_output="20")
    assert price_entry_for(model="gpt-image-2", at=datetime(2026, 5, 31, 23, 59, tzinfo=UTC)).valid_from == SEEDED_FROM
    assert price_entry_for(model="gpt-image-2", at=datetime(2026, 6, 1, tzinfo=UTC)) == june
    assert price_entry_for(model="gpt-image-2") == june  # today
    future = _entry(valid_from=_today() + timedelta(days=1), image_output="10")
    assert price_entry_for(model="gpt-image-2") == june
    assert price_entry_for(model="gpt-image-2", at=timezone.now() + timedelta(days=1)) == future


def test_a_snapshot_is_priced_with_its_models_entries_unless_it_has_its_own():
    model_entry = price_entry_for(model="gpt-image-2")
    assert price_entry_for(model="gpt-image-2-2026-04-21") == model_entry
    own = _entry("gpt-image-2-2026-04-21", valid_from=date(2026, 5, 1), image_output="29")
    assert price_entry_for(model="gpt-image-2-2026-04-21") == own
    assert price_entry_for(model="gpt-image-2") == model_entry


def test_a_model_without_any_entry_has_no_price():
    assert price_entry_for(model="chatgpt-image-latest") is None
    assert price_entry_for(model="gpt-image-9") is None
    assert pricebook.estimate_usd(model="gpt-image-9", usage=Usage(image_output=1000)) is None


# -- jobs record their entry; past costs never change ---------------------------------------------


def test_a_job_records_the_entry_valid_at_submit_and_a_new_entry_never_changes_its_cost(alice):
    seeded = price_entry_for(model="gpt-image-2")
    before = _submit(alice)
    assert before.price_entry == seeded and not before.price_unknown
    dearer = _entry(valid_from=_today(), image_output="60")  # added while the first job waits
    after = _submit(alice)
    assert after.price_entry == dearer

    before, after = _run(before), _run(after)
    assert before.cost_usd == pricing.cost_usd(Usage.from_api(before.usage), prices=pricebook.prices_of(seeded))
    assert after.cost_usd == pricing.cost_usd(Usage.from_api(after.usage), prices=pricebook.prices_of(dearer))
    assert after.usage == before.usage and after.cost_usd > before.cost_usd
    assert sum(image.cost_usd for image in before.images.all()) == before.cost_usd

    _entry(valid_from=_today() + timedelta(days=1), image_output="1")
    before.refresh_from_db()
    assert before.cost_usd == pricing.cost_usd(Usage.from_api(before.usage), prices=pricebook.prices_of(seeded))


def test_an_entry_that_priced_a_job_cannot_be_deleted(alice):
    job = _submit(alice)
    with pytest.raises(ProtectedError):
        job.price_entry.delete()


# -- price unknown, never $0 ----------------------------------------------------------------------


def test_a_model_without_a_price_is_priced_unknown_and_flagged_not_at_zero(alice, alice_client):
    PriceEntry.objects.filter(model="gpt-image-2").delete()
    job = _run(_submit(alice))
    assert job.price_unknown and job.price_entry is None
    assert job.cost_usd is None and job.reserved_usd == 0 and job.usage["output_tokens"] > 0
    image = job.images.get()
    assert image.price_unknown

    card = alice_client.get(reverse("studio:job_card", args=[job.pk])).content.decode()
    assert "price unknown" in card and "$0.0000" not in card and "$None" not in card
    detail = alice_client.get(reverse("gallery:detail", args=[image.pk])).content.decode()
    assert "Price unknown" in detail and "$0.00000" not in detail

    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)  # ended after the call had run
    card = alice_client.get(reverse("studio:job_card", args=[job.pk])).content.decode()
    assert 'data-cost="price-unknown"' in card and "$0.0000" not in card


def test_a_priced_job_is_not_flagged(alice, alice_client):
    job = _run(_submit(alice))
    assert not job.price_unknown and not job.images.get().price_unknown
    card = alice_client.get(reverse("studio:job_card", args=[job.pk])).content.decode()
    assert f"${job.cost_display}" in card and "price unknown" not in card


def test_the_live_estimate_says_price_unknown_without_a_price(alice_client):
    priced = alice_client.get("/size-check/", {"size": "1024x1024", "quality": "high"}).content.decode()
    assert "≈ $0.2107" in priced  # 7024 tokens at $30/M
    _entry(valid_from=_today(), image_output="60")
    assert "≈ $0.4214" in alice_client.get("/size-check/", {"size": "1024x1024", "quality": "high"}).content.decode()
    PriceEntry.objects.filter(model="gpt-image-2").delete()
    unknown = alice_client.get("/size-check/", {"size": "1024x1024", "quality": "high"}).content.decode()
    assert "price unknown" in unknown and "$" not in unknown and "7024" in unknown


# -- reservations come from the book -----------------------------------------------------------


def test_the_reservation_is_priced_from_the_book(alice):
    first = _submit(alice).reserved_usd
    _entry(valid_from=_today(), image_output="60")  # image output doubles, text in stays at $5/M
    second = _submit(alice).reserved_usd
    prompt = Decimal(len(b"a lighthouse") * 5) / 1_000_000
    assert first == prompt + Decimal(7024 * 30) / 1_000_000
    assert second - prompt == 2 * (first - prompt)


def test_without_a_price_a_budget_refuses_the_job_rather_than_reserve_a_guess(alice):
    PriceEntry.objects.filter(model="gpt-image-2").delete()
    budget_set(user=alice, usd=Decimal(100))
    with pytest.raises(spending.PriceUnknownUnderBudget, match="gpt-image-2 has no price in the price book today"):
        _submit(alice)
    assert not Job.objects.exists()


def test_without_a_price_and_without_a_budget_the_job_runs_reserving_nothing(alice):
    PriceEntry.objects.filter(model="gpt-image-2").delete()
    job = _submit(alice)
    assert job.price_unknown and job.reserved_usd == 0


def test_the_refusal_for_an_unknown_price_shows_beside_the_form(alice_client, alice):
    PriceEntry.objects.filter(model="gpt-image-2").delete()
    budget_set(user=alice, usd=Decimal(5))
    response = alice_client.post(reverse("studio:generate"), {
        "prompt": "a lighthouse", "size": "1024x1024", "quality": "high", "n": 1, "output_format": "png",
        "background": "auto", "moderation": "auto"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "has no price in the price book today" in body and "your monthly budget" in body
    assert not Job.objects.exists()


# -- the admin and the staff warning ----------------------------------------------------------------


def test_staff_see_the_price_book_by_model_newest_first_with_the_current_entry(staff_client):
    older = _entry(valid_from=date(2026, 1, 1), image_output="35")
    upcoming = _entry(valid_from=_today() + timedelta(days=3), image_output="25")
    response = staff_client.get(reverse("admin:studio_priceentry_changelist"), {"model": "gpt-image-2"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [row.valid_from for row in rows] == [upcoming.valid_from, SEEDED_FROM, older.valid_from]
    admin = PriceEntryAdmin(PriceEntry, None)
    assert [admin.is_current(row) for row in rows] == [False, True, False]
    assert "35.0000" in response.content.decode()


def test_a_used_entry_keeps_its_rates_in_the_admin_and_a_new_one_is_editable(staff_client, alice):
    used = _submit(alice).price_entry
    page = staff_client.get(reverse("admin:studio_priceentry_change", args=[used.pk])).content.decode()
    assert 'name="image_output"' not in page and 'name="note"' in page
    fresh = _entry(valid_from=_today() + timedelta(days=1))
    page = staff_client.get(reverse("admin:studio_priceentry_change", args=[fresh.pk])).content.decode()
    assert 'name="image_output"' in page
    add = staff_client.get(reverse("admin:studio_priceentry_add"), {"model": "gpt-image-2.6-flare"}).content.decode()
    assert 'value="gpt-image-2.6-flare"' in add


def test_staff_add_an_entry_for_a_catalogue_model_with_rates_that_are_not_negative(staff_client):
    url = reverse("admin:studio_priceentry_add")
    form = {"model": "gpt-image-2.6-flare", "valid_from": "2027-01-01", "text_input": "5", "text_cached_input": "",
            "image_input": "8", "image_cached_input": "", "image_output": "28.5", "text_output": "", "note": "Jan"}
    unknown = staff_client.post(url, {**form, "model": "gpt-image-9"})
    assert unknown.status_code == 200 and "is not in the catalogue" in unknown.content.decode()
    negative = staff_client.post(url, {**form, "image_output": "-1"})
    assert negative.status_code == 200 and "A rate cannot be negative." in negative.content.decode()
    assert staff_client.post(url, form).status_code == 302
    added = PriceEntry.objects.get(model="gpt-image-2.6-flare", valid_from=date(2027, 1, 1))
    assert added.image_output == Decimal("28.5") and added.text_output is None
    assert price_entry_for(model="gpt-image-2.6-flare", at=datetime(2027, 1, 1, tzinfo=UTC)) == added
    again = staff_client.post(url, {**form, "image_output": "27"})
    assert again.status_code == 200 and "already exists" in again.content.decode()


def test_the_price_book_is_for_staff_only(alice_client):
    response = alice_client.get(reverse("admin:studio_priceentry_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_are_warned_when_an_offered_model_has_no_current_price(settings, staff_client, alice_client):
    settings.STUDIO_MODELS = ["gpt-image-2", "gpt-image-2.6-flare"]
    assert 'id="unpriced-models"' not in staff_client.get("/").content.decode()
    PriceEntry.objects.filter(model="gpt-image-2.6-flare").delete()
    _entry("gpt-image-2.6-flare", valid_from=_today() + timedelta(days=1))  # not yet in force
    page = staff_client.get("/").content.decode()
    assert 'id="unpriced-models"' in page and "gpt-image-2.6-flare" in page
    assert f'{reverse("admin:studio_priceentry_add")}?model=gpt-image-2.6-flare' in page
    assert "gpt-image-2," not in page.split('id="unpriced-models"')[1].split("</p>")[0]
    assert 'id="unpriced-models"' not in alice_client.get("/").content.decode()


# -- the seed -------------------------------------------------------------------------------------


def test_the_seed_prices_every_catalogue_model_with_published_rates_and_is_idempotent():
    priced = [entry for entry in catalogue.MODELS if entry.prices is not None]
    assert {entry.model for entry in PriceEntry.objects.all()} == {entry.id for entry in priced}
    assert price_book_seed() == 0 and PriceEntry.objects.count() == len(priced)
    for model in priced:
        entry = PriceEntry.objects.get(model=model.id)
        assert pricebook.prices_of(entry) == pricing.published_prices(model.id)
        assert entry.valid_from == (model.released or pricebook.UNDATED_FROM)
    retired = PriceEntry.objects.get(model="gpt-image-1")
    assert retired.valid_from == date(2025, 4, 1) and "Release date unknown" in retired.note
    assert PriceEntry.objects.get(model="gpt-image-1.5").text_output == Decimal(10)
    assert PriceEntry.objects.get(model="gpt-image-2").text_output is None  # not billed
    assert not PriceEntry.objects.filter(model__in=["chatgpt-image-latest", "dall-e-3"]).exists()


def test_the_seed_keeps_staff_edits_and_restores_a_missing_entry():
    PriceEntry.objects.filter(model="gpt-image-2").update(image_output=Decimal("31"))
    PriceEntry.objects.filter(model="gpt-image-1").delete()
    assert price_book_seed() == 1
    assert PriceEntry.objects.get(model="gpt-image-2").image_output == Decimal(31)
    assert PriceEntry.objects.filter(model="gpt-image-1").exists()
