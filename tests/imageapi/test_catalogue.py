"""Issue 11 (imageapi side): one catalogue of every GPT image model; each request is judged,
priced and answered by its model's entry."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from imageapi import catalogue, pricing
from imageapi import params as rules
from imageapi.pricing import Usage, cost_usd, estimate_output_tokens, output_image_tokens

ACTIVE = ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.6-flare",
          "gpt-image-2.6-sunburst"]
SHUT_DOWN = {"gpt-image-1.5": "2026-12-01", "gpt-image-1-mini": "2026-12-01", "chatgpt-image-latest": "2026-12-01",
             "gpt-image-1": "2026-10-23", "dall-e-2": "2026-05-12", "dall-e-3": "2026-05-12"}


def errors(model: str, endpoint: rules.Endpoint = "generations", **fields: Any) -> dict[str, rules.ParamError]:
    request = {"model": model, "prompt": "a lighthouse", **fields}
    return {error.param: error for error in rules.validate_request(request, endpoint=endpoint)}


# -- the catalogue holds the reference's facts ------------------------------------------------

def test_every_model_of_the_reference_is_in_the_catalogue_with_its_status() -> None:
    assert [entry.id for entry in catalogue.active_models()] == ACTIVE
    for model, date in SHUT_DOWN.items():
        entry = catalogue.entry_for(model)
        assert entry is not None and entry.is_shut_down
        assert entry.shutdown_date == datetime.date.fromisoformat(date)
        assert entry.replacement in ACTIVE
    assert catalogue.DEFAULT_MODEL == rules.DEFAULT_MODEL == "gpt-image-2"


def test_snapshots_resolve_to_their_model() -> None:
    assert catalogue.entry_for("gpt-image-2.5-flare-2026-09-08").id == "gpt-image-2.5-flare"
    assert catalogue.entry_for("gpt-image-1.5-2025-12-16").is_shut_down
    assert rules.resolve_snapshot("gpt-image-2") == "gpt-image-2-2026-04-21"
    assert catalogue.entry_for("gpt-image-9") is None


def test_each_entry_records_what_the_reference_says() -> None:
    two, flare25, flare26 = (catalogue.entry_for(m) for m in ("gpt-image-2", "gpt-image-2.5-flare",
                                                             "gpt-image-2.6-flare"))
    assert two.transparency == "preview" and flare25.transparency == "yes" and flare26.transparency == "no"
    assert flare25.qualities == ("low", "medium", "high", "xhigh", "max")
    assert (flare26.complexity, flare26.complexity_default) == (("low", "medium", "high"), "high")
    assert "gif" in flare26.output_formats and "gif" not in two.output_formats
    assert {"svg", "markup"} <= set(flare26.not_offered)  # recorded, not offered
    assert "svg" not in flare26.output_formats
    assert two.images_per_minute == {1: 5, 2: 20, 3: 50, 4: 150, 5: 250}
    assert flare25.images_per_minute == two.images_per_minute and flare26.images_per_minute is None
    assert two.token_rule.is_exact and flare25.token_rule.is_exact
    assert not flare26.token_rule.is_exact and "no formula" in flare26.token_rule.reason
    assert all(not catalogue.entry_for(m).input_fidelity for m in ACTIVE)


# -- params follow each model's entry ---------------------------------------------------------

@pytest.mark.parametrize(("model", "fields"), [
    ("gpt-image-2", {"quality": "high", "background": "transparent"}),
    ("gpt-image-2-2026-04-21", {"size": "3840x2160"}),
    ("gpt-image-2.5-flare", {"quality": "xhigh", "background": "transparent", "output_format": "webp"}),
    ("gpt-image-2.5-sunburst", {"quality": "max", "size": "2160x3840"}),
    ("gpt-image-2.6-flare", {"complexity": "low", "quality": "max"}),
    ("gpt-image-2.6-sunburst", {"output_format": "gif", "frame_count": 16, "frame_duration_ms": 20}),
    ("gpt-image-2.6-flare", {"output_format": "gif"}),
    ("gpt-image-2.6-flare", {"safety_identifier": "3f2a9c"}),
    ("gpt-image-9-preview", {"quality": "high"}),  # unknown: the default's rules; the API says if it exists
])
def test_the_rules_accept(model: str, fields: dict[str, Any]) -> None:
    assert errors(model, **fields) == {}


@pytest.mark.parametrize(("model", "fields", "param", "code"), [
    ("gpt-image-2", {"complexity": "low"}, "complexity", "unsupported_parameter"),
    ("gpt-image-2.5-flare", {"complexity": "low"}, "complexity", "unsupported_parameter"),
    ("gpt-image-2", {"quality": "xhigh"}, "quality", "invalid_value"),
    ("gpt-image-2", {"output_format": "gif"}, "output_format", "invalid_value"),
    ("gpt-image-2.6-flare", {"output_format": "svg"}, "output_format", "invalid_value"),
    ("gpt-image-2.6-flare", {"complexity": "extreme"}, "complexity", "invalid_value"),
    ("gpt-image-2.6-flare", {"background": "transparent"}, "background", "unsupported_value"),
    ("gpt-image-2.5-flare", {"background": "transparent", "output_format": "jpeg"}, "background",
     "unsupported_value"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_count": 1}, "frame_count", "integer_out_of_range"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_count": 17}, "frame_count", "integer_out_of_range"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_duration_ms": 19}, "frame_duration_ms",
     "integer_out_of_range"),
    ("gpt-image-2.6-flare", {"frame_count": 4}, "frame_count", "unsupported_parameter"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "stream": True}, "stream", "unsupported_value"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "partial_images": 2}, "partial_images", "unsupported_value"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "output_compression": 50}, "output_compression",
     "invalid_value"),
    ("gpt-image-2.5-flare", {"safety_identifier": 42}, "safety_identifier", "invalid_type"),
])
def test_the_rules_reject_naming_the_param(model: str, fields: dict[str, Any], param: str, code: str) -> None:
    found = errors(model, **fields)
    assert param in found, found
    assert found[param].code == code


@pytest.mark.parametrize("model", ACTIVE)
def test_input_fidelity_is_refused_by_every_2x_model(model: str) -> None:
    assert errors(model, "edits", input_fidelity="high")["input_fidelity"].code == "invalid_input_fidelity_model"


@pytest.mark.parametrize("model", ACTIVE)
def test_every_active_model_takes_the_shared_options(model: str) -> None:
    assert errors(model, n=10, size="1536x1024", quality="high", output_format="jpeg", output_compression=60,
                  moderation="low", stream=True, partial_images=3, user="u-1", safety_identifier="abc") == {}
    assert "size" in errors(model, size="1000x1000")


@pytest.mark.parametrize(("model", "replacement"), [
    ("gpt-image-1", "gpt-image-2"), ("gpt-image-1.5", "gpt-image-2.6-sunburst"),
    ("gpt-image-1.5-2025-12-16", "gpt-image-2.6-sunburst"), ("gpt-image-1-mini", "gpt-image-2.6-flare"),
    ("dall-e-3", "gpt-image-2"),
])
def test_shut_down_models_are_refused_with_the_date_and_what_to_use(model: str, replacement: str) -> None:
    found = rules.validate_request({"model": model, "prompt": "x", "quality": "ultra"}, endpoint="generations")
    assert [(error.param, error.code) for error in found] == [("model", "model_shut_down")]
    assert found[0].message.startswith(f"{model} was shut down on 20")
    assert found[0].message.endswith(f"; use {replacement}.")


def test_gpt_image_1_says_exactly_when() -> None:
    assert errors("gpt-image-1")["model"].message == "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2."


def test_a_gif_edit_takes_no_mask() -> None:
    info = rules.ImageInfo(format="png", width=1024, height=1024, has_alpha=True, byte_size=10)
    found = rules.validate_edit_inputs([info], info, output_format="gif")
    assert [(e.param, e.code) for e in found] == [("mask", "unsupported_parameter")]


@pytest.mark.parametrize(("content_type", "ok"), [
    ("image/png", True), ("image/jpeg", True), ("IMAGE/WEBP; charset=binary", True),
    ("application/octet-stream", False), ("image/gif", False), (None, False), ("text/plain", False),
])
def test_only_png_jpeg_and_webp_file_types_are_taken(content_type: str | None, ok: bool) -> None:
    error = rules.validate_content_type("image", content_type)
    assert (error is None) == ok
    if error:
        assert error.code == "unsupported_file_mimetype" and error.param == "image"


# -- prices and token rules, per model ---------------------------------------------------------

@pytest.mark.parametrize(("size", "expected"), [
    ((1024, 1024), (196, 439, 1756, 3122, 7024)),
    ((3840, 2160), (371, 865, 3336, 5930, 13342)),
])
@pytest.mark.parametrize("model", ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare-2026-09-08"])
def test_the_2_5_token_vectors(model: str, size: tuple[int, int], expected: tuple[int, ...]) -> None:
    qualities = ("low", "medium", "high", "xhigh", "max")
    got = tuple(output_image_tokens(*size, quality, model=model) for quality in qualities)
    assert got == expected


def test_gpt_image_2_keeps_its_own_grid() -> None:
    assert [output_image_tokens(1024, 1024, q) for q in ("low", "medium", "high")] == [196, 1756, 7024]
    assert output_image_tokens(1024, 1024, "medium", model="gpt-image-2-2026-04-21") == 1756


def test_2_6_is_approximate_and_near_the_measurements() -> None:
    assert not pricing.tokens_are_exact("gpt-image-2.6-flare")
    assert pricing.tokens_are_exact("gpt-image-2.5-flare") and pricing.tokens_are_exact("gpt-image-2")
    low = output_image_tokens(1536, 1024, "low", model="gpt-image-2.6-flare")
    high = output_image_tokens(1536, 1024, "high", model="gpt-image-2.6-sunburst")
    assert abs(low - 664) <= 664 * 0.05 and abs(high - 1353) <= 1353 * 0.05


def test_estimates_use_the_models_rule() -> None:
    assert estimate_output_tokens(size="1024x1024", quality="xhigh", model="gpt-image-2.5-flare") == 3122
    assert estimate_output_tokens(size="auto", quality="auto", model="gpt-image-2.5-flare") == 439
    assert estimate_output_tokens(size="1024x1024", quality="high", n=2, partial_images=1) == 2 * 7024 + 100


@pytest.mark.parametrize(("model", "image_output", "text_output"), [
    ("gpt-image-2", "30.00", "0"), ("gpt-image-2.5-sunburst", "30.00", "0"), ("gpt-image-2.6-flare", "30.00", "0"),
    ("gpt-image-1.5", "32.00", "10.00"), ("gpt-image-1-mini", "8.00", "0"), ("gpt-image-1", "40.00", "0"),
])
def test_each_model_publishes_its_own_rates(model: str, image_output: str, text_output: str) -> None:
    usage = Usage(image_output=1_000_000, text_output=1_000_000)
    prices = pricing.published_prices(model)
    assert prices is not None
    assert cost_usd(usage, prices=prices) == Decimal(image_output) + Decimal(text_output)


def test_a_model_without_published_rates_has_none_rather_than_another_models() -> None:
    assert pricing.published_prices("chatgpt-image-latest") is None
    assert pricing.published_prices("gpt-image-9") is None


def test_the_worked_example_still_holds() -> None:
    prices = pricing.published_prices("gpt-image-2")
    assert cost_usd(Usage(text_input=50, image_output=7024), prices=prices) == Decimal("0.21097")


# -- the client and the studio's forms refuse before any call ---------------------------------

def test_the_client_refuses_a_shut_down_model_before_any_call() -> None:
    from imageapi.client import ImagesClient
    from imageapi.emulator import Emulator, EmulatorTransport
    from imageapi.errors import InvalidRequestError

    emulator = Emulator()
    client = ImagesClient(api_key="sk-x", transport=EmulatorTransport(emulator))
    with pytest.raises(InvalidRequestError) as caught:
        client.generate(model="gpt-image-1", prompt="a kite")
    with pytest.raises(InvalidRequestError) as complexity:
        client.generate(model="gpt-image-2", prompt="a kite", complexity="low")
    client.close()
    assert str(caught.value) == "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2."
    assert complexity.value.param == "complexity"
    assert emulator.requests_seen == []


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "fields", "field", "words"), [
    ("gpt-image-1", {}, "model", "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2."),
    ("gpt-image-2.6-flare", {"background": "transparent"}, "background", "not supported"),
    ("gpt-image-2.5-flare", {"background": "transparent", "output_format": "jpeg"}, "background", "png or webp"),
])
def test_the_studio_form_follows_the_catalogue(alice, model: str, fields: dict[str, Any], field: str | None,
                                               words: str) -> None:
    from studio.forms import GenerateForm
    from teams.models import Space

    spaces = list(Space.objects.all())
    form = GenerateForm(data={"prompt": "a kite", "n": 1, **fields}, model=model, destinations=spaces)
    assert not form.is_valid()
    messages = form.non_field_errors() if field is None else form.errors[field]
    assert any(words in message for message in messages), form.errors


@pytest.mark.django_db
def test_the_studio_form_takes_transparency_on_gpt_image_2(alice) -> None:
    from studio.forms import GenerateForm
    from teams.models import Space

    form = GenerateForm(data={"prompt": "a kite", "n": 1, "background": "transparent"}, model="gpt-image-2",
                        destinations=list(Space.objects.all()))
    assert form.is_valid(), form.errors
    assert form.api_request["background"] == "transparent"
