"""``manage.py models`` lists the catalogue with each model's current price from the price book;
``manage.py models check`` compares the catalogue with the configured upstream's ``GET /v1/models``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from imageapi import catalogue
from studio.models import PriceEntry
from studio.pricebook import current_entries


def upstream_transport() -> httpx.BaseTransport | None:
    """The emulator in offline mode; the network (httpx's default) otherwise."""
    if settings.STUDIO_PROVIDER == "offline":
        from imageapi.emulator import Emulator, EmulatorTransport

        return EmulatorTransport(Emulator())
    return None


def fetch_upstream_models() -> list[dict[str, Any]]:
    offline = settings.STUDIO_PROVIDER == "offline"
    key = "offline-emulator" if offline else settings.OPENAI_API_KEY
    base_url = "https://emulator.invalid/v1" if offline else settings.OPENAI_BASE_URL
    try:
        with httpx.Client(base_url=base_url.rstrip("/") + "/", transport=upstream_transport(),
                          headers={"Authorization": f"Bearer {key}"},
                          timeout=httpx.Timeout(30, connect=settings.STUDIO_CONNECT_TIMEOUT)) as client:
            response = client.get("models")
    except httpx.HTTPError as exc:  # the message names the host, never the key
        raise CommandError(f"Could not reach {base_url}/models ({type(exc).__name__}).") from exc
    if response.status_code != 200:
        raise CommandError(f"{base_url}/models answered HTTP {response.status_code}.")
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"{base_url}/models did not answer a model list.") from exc
    if not isinstance(data, list):
        raise CommandError(f"{base_url}/models did not answer a model list.")
    return data


def price_words(entry: PriceEntry | None) -> str:
    """An entry's rates in USD per 1M tokens, or why there are none."""
    if entry is None:
        return "unknown (no entry in the price book; add one in the admin)"
    rates = ", ".join(f"{PriceEntry._meta.get_field(name).verbose_name} ${value}"
                      for name in PriceEntry.RATES if (value := getattr(entry, name)) is not None)
    return f"{rates} per 1M tokens (since {entry.valid_from:%Y-%m-%d})"


class Command(BaseCommand):
    help = "List the model catalogue, or (`models check`) compare it with the upstream's GET /v1/models."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", nargs="?", choices=["list", "check"], default="list")

    def handle(self, *, action: str, **options: object) -> None:
        if action == "check":
            self.check_upstream()
        else:
            self.list_models()

    def list_models(self) -> None:
        offered = set(settings.STUDIO_MODELS)
        prices = current_entries(models=[entry.id for entry in catalogue.MODELS])
        for entry in catalogue.MODELS:
            marks = []
            if entry.id == settings.STUDIO_MODEL:
                marks.append("default")
            if entry.id in offered:
                marks.append("offered")
            status = (f"shut down {entry.shutdown_date:%Y-%m-%d}, use {entry.replacement}"
                      if entry.is_shut_down else "active")
            self.stdout.write(f"{entry.id}  [{status}]" + (f"  ({', '.join(marks)})" if marks else ""))
            if entry.snapshots:
                self.stdout.write(f"    snapshots: {', '.join(entry.snapshots)}")
            self.stdout.write(f"    price: {price_words(prices[entry.id])}")
            if entry.is_shut_down:
                continue
            self.stdout.write(f"    quality: {', '.join(entry.accepted_qualities)}")
            if entry.complexity:
                self.stdout.write(f"    complexity: {', '.join(entry.complexity)} (default {entry.complexity_default})")
            self.stdout.write(f"    formats: {', '.join(entry.output_formats)}; transparency: {entry.transparency}")
            rule = entry.token_rule
            if rule is not None:
                tokens = "exact" if rule.is_exact else f"approximate: {rule.reason}"
                self.stdout.write(f"    output tokens: {tokens}")
            if entry.images_per_minute:
                tiers = ", ".join(f"tier {tier}: {count}" for tier, count in sorted(entry.images_per_minute.items()))
                self.stdout.write(f"    images/min: {tiers}")
            if entry.not_offered:
                self.stdout.write(f"    not offered: {', '.join(entry.not_offered)}")

    def check_upstream(self) -> None:
        report = catalogue.compare_with_upstream(fetch_upstream_models())
        source = "the offline emulator" if settings.STUDIO_PROVIDER == "offline" else settings.OPENAI_BASE_URL
        for model_id, date in report.shut_down:
            self.stdout.write(f"SHUT DOWN upstream: {model_id} (shutdown_date {date}); the catalogue calls it active.")
        for model_id in report.missing:
            self.stdout.write(f"MISSING upstream: {model_id} is active in the catalogue but not listed.")
        for model_id in report.unknown:
            self.stdout.write(f"UNKNOWN: {model_id} is listed upstream but not in the catalogue.")
        if not report.ok:
            raise CommandError(f"The catalogue and {source} disagree (see above).")
        self.stdout.write(f"The catalogue agrees with {source}.")
