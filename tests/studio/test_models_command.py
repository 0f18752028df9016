"""Issue 11: STUDIO_MODEL / STUDIO_MODELS are checked against the catalogue at start-up;
``manage.py models`` lists the catalogue and ``models check`` compares it with the upstream."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from studio.management.commands import models as models_command
from studio.models import PriceEntry

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT = ("from django.conf import settings as s; import json; "
          "print(json.dumps([s.STUDIO_MODEL, s.STUDIO_MODELS]))")


def start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("STUDIO_", "OPENAI_")) and name != "DEBUG"}
    environment |= {"DJANGO_SETTINGS_MODULE": "studio.settings", **env}
    return subprocess.run([sys.executable, "-c", REPORT], cwd=REPO_ROOT, env=environment,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("env", "variable", "words"), [
    ({"STUDIO_MODEL": "gpt-image-1"}, "STUDIO_MODEL", "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2"),
    ({"STUDIO_MODEL": "gpt-image-3"}, "STUDIO_MODEL", "not in the catalogue"),
    ({"STUDIO_MODELS": "gpt-image-2.5-flare, gpt-image-1.5"}, "STUDIO_MODELS", "gpt-image-1.5 was shut down"),
])
def test_a_model_the_catalogue_cannot_offer_stops_start_up(env: dict[str, str], variable: str, words: str) -> None:
    outcome = start(**env)
    assert outcome.returncode != 0
    last = outcome.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:") and variable in last and words in last


def test_the_default_and_the_offered_models() -> None:
    every_active = ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.6-flare",
                    "gpt-image-2.6-sunburst"]
    assert json.loads(start().stdout) == ["gpt-image-2", every_active]
    # A snapshot as the default stands for its model: offered once, first.
    pinned = json.loads(start(STUDIO_MODEL="gpt-image-2.5-flare-2026-09-08").stdout)
    assert pinned == ["gpt-image-2.5-flare-2026-09-08", ["gpt-image-2.5-flare-2026-09-08", "gpt-image-2",
                                                         *every_active[2:]]]
    outcome = start(STUDIO_MODEL="gpt-image-2.5-flare-2026-09-08", STUDIO_MODELS="gpt-image-2.6-flare,gpt-image-2")
    assert outcome.stdout.strip() == (
        '["gpt-image-2.5-flare-2026-09-08", ["gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-flare", "gpt-image-2"]]')


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("models", *args, stdout=out)
    return out.getvalue()


def test_models_lists_the_catalogue(settings: Any, db: None) -> None:
    settings.STUDIO_MODELS = ["gpt-image-2", "gpt-image-2.6-flare"]
    listing = run()
    assert "gpt-image-2  [active]  (default, offered)" in listing
    assert "gpt-image-2.6-flare  [active]  (offered)" in listing
    assert "gpt-image-1  [shut down 2026-10-23, use gpt-image-2]" in listing
    assert "complexity: low, medium, high (default high)" in listing
    assert "output tokens: approximate: OpenAI publishes no formula" in listing
    assert "price: unknown" not in listing.split("chatgpt-image-latest")[0]


def test_models_shows_the_price_book(db: None) -> None:
    """The prices come from the price book (the entry in force today), not from the catalogue."""
    listing = run()
    assert ("price: text in $5.0000, cached text in $1.2500, image in $8.0000, cached image in $2.0000, "
            "image out $30.0000 per 1M tokens (since 2026-04-21)") in listing
    assert "text out $10.0000" in listing.split("gpt-image-1.5  ")[1].split("gpt-image-1-mini")[0]
    assert "price: unknown (no entry in the price book" in listing.split("chatgpt-image-latest")[1]
    PriceEntry.objects.create(model="gpt-image-2", valid_from=timezone.now().date(), image_output=Decimal("25"))
    assert "price: image out $25.0000 per 1M tokens (since" in run().split("gpt-image-2.5")[0]


def test_models_check_agrees_with_the_offline_emulator() -> None:
    assert "The catalogue agrees with the offline emulator." in run("check")


def test_models_check_reports_every_difference(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.STUDIO_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-check-SECRET"
    settings.OPENAI_BASE_URL = "https://gateway.example.com/v1"
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [
            {"id": "gpt-image-2", "shutdown_date": "2027-02-10"},
            {"id": "gpt-image-2.5-flare", "shutdown_date": None},
            {"id": "gpt-image-2.5-sunburst"}, {"id": "gpt-image-2.6-sunburst"},
            {"id": "gpt-image-3-preview"}, {"id": "gpt-4o"},
        ]})

    monkeypatch.setattr(models_command, "upstream_transport", lambda: httpx.MockTransport(upstream))
    out = io.StringIO()
    with pytest.raises(CommandError, match="disagree"):
        call_command("models", "check", stdout=out)
    report = out.getvalue()
    assert "SHUT DOWN upstream: gpt-image-2 (shutdown_date 2027-02-10)" in report
    assert "MISSING upstream: gpt-image-2.6-flare" in report
    assert "UNKNOWN: gpt-image-3-preview" in report and "gpt-4o" not in report
    assert str(seen[0].url) == "https://gateway.example.com/v1/models"
    assert seen[0].headers["authorization"] == "Bearer sk-check-SECRET"
    assert "SECRET" not in report


def test_models_check_says_when_the_upstream_cannot_be_read(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.STUDIO_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-check-SECRET"

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(models_command, "upstream_transport", lambda: httpx.MockTransport(refused))
    with pytest.raises(CommandError, match="Could not reach") as caught:
        call_command("models", "check")
    assert "SECRET" not in str(caught.value)
    monkeypatch.setattr(models_command, "upstream_transport",
                        lambda: httpx.MockTransport(lambda request: httpx.Response(401, json={})))
    with pytest.raises(CommandError, match="HTTP 401"):
        call_command("models", "check")
