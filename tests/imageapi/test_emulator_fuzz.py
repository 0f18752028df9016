"""Property-based: schemathesis drives the emulator, served over HTTP, with OpenAI's own
spec of the images operations (``tests/contract/openai-images-operations.json``, extracted
by ``scripts/extract_openapi_operations.py``).

Asserted for every generated request: no 5xx; the status, content type and body match the
spec's schemas; a request valid by the (patched) spec is accepted; a request that breaks it
is refused with a 4xx. ``make test`` runs a few seconds' worth; ``make fuzz`` runs long
(``STUDIO_FUZZ=1``, with ``STUDIO_FUZZ_EXAMPLES`` examples per operation and mode).
"""

from __future__ import annotations

import copy
import io
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from imageapi import params as rules
from imageapi.emulator import Emulator

from .served import serving

OPERATIONS_FILE = Path(__file__).resolve().parent.parent / "contract" / "openai-images-operations.json"
LONG_RUN = os.environ.get("STUDIO_FUZZ") == "1"
EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "400")) if LONG_RUN else 25
AUTH = {"Authorization": "Bearer sk-fuzz"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection, positive_data_acceptance]

# Models the emulator serves. The spec's `model` is "any string" plus an enum that still
# lists dall-e and retired GPT image models, which a real call refuses too.
SERVED_MODELS = sorted(rules.GPT_IMAGE_2_MODELS)
# The spec's size enum is stale (dall-e sizes, none of gpt-image-2's custom sizes) and its
# "any string" branch admits nonsense; gpt-image-2's WxH rules are not expressible in JSON
# Schema (tests/imageapi/test_params.py covers them), so valid requests use the presets.
SIZES = [value for value, _ in rules.SIZE_PRESETS]
# The quick run keeps each accepted request cheap to draw (no 4K, at most two images);
# the long run covers the full ranges.
QUICK_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"]
QUICK_N_MAX = 2


def _gpt_image_request(schema: dict[str, Any], *, bounded: bool) -> None:
    """Patch a request schema from "any model the API ever had" to what gpt-image-2 (the
    default) accepts; other models' rules are tested in test_catalogue.py."""
    props = schema["properties"]
    for dalle_only in ("response_format", "style"):  # dall-e only; a GPT image model answers "Unknown parameter"
        props.pop(dalle_only, None)
    # gpt-image-2 refuses input_fidelity (400 invalid_input_fidelity_model): always high fidelity.
    props.pop("input_fidelity", None)
    # Unknown parameters are a 400 at OpenAI; the spec leaves additionalProperties open.
    schema["additionalProperties"] = False
    props["model"] = {"type": "string", "enum": SERVED_MODELS, "nullable": True}
    props["size"] = {"type": "string", "enum": QUICK_SIZES if bounded else SIZES, "nullable": True}
    # "standard" and "hd" are dall-e qualities.
    props["quality"] = {"type": "string", "enum": list(rules.QUALITIES), "nullable": True}
    # The spec states 1–32,000 characters in prose only. (A blank prompt is refused too, but
    # a `pattern` saying so makes schemathesis' generation ten times slower: see below.)
    props["prompt"] = {"type": "string", "minLength": 1, "maxLength": rules.PROMPT_MAX_CHARS}
    # "0-100%" in prose only.
    props["output_compression"] = {"type": "integer", "minimum": rules.COMPRESSION_MIN,
                                   "maximum": rules.COMPRESSION_MAX, "nullable": True}
    if bounded:
        props["n"] = {**props["n"], "maximum": QUICK_N_MAX}


@cache
def _operations() -> dict[str, Any]:
    return json.loads(OPERATIONS_FILE.read_text(encoding="utf-8"))


