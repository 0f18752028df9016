"""Issue 15: every field's type is checked before its value, and no request, however
malformed, gets a 500 or a body that is not OpenAI's JSON error shape."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imageapi import params as rules
from imageapi.client import ImagesClient, InputFile
from imageapi.emulator import Emulator, EmulatorTransport, handler, pictures
from imageapi.errors import InvalidRequestError
from tests.contract.schemas import validate_against

from .served import serving

AUTH = {"Authorization": "Bearer sk-malformed"}


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="https://api.openai.com/v1",
                      headers=AUTH) as client:
        yield client


@pytest.fixture
def http_api(emulator: Emulator) -> Iterator[httpx.Client]:
    with serving(emulator) as base_url, httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as client:
        yield client


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1024), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def assert_openai_error(response: httpx.Response, status: int, *, type_: str = "invalid_request_error",
                        param: str | None = None, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    validate_against("ErrorResponse", body)
    error = body["error"]
    assert error["type"] == type_
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


# -- the four cases of the issue, over real HTTP ---------------------------------------------

def test_a_list_where_a_string_belongs_is_a_400_naming_the_param(http_api: httpx.Client) -> None:
    response = http_api.post("/images/generations",
                             json={"prompt": "a fox", "output_format": ["png"], "output_compression": 50})
    error = assert_openai_error(response, 400, param="output_format", code="invalid_type")
    assert error["message"] == "Invalid type for 'output_format': expected a string, but got an array instead."


def test_a_100000_deep_body_is_a_400_not_a_crash(http_api: httpx.Client) -> None:
    body = b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = assert_openai_error(http_api.post("/images/generations", content=body,
                                              headers={"content-type": "application/json"}), 400)
    assert "nested too deeply" in error["message"]


@pytest.mark.parametrize("user", [289, ["u-1"], {"id": "u-1"}, False, None])
def test_user_must_be_a_string(http_api: httpx.Client, user: Any) -> None:
    response = http_api.post("/images/generations", json={"prompt": "a fox", "user": user})
    error = assert_openai_error(response, 400, param="user", code="invalid_type")
    assert "expected a string" in error["message"]


@pytest.mark.parametrize(("model", "code"), [(False, "invalid_type"), ("", "empty_string"),
                                             (0, "invalid_type"), (["gpt-image-2"], "invalid_type")])
def test_a_false_or_empty_model_is_a_400_not_the_default(http_api: httpx.Client, model: Any, code: str) -> None:
    response = http_api.post("/images/generations", json={"prompt": "a fox", "model": model})
    assert_openai_error(response, 400, param="model", code=code)


def test_a_null_model_means_the_default_as_the_spec_allows(api: httpx.Client) -> None:
    assert api.post("/images/generations", json={"prompt": "a fox", "model": None,
                                                 "quality": "low", "size": "1024x1024"}).status_code == 200


# -- every field: the type first, then the value ---------------------------------------------

WRONG_TYPES: dict[str, list[Any]] = {
    "string": [1, 2.5, True, [], {}],
    "integer": ["2", 2.5, True, [2], {"n": 2}],
    "boolean": ["true", 1, 0, [], {}],
}


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_every_field_of_the_wrong_type_is_named_with_the_expected_type(endpoint: rules.Endpoint) -> None:
    fields = rules.GENERATION_FIELDS if endpoint == "generations" else rules.EDIT_FIELDS
    checked = 0
    for name in fields:
        kind = rules.FIELD_TYPES[name].kind
        for value in WRONG_TYPES[kind]:
            request = {"prompt": "a fox", name: value}
            errors = rules.validate_request(request, endpoint=endpoint)
            assert [(e.param, e.code) for e in errors] == [(name, "invalid_type")], (name, value, errors)
            assert f"expected {'an integer' if kind == 'integer' else 'a ' + kind}" in errors[0].message
            checked += 1
    assert checked >= 5 * len(fields)


def test_the_message_names_the_type_that_was_sent() -> None:
    def message(value: Any) -> str:
        return rules.validate_request({"prompt": "x", "n": value}, endpoint="generations")[0].message

    assert message("2").endswith("but got a string instead.")
    assert message(2.5).endswith("but got a decimal instead.")
    assert message(True).endswith("but got a boolean instead.")
    assert message([1]).endswith("but got an array instead.")
    assert message({}).endswith("but got an object instead.")


def test_values_are_judged_only_after_the_type_is_right() -> None:
    # A huge integer is in range or not; it never reaches a set lookup as an unhashable value.
    errors = rules.validate_request({"prompt": "x", "n": 10**30, "quality": {"a": 1}}, endpoint="generations")
    assert {(e.param, e.code) for e in errors} == {("n", "integer_out_of_range"), ("quality", "invalid_type")}


def test_a_null_prompt_is_a_type_error_not_a_missing_prompt() -> None:
    errors = rules.validate_request({"prompt": None}, endpoint="generations")
    assert [(e.param, e.code) for e in errors] == [("prompt", "invalid_type")]


def test_a_lone_surrogate_is_refused_not_a_crash(api: httpx.Client) -> None:
    body = b'{"prompt": "a fox \\ud800"}'
    response = api.post("/images/generations", content=body, headers={"content-type": "application/json"})
    assert_openai_error(response, 400, param="prompt", code="invalid_value")


@pytest.mark.parametrize(("field", "text", "expected"), [
    ("n", "two", "an integer"), ("n", "2.0", "an integer"), ("output_compression", "", "an integer"),
    ("partial_images", "1e2", "an integer"), ("stream", "yes", "a boolean"), ("stream", "1", "a boolean"),
])
def test_multipart_fields_are_typed_by_the_same_rules(api: httpx.Client, field: str, text: str,
                                                       expected: str) -> None:
    response = api.post("/images/edits", data={"prompt": "a fox", field: text},
                        files=[("image", ("in.png", png(), "image/png"))])
    error = assert_openai_error(response, 400, param=field, code="invalid_type")
    assert f"expected {expected}" in error["message"]


def test_multipart_text_is_typed_when_it_can_be() -> None:
    assert rules.from_form_text("n", " 3 ") == (3, None)
    assert rules.from_form_text("stream", "True") == (True, None)
    assert rules.from_form_text("user", "42") == ("42", None)


# -- bodies that are not JSON, too deep or too large -----------------------------------------

@pytest.mark.parametrize("body", [
    b"{oops", b"", b"\xff\xfe", b"NaN", b'{"prompt": "x", "n": NaN}', b'{"prompt": "x", "n": Infinity}',
    b"[1, 2]", b'"a fox"', b"null",
])
def test_a_body_that_is_not_a_json_object_is_a_400(api: httpx.Client, body: bytes) -> None:
    response = api.post("/images/generations", content=body, headers={"content-type": "application/json"})
    assert_openai_error(response, 400)


def test_a_moderately_deep_body_is_refused_too(api: httpx.Client) -> None:
    nested: Any = "x"
    for _ in range(handler.MAX_JSON_DEPTH + 1):
        nested = [nested]
    error = assert_openai_error(api.post("/images/generations", json={"prompt": "a", "user": nested}), 400)
    assert "nested too deeply" in error["message"]


def test_a_body_over_the_limit_is_a_400(api: httpx.Client) -> None:
    body = json.dumps({"prompt": "x" * (handler.MAX_JSON_BODY_BYTES + 1)}).encode()
    response = api.post("/images/generations", content=body, headers={"content-type": "application/json"})
    assert_openai_error(response, 400, code="request_too_large")


# -- any unexpected exception is OpenAI's 500, logged ----------------------------------------

def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug in the emulator")


def test_an_unexpected_exception_is_openais_500_body_and_is_logged(
    http_api: httpx.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pictures, "generate_picture", _broken)
    # A prompt no other test drew: the emulator serves a picture it drew before from its cache.
    with caplog.at_level(logging.ERROR, logger="imageapi.emulator.handler"):
        response = http_api.post("/images/generations", json={"prompt": "a fox the emulator never drew",
                                                                "size": "1024x1024"})
    error = assert_openai_error(response, 500, type_="server_error")
    assert error["param"] is None and error["code"] is None
    assert response.headers["x-request-id"].startswith("req_")
    assert any("a bug in the emulator" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_a_failure_mid_stream_ends_with_an_error_event(api: httpx.Client, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pictures, "partial_previews", _broken)
    with caplog.at_level(logging.ERROR, logger="imageapi.emulator.handler"):
        response = api.post("/images/generations", json={
            "prompt": "a fox never drawn mid-stream", "size": "1024x1024", "stream": True,
            "partial_images": 1, "quality": "low"})
    assert response.status_code == 200
    frame = response.text.strip().split("\n\n")[-1]
    event, data = frame.split("\n")
    assert event == "event: error"
    validate_against("ErrorResponse", json.loads(data.removeprefix("data: ")))
    assert caplog.records


# -- the client and the forms follow the same rules ------------------------------------------

def test_the_client_refuses_a_wrong_type_before_any_call(emulator: Emulator) -> None:
    client = ImagesClient(api_key="sk-x", transport=EmulatorTransport(emulator))
    with pytest.raises(InvalidRequestError) as caught:
        client.generate(prompt="a fox", user=289)
    with pytest.raises(InvalidRequestError) as caught_edit:
        client.edit(images=[InputFile("in.png", png())], prompt="a fox", n="2")
    client.close()
    assert (caught.value.param, caught.value.code) == ("user", "invalid_type")
    assert (caught_edit.value.param, caught_edit.value.code) == ("n", "invalid_type")
    assert emulator.requests_seen == []


@pytest.mark.django_db
def test_the_studio_form_reports_a_bad_model_through_the_same_rules(alice) -> None:
    from studio.forms import GenerateForm
    from teams.models import Space

    spaces = list(Space.objects.filter(memberships__user=alice)) or list(Space.objects.all())
    form = GenerateForm(data={"prompt": "a fox", "n": 1}, model="", destinations=spaces)
    assert not form.is_valid()
    assert form.errors["model"] == ["Invalid value for 'model': it must not be empty."]


def test_an_integral_decimal_is_an_integer_as_json_schema_says(api: httpx.Client) -> None:
    assert rules.validate_request({"prompt": "x", "n": 2.0}, endpoint="generations") == []
    response = api.post("/images/generations", json={"prompt": "a fox", "n": 2.0, "size": "1024x1024",
                                                     "quality": "low"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
