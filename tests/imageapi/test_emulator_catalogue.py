"""Issue 11: the emulator accepts exactly what each catalogue entry accepts."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imageapi import catalogue
from imageapi import params as rules
from imageapi.emulator import Emulator, EmulatorTransport
from imageapi.pricing import output_image_tokens
from tests.contract.schemas import validate_against

from .test_catalogue import ACTIVE, SHUT_DOWN


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(Emulator()), base_url="https://api.openai.com/v1",
                      headers={"Authorization": "Bearer sk-catalogue"}) as client:
        yield client


def png(mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (1024, 1024), (40, 80, 120, 255)[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


CASES: list[tuple[str, dict[str, Any]]] = [
    ("gpt-image-2", {"complexity": "low"}),
    ("gpt-image-2", {"quality": "max"}),
    ("gpt-image-2.5-flare", {"complexity": "high"}),
    ("gpt-image-2.5-flare", {"quality": "xhigh"}),
    ("gpt-image-2.6-flare", {"complexity": "medium", "quality": "max"}),
    ("gpt-image-2.6-flare", {"background": "transparent"}),
    ("gpt-image-2.6-sunburst", {"output_format": "gif", "frame_count": 3}),
    ("gpt-image-2.6-sunburst", {"output_format": "gif", "stream": True}),
    ("gpt-image-2.6-sunburst", {"frame_duration_ms": 100}),
    ("gpt-image-2.5-sunburst", {"background": "transparent", "output_format": "webp"}),
    ("gpt-image-2", {"background": "transparent", "output_format": "jpeg"}),
]


@pytest.mark.parametrize(("model", "fields"), CASES)
def test_the_emulator_answers_what_the_rules_say(api: httpx.Client, model: str, fields: dict[str, Any]) -> None:
    request = {"model": model, "prompt": "a kite", "size": "1024x1024", **fields}
    if "quality" not in fields:
        request["quality"] = "low"
    expected = rules.validate_request(request, endpoint="generations")
    response = api.post("/images/generations", json=request)
    if expected:
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["param"], error["code"], error["message"]) == (
            expected[0].param, expected[0].code, expected[0].message)
    else:
        assert response.status_code == 200, response.text
        body = response.json() if not fields.get("stream") else None
        if body is not None:
            assert body["usage"]["output_tokens"] > 0


@pytest.mark.parametrize("model", sorted(SHUT_DOWN))
@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_shut_down_models_get_openais_400(api: httpx.Client, model: str, endpoint: str) -> None:
    if endpoint == "generations":
        response = api.post("/images/generations", json={"model": model, "prompt": "a kite"})
    else:
        response = api.post("/images/edits", data={"model": model, "prompt": "a kite"},
                            files=[("image", ("in.png", png(), "image/png"))])
    assert response.status_code == 400
    body = response.json()
    validate_against("ErrorResponse", body)
    assert body["error"] == {"message": f"The model '{model}' does not exist.",
                             "type": "image_generation_user_error", "param": "model", "code": "invalid_value"}


@pytest.mark.parametrize("model", ACTIVE)
def test_usage_follows_each_models_token_rule(api: httpx.Client, model: str) -> None:
    body = api.post("/images/generations", json={"model": model, "prompt": "a kite", "size": "1536x1024",
                                                 "quality": "high", "n": 2}).json()
    assert body["usage"]["output_tokens_details"]["image_tokens"] == 2 * output_image_tokens(
        1536, 1024, "high", model=model)


def test_a_transparent_edit_has_transparent_pixels(api: httpx.Client) -> None:
    response = api.post("/images/edits", data={"model": "gpt-image-2.5-flare", "prompt": "a kite",
                                               "background": "transparent", "size": "1024x1024"},
                        files=[("image", ("in.png", png(), "image/png"))])
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["data"][0]["b64_json"])))
    assert image.mode == "RGBA" and image.getchannel("A").getextrema() == (0, 255)


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/gif", "text/plain"])
def test_a_file_part_of_another_type_is_refused(api: httpx.Client, content_type: str) -> None:
    response = api.post("/images/edits", data={"prompt": "a kite"},
                        files=[("image[]", ("in.png", png(), content_type))])
    error = response.json()["error"]
    assert response.status_code == 400
    assert (error["code"], error["param"]) == ("unsupported_file_mimetype", "image")


def test_a_mask_of_another_type_is_refused(api: httpx.Client) -> None:
    response = api.post("/images/edits", data={"prompt": "a kite"},
                        files=[("image", ("in.png", png(), "image/png")),
                               ("mask", ("mask.png", png("RGBA"), "application/octet-stream"))])
    assert (response.status_code, response.json()["error"]["param"]) == (400, "mask")


def test_models_endpoints_need_a_key_and_a_get(api: httpx.Client) -> None:
    assert api.get("/models", headers={"Authorization": ""}).status_code == 401
    assert api.post("/models", json={}).status_code == 405
    listed = api.get("/models").json()
    ids = [item["id"] for item in listed["data"]]
    assert ids == [model_id for entry in catalogue.MODELS for model_id in entry.ids]
    assert api.get("/models/gpt-image-2.6-flare").json()["shutdown_date"] is None
    missing = api.get("/models/gpt-image-99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
