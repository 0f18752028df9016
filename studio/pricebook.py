"""The price book: which dated entry prices a model at a moment, in one home, and its seed.

Every money computation of the studio (a job's cost, its budget reservation, the live estimate,
``manage.py models``) reads its rates here. A model or moment without an entry is priced
"unknown" (``None``): never $0, never another model's rates.

Dating: an entry applies from 00:00 UTC on its ``valid_from`` date until the model's next entry.
A dated snapshot (``gpt-image-2-2026-04-21``) is priced with its own entries if it has any, else
with its model's."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from imageapi import catalogue, pricing
from imageapi.pricing import Prices, Usage

from .models import PriceEntry

# Where the references give no release date for a retired model, its entry is dated from the
# first GPT image model's release month (gpt-image-1, 2025-04): no job of it can be older.
UNDATED_FROM = datetime.date(2025, 4, 1)
SEED_NOTE = "Seeded from shared/reference/models.md (USD per 1M tokens, standard tier)."


def _utc_date(at: datetime.datetime) -> datetime.date:
    return at.astimezone(datetime.UTC).date()


def _ids(model: str) -> list[str]:
    """``model`` first, then the catalogue model it is a snapshot of."""
    entry = catalogue.entry_for(model)
    return [model] if entry is None or entry.id == model else [model, entry.id]


def price_entry_for(*, model: str, at: datetime.datetime | None = None) -> PriceEntry | None:
    """The entry that prices ``model`` at ``at`` (now by default); ``None``: price unknown."""
    day = _utc_date(at or timezone.now())
    for model_id in _ids(model):
        entry = PriceEntry.objects.filter(model=model_id, valid_from__lte=day).order_by("-valid_from").first()
        if entry is not None:
            return entry
    return None


def prices_of(entry: PriceEntry) -> Prices:
    """An entry's rates for ``imageapi.pricing``; an empty rate is one the model does not bill."""
    return Prices(**{name: Decimal(getattr(entry, name) or 0) for name in PriceEntry.RATES})


def cost_usd(*, entry: PriceEntry | None, usage: Usage) -> Decimal | None:
    """What ``usage`` costs at ``entry``'s rates; ``None`` (unknown) without an entry."""
    return None if entry is None else pricing.cost_usd(usage, prices=prices_of(entry))


def estimate_usd(*, model: str, usage: Usage, at: datetime.datetime | None = None) -> Decimal | None:
    """The live estimate: ``usage`` at the price of ``model`` now; ``None`` when it is unknown."""
    return cost_usd(entry=price_entry_for(model=model, at=at), usage=usage)


def current_entries(*, models: Iterable[str]) -> dict[str, PriceEntry | None]:
    """Each of ``models`` with the entry pricing it now (``None``: no current price)."""
    now = timezone.now()
    return {model: price_entry_for(model=model, at=now) for model in dict.fromkeys(models)}


def models_without_price(*, models: Iterable[str]) -> list[str]:
    """Those of ``models`` that nothing prices now: the studio warns staff about them."""
    return [model for model, entry in current_entries(models=models).items() if entry is None]


def with_current_flag(entries: Any) -> Any:
    """A ``PriceEntry`` queryset annotated with ``current_from``: the ``valid_from`` of its model's
    entry in force today (the entry is current when the two are equal)."""
    today = _utc_date(timezone.now())
    in_force = (PriceEntry.objects.filter(model=OuterRef("model"), valid_from__lte=today)
                .order_by("-valid_from").values("valid_from")[:1])
    return entries.annotate(current_from=Subquery(in_force))


# -- the seed ---------------------------------------------------------------------------------


def seed_rows() -> list[dict[str, Any]]:
    """One entry per catalogue model with published rates, current and retired, dated from its
    release (or ``UNDATED_FROM``). Models without published rates (chatgpt-image-latest, DALL·E)
    get none: they are priced unknown until staff add one."""
    rows = []
    for model in catalogue.MODELS:
        prices = pricing.published_prices(model.id)
        if prices is None:
            continue
        rates = {name: getattr(prices, name) for name in PriceEntry.RATES}
        for name, value in (model.prices or {}).items():
            if value is None:  # not billed: stays empty rather than a made-up $0 rate
                rates[name] = None
        note = SEED_NOTE if model.released else f"{SEED_NOTE} Release date unknown: dated {UNDATED_FROM:%Y-%m}."
        rows.append({"model": model.id, "valid_from": model.released or UNDATED_FROM, "note": note, **rates})
    return rows


def price_book_seed(*, entry_model: Any = PriceEntry) -> int:
    """Add the seed entries that are missing (by model and date); entries already there, edited
    by staff or not, are left as they are. Returns how many were added. ``entry_model`` is the
    migration's historical model when a data migration calls it."""
    have = set(entry_model.objects.values_list("model", "valid_from"))
    missing = [row for row in seed_rows() if (row["model"], row["valid_from"]) not in have]
    entry_model.objects.bulk_create([entry_model(**row) for row in missing])
    return len(missing)
