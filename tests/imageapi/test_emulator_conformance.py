"""The emulator against OpenAI's OpenAPI spec: what it accepts and what it answers.

The schemas come from ``tests/contract/openai-images-schemas.json`` (extracted from the
spec by ``scripts/extract_openapi_schemas.py``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError
from PIL import Image

from imageapi import params as rules
from imageapi.emulator import Emulator, EmulatorTransport
from tests.contract.schemas import schema, schema_errors, validate_against

API_BASE = "https://api.openai.com/v1"
PRESET_SIZES = ("1024x1024", "1536x1024", "1024x1536")  # the only sizes the spec enumerates

EVENT_SCHEMAS = {
    "image_generation.partial_image": ("ImageGenPartialImageEvent", "ImageGenStreamEvent"),
    "image_generation.completed": ("ImageGenCompletedEvent", "ImageGenStreamEvent"),
    "image_edit.partial_image": ("ImageEditPartialImageEvent", "ImageEditStreamEvent"),
    "image_edit.completed": ("ImageEditCompletedEvent", "ImageEditStreamEvent"),
}


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=API_BASE,
                      headers={"Authorization": "Bearer sk-conformance"}) as client:
        yield client


def png(width: int = 1024, height: int = 1024, *, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (30, 120, 200, 255)[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


def hole_mask(width: int = 1024, height: int = 1024) -> bytes:
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, width // 2, height // 2))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def generate(api: httpx.Client, **params: Any) -> httpx.Response:
    return api.post("/images/generations",
                    json={"model": "gpt-image-2", "prompt": "A paper boat", **params})


def edit(api: httpx.Client, *, images: int = 1, mask: bool = False, **fields: Any) -> httpx.Response:
    name = "image" if images == 1 else "image[]"
    files = [(name, (f"in-{i}.png", png(), "image/png")) for i in range(images)]
    if mask:
        files.append(("mask", ("mask.png", hole_mask(), "image/png")))
    data = {"model": "gpt-image-2", "prompt": "Add a paper boat", **fields}
    text = {key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in data.items()}
    return api.post("/images/edits", data=text, files=files)


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    frames = [frame for frame in response.text.split("\n\n") if frame]
    events = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}"
        events.append(data)
    return events


def edit_request_instance(record: dict[str, Any]) -> dict[str, Any]:
    """The emulator's record of an edit as a ``CreateImageEditRequest`` instance: the files
    become strings (the spec's ``format: binary``), one or an array as sent."""
    instance = dict(record["params"])
    images = [item["filename"] for item in record["files"] if item["field"] in ("image", "image[]")]
    if images:
        instance["image"] = images[0] if len(images) == 1 else images
    masks = [item["filename"] for item in record["files"] if item["field"] == "mask"]
    if masks:
        instance["mask"] = masks[0]
    return instance


# -- the rules module agrees with the spec ---------------------------------------------------

def _enum(schema_name: str, field: str) -> set[str]:
    return set(schema(schema_name)["properties"][field]["enum"])


@pytest.mark.parametrize(("schema_name", "fields"), [
    ("CreateImageRequest", rules.GENERATION_FIELDS), ("CreateImageEditRequest", rules.EDIT_FIELDS),
])
def test_every_field_the_rules_accept_is_in_the_spec(schema_name: str, fields: frozenset[str]) -> None:
    # The published spec predates 2.6's complexity/GIF fields and images' safety_identifier.
    assert fields - rules.NEWER_FIELDS <= set(schema(schema_name)["properties"])
    assert not rules.NEWER_FIELDS & set(schema(schema_name)["properties"])  # else drop them from NEWER_FIELDS
    assert "response_format" in schema(schema_name)["properties"]  # in the spec, dall-e only


@pytest.mark.parametrize("schema_name", ["CreateImageRequest", "CreateImageEditRequest"])
def test_the_rules_enums_are_the_specs_gpt_image_values(schema_name: str) -> None:
    assert set(rules.QUALITIES) <= _enum(schema_name, "quality")
    assert set(rules.OUTPUT_FORMATS) == _enum(schema_name, "output_format")
    assert set(rules.BACKGROUNDS) == _enum(schema_name, "background")
    n = schema(schema_name)["properties"]["n"]
    assert (n["minimum"], n["maximum"]) == (rules.N_MIN, rules.N_MAX)
    partial = schema("PartialImages")["anyOf"][0]
    assert (partial["minimum"], partial["maximum"]) == (0, rules.PARTIAL_IMAGES_MAX)


def test_moderation_values_match() -> None:
    assert set(rules.MODERATIONS) == _enum("CreateImageRequest", "moderation")


# -- requests the emulator accepts are requests the spec describes --------------------------

@pytest.mark.parametrize("params", [
    {},
    {"size": "1536x1024", "quality": "high", "n": 2},
    {"output_format": "webp", "output_compression": 50, "moderation": "low", "user": "u-1"},
    {"stream": True, "partial_images": 2, "background": "opaque"},
])
def test_accepted_generation_requests_satisfy_create_image_request(
    api: httpx.Client, emulator: Emulator, params: dict[str, Any],
) -> None:
    response = generate(api, **params)
    assert response.status_code == 200
    validate_against("CreateImageRequest", emulator.requests_seen[-1]["params"])


@pytest.mark.parametrize(("images", "mask", "fields"), [
    (1, False, {}),
    (1, True, {"quality": "low", "n": 2}),
    (3, False, {"output_format": "jpeg", "output_compression": 60, "stream": True,
                "partial_images": 1}),
])
def test_accepted_edit_requests_satisfy_create_image_edit_request(
    api: httpx.Client, emulator: Emulator, images: int, mask: bool, fields: dict[str, Any],
) -> None:
    response = edit(api, images=images, mask=mask, **fields)
    assert response.status_code == 200, response.text
    instance = edit_request_instance(emulator.requests_seen[-1])
    assert isinstance(instance.get("n", 1), int)  # typed from the multipart text
    validate_against("CreateImageEditRequest", instance)


@pytest.mark.parametrize("params", [{"n": 11}, {"n": 0}, {"partial_images": 4},
                                    {"output_format": "gif"}, {"quality": "ultra"}])
def test_requests_the_spec_forbids_are_refused_by_the_emulator(
    api: httpx.Client, emulator: Emulator, params: dict[str, Any],
) -> None:
    assert generate(api, **params).status_code == 400
    with pytest.raises(ValidationError):
        validate_against("CreateImageRequest", emulator.requests_seen[-1]["params"])


# -- responses -------------------------------------------------------------------------------

@pytest.mark.parametrize("size", PRESET_SIZES)
@pytest.mark.parametrize(("quality", "output_format"), [("auto", "png"), ("low", "jpeg"),
                                                       ("high", "webp")])
def test_generation_responses_satisfy_images_response(api: httpx.Client, size: str, quality: str,
                                                      output_format: str) -> None:
    body = generate(api, size=size, quality=quality, output_format=output_format).json()
    validate_against("ImagesResponse", body)
    validate_against("ImageGenUsage", body["usage"])


def test_edit_responses_satisfy_images_response(api: httpx.Client) -> None:
    validate_against("ImagesResponse", edit(api, mask=True, n=2).json())


def test_custom_sizes_only_exceed_the_specs_dated_size_enum(api: httpx.Client) -> None:
    """gpt-image-2 answers any valid WxH; the spec's enum still lists three sizes. Every
    other part of such a response must conform."""
    body = generate(api, size="1024x640").json()
    errors = schema_errors("ImagesResponse", body)
    assert [(list(error.path), error.validator) for error in errors] == [(["size"], "enum")]


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_stream_events_satisfy_their_event_schemas(api: httpx.Client, endpoint: str) -> None:
    options = {"stream": True, "partial_images": 3, "n": 2, "quality": "low"}
    response = generate(api, size="1024x1024", **options) if endpoint == "generations" else edit(
        api, **options)
    events = events_of(response)
    assert len(events) == 5
    for event in events:
        member, union = EVENT_SCHEMAS[event["type"]]
        validate_against(member, event)
        validate_against(union, event)


def test_an_event_schema_rejects_an_event_missing_a_field(api: httpx.Client) -> None:
    event = events_of(generate(api, stream=True, size="1024x1024"))[0]
    del event["usage"]
    with pytest.raises(ValidationError):
        validate_against("ImageGenCompletedEvent", event)


def _error_responses(api: httpx.Client) -> Iterator[httpx.Response]:
    yield generate(api, size="1000x1000")
    yield generate(api, response_format="url")
    yield edit(api, images=17)
    yield api.post("/images/generations", content=b"{oops", headers={"content-type": "application/json"})
    yield api.post("/images/nothing", json={})
    yield api.get("/images/edits")
    yield api.post("/images/generations", json={"prompt": "x"}, headers={"authorization": ""})
    yield generate(api, model="gpt-image-99")
    yield api.post("/images/generations", json={"prompt": "x"},
                   headers={"x-emulator-fault": "no_such_fault"})
    for name in ("rate_limit", "server_error", "unavailable", "timeout", "moderation",
                 "unauthorized", "insufficient_quota", "billing_limit"):
        yield api.post("/images/generations", json={"prompt": "x"},
                       headers={"x-emulator-fault": name})


def test_every_error_body_satisfies_error_response(api: httpx.Client) -> None:
    statuses = set()
    for response in _error_responses(api):
        assert response.status_code >= 400
        statuses.add(response.status_code)
        validate_against("ErrorResponse", response.json())
    assert statuses == {400, 401, 404, 405, 408, 429, 500, 503}