def patched_spec(*, bounded: bool) -> dict[str, Any]:
    spec = copy.deepcopy(_operations())
    schemas = spec["components"]["schemas"]
    _gpt_image_request(schemas["CreateImageRequest"], bounded=bounded)
    _gpt_image_request(schemas["CreateImageEditRequest"], bounded=bounded)
    # The edit's JSON form takes image URLs or file ids, which an offline emulator cannot
    # fetch; the SDKs send multipart/form-data.
    edit_content = spec["paths"]["/images/edits"]["post"]["requestBody"]["content"]
    edit_content.pop("application/json")
    # OpenAI refuses a file part whose declared type is not png/jpeg/webp (e.g. octet-stream);
    # the spec does not say so, so declare the parts' type as an OpenAPI `encoding`.
    edit_content["multipart/form-data"]["encoding"] = {
        "image": {"contentType": "image/png"}, "mask": {"contentType": "image/png"}}
    # The spec documents only the 200s; every error is the ErrorResponse shape (400 for a bad
    # parameter). No 5xx is documented, so a 5xx also fails status_code_conformance.
    error = {"description": "Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for path in spec["paths"].values():
        path["post"]["responses"]["4XX"] = error
    # The spec gives each event's JSON `data` as the event-stream schema; schemathesis reads
    # a stream's schema as the whole SSE event (OpenAPI 3.2's itemSchema): say it that way.
    for path, event in (("/images/generations", "ImageGenStreamEvent"), ("/images/edits", "ImageEditStreamEvent")):
        stream = spec["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]
        del stream["schema"]
        stream["itemSchema"] = {"type": "object", "required": ["event", "data"], "properties": {
            "event": {"type": "string"},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": {"$ref": f"#/components/schemas/{event}"}}}}
    # The response's size enum lists three sizes; gpt-image-2 answers any valid WxH.
    schemas["ImagesResponse"]["properties"]["size"] = {"type": "string", "pattern": r"^[0-9]+x[0-9]+$"}
    return spec


def png(width: int = 1024, height: int = 1024, *, alpha: bool = False) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA" if alpha else "RGB", (width, height), (40, 90, 160, 0) if alpha else (40, 90, 160)).save(
        buffer, "PNG")
    return buffer.getvalue()


def make_valid_where_json_schema_cannot_say(case: schemathesis.Case) -> None:
    """Cross-field rules and file contents that a JSON Schema cannot state: applied to the
    positive cases only, so they are valid requests in full."""
    body = case.body
    if not isinstance(body, dict):
        return
    if case.media_type == "multipart/form-data":
        # A form has no null: SDKs leave such a field out (schemathesis would send "null").
        for name in [name for name, value in body.items() if value is None]:
            del body[name]
    if isinstance(body.get("prompt"), str) and not body["prompt"].strip():
        body["prompt"] += "a fox"  # a blank prompt is refused
    if body.get("background") == "transparent" and body.get("output_format") not in rules.TRANSPARENT_FORMATS:
        body["output_format"] = "png"  # transparency needs an alpha channel (the spec says so in prose)
    if body.get("output_format") not in rules.COMPRESSIBLE_FORMATS:
        body.pop("output_compression", None)  # compression applies to jpeg and webp only
    if "image" in body:  # `format: binary` is any bytes; the API wants real images
        count = len(body["image"]) if isinstance(body["image"], list) else 1
        body["image"] = [png()] * count if isinstance(body["image"], list) else png()
        if count == 0:
            body["image"] = png()
    if "mask" in body:
        body["mask"] = png(alpha=True)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(Emulator()) as url:
        yield url


def _run(base_url: str, operation: str, mode: GenerationMode) -> None:
    bounded = mode == GenerationMode.POSITIVE and not LONG_RUN
    schema = schemathesis.openapi.from_dict(patched_spec(bounded=bounded))
    strategy = schema[operation]["POST"].as_strategy(generation_mode=mode)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG_RUN,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        if mode == GenerationMode.POSITIVE:
            make_valid_where_json_schema_cannot_say(case)
        case.call_and_validate(base_url=base_url, headers=AUTH, checks=CHECKS, timeout=60)

    check()


@pytest.mark.parametrize("operation", ["/images/generations", "/images/edits"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_emulator_keeps_openais_contract_for_generated_requests(base_url: str, operation: str,
                                                                     mode: GenerationMode) -> None:
    _run(base_url, operation, mode)
