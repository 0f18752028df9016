"""``ImagesClient`` on the wire details of issues 9 and 10: SSE ``error`` events typed as the
HTTP errors they stand for, the image format judged by the bytes, and the connection pool."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imageapi.client import DEFAULT_MAX_CONNECTIONS, ImageResult, ImagesClient, PartialImage
from imageapi.errors import (
    AuthenticationError,
    ImageAPIError,
    InvalidRequestError,
    MalformedResponseError,
    ModerationBlockedError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    error_from_event,
)
from imageapi.images import sniff_format
from tests.factories import make_png

from .test_client import Script

API_KEY = "sk-test-wire"
PROMPT = "A kite over the dunes"


def encoded(fmt: str, size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt.upper())
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sse(*events: dict[str, Any], event_names: tuple[str, ...] = ()) -> bytes:
    frames = []
    for position, event in enumerate(events):
        name = event_names[position] if position < len(event_names) else event.get("type", "error")
        frames.append(f"event: {name}\ndata: {json.dumps(event)}\n\n")
    return "".join(frames).encode()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def scripted(sleeps: list[float]) -> Iterator[Callable[[Script], ImagesClient]]:
    made: list[ImagesClient] = []

    def make(script: Script) -> ImagesClient:
        client = ImagesClient(api_key=API_KEY, transport=httpx.MockTransport(script), sleep=sleeps.append)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def stream_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream", "x-request-id": "req_s"})


def completed_event(**overrides: Any) -> dict[str, Any]:
    return {"type": "image_generation.completed", "b64_json": b64(make_png(16, 16)), "size": "1024x1024",
            "quality": "low", "background": "opaque", "output_format": "png",
            "usage": {"input_tokens": 4, "output_tokens": 196, "total_tokens": 200}, **overrides}


def partial_event(index: int = 0, **overrides: Any) -> dict[str, Any]:
    return {"type": "image_generation.partial_image", "b64_json": b64(make_png(16, 16)),
            "partial_image_index": index, "output_format": "png", **overrides}


# -- SSE error events ------------------------------------------------------------------------

ERROR_EVENTS = [
    # (the error object, the class it must become, its equivalent HTTP status)
    ({"type": "server_error", "code": None, "message": "The server had an error."}, ServerError, 500),
    ({"type": "server_error", "code": "server_error", "message": "Oops."}, ServerError, 500),
    ({"type": "requests", "code": "rate_limit_exceeded", "message": "Slow down."}, RateLimitError, 429),
    ({"type": "insufficient_quota", "code": "insufficient_quota", "message": "Quota."}, QuotaExceededError, 429),
    ({"type": "invalid_request_error", "code": "billing_hard_limit_reached", "message": "Billing."},
     QuotaExceededError, 429),
    ({"type": "image_generation_user_error", "code": "moderation_blocked", "message": "Refused."},
     ModerationBlockedError, 400),
    ({"type": "invalid_request_error", "code": "invalid_value", "param": "size", "message": "Bad size."},
     InvalidRequestError, 400),
    ({"type": "invalid_request_error", "code": "invalid_api_key", "message": "Bad key."}, AuthenticationError, 401),
    ({"type": "permission_error", "code": None, "message": "Verify your organization."}, PermissionDeniedError, 403),
    ({"type": "invalid_request_error", "code": "model_not_found", "message": "No model."}, NotFoundError, 404),
]


@pytest.mark.parametrize(("error", "cls", "status"), ERROR_EVENTS)
def test_an_error_event_is_typed_as_the_http_error_with_the_same_body(error: dict[str, Any], cls: type,
                                                                      status: int) -> None:
    typed = error_from_event({"error": error}, request_id="req_1")
    assert type(typed) is cls
    assert (typed.status, typed.code, typed.message, typed.request_id) == (status, error.get("code"),
                                                                          error["message"], "req_1")
    assert typed.param == error.get("param")


def test_a_flat_error_event_as_the_responses_api_sends_it_is_typed_by_its_code() -> None:
    typed = error_from_event({"type": "error", "code": "server_error", "message": "Try again.", "param": None})
    assert type(typed) is ServerError and typed.message == "Try again." and typed.retryable


def test_an_undocumented_error_event_is_not_retried() -> None:
    typed = error_from_event({"error": {"type": "mystery", "code": "odd", "message": "Hm."}})
    assert type(typed) is ImageAPIError and typed.message == "Hm." and not typed.retryable


def test_a_server_error_event_is_not_an_invalid_request(scripted: Callable[[Script], ImagesClient]) -> None:
    error = {"error": {"type": "server_error", "code": None, "message": "The server had an error.", "param": None}}
    script = Script(*[stream_response(sse(error, event_names=("error",)))] * 3)
    with pytest.raises(ServerError) as caught:
        list(scripted(script).generate_stream(prompt=PROMPT))
    assert not isinstance(caught.value, InvalidRequestError)
    assert caught.value.request_id == "req_s"
    assert len(script.requests) == 3  # nothing was delivered: retried as an HTTP 500 would be


def test_a_rate_limit_error_event_before_any_image_is_retried_then_succeeds(
    scripted: Callable[[Script], ImagesClient], sleeps: list[float],
) -> None:
    error = {"error": {"type": "requests", "code": "rate_limit_exceeded", "message": "Slow down.", "param": None}}
    script = Script(stream_response(sse(error)), stream_response(sse(completed_event())))
    [result] = list(scripted(script).generate_stream(prompt=PROMPT))
    assert isinstance(result, ImageResult) and len(script.requests) == 2 and len(sleeps) == 1


def test_a_server_error_event_after_a_partial_is_typed_and_not_resent(
    scripted: Callable[[Script], ImagesClient], sleeps: list[float],
) -> None:
    error = {"error": {"type": "server_error", "code": "server_error", "message": "Lost it.", "param": None}}
    script = Script(stream_response(sse(partial_event(), error)), stream_response(sse(completed_event())))
    received = []
    with pytest.raises(ServerError) as caught:
        for event in scripted(script).generate_stream(prompt=PROMPT, partial_images=2):
            received.append(event)
    assert caught.value.message == "Lost it."
    assert [type(event) for event in received] == [PartialImage]
    assert len(script.requests) == 1 and sleeps == []


def test_a_moderation_error_event_after_a_partial_is_a_moderation_error(
    scripted: Callable[[Script], ImagesClient],
) -> None:
    error = {"type": "error", "error": {"type": "image_generation_user_error", "code": "moderation_blocked",
                                        "message": "Refused.", "param": None}}
    script = Script(stream_response(sse(partial_event(), error)))
    with pytest.raises(ModerationBlockedError):
        list(scripted(script).generate_stream(prompt=PROMPT, partial_images=1))
    assert len(script.requests) == 1


# -- the format of an image comes from its bytes ---------------------------------------------

@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif"])
def test_sniff_format_reads_the_magic_number(fmt: str) -> None:
    assert sniff_format(encoded(fmt)) == fmt


@pytest.mark.parametrize("data", [b"", b"GIF8", b"GIF90a", b"RIFF\x00\x00\x00\x00WAVE", b"\x89PN"])
def test_sniff_format_is_none_for_anything_else(data: bytes) -> None:
    assert sniff_format(data) is None


def images_body(data: bytes, **overrides: Any) -> dict[str, Any]:
    return {"created": 1, "data": [{"b64_json": b64(data)}], "usage": {"input_tokens": 5, "output_tokens": 196},
            **overrides}


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_an_answer_without_output_format_is_labelled_by_its_bytes(scripted: Callable[[Script], ImagesClient],
                                                                  fmt: str) -> None:
    script = Script(httpx.Response(200, json=images_body(encoded(fmt))))
    result = scripted(script).generate(prompt=PROMPT)  # the request did not name a format either
    assert [image.format for image in result.images] == [fmt] and result.output_format == fmt


def test_the_requested_format_does_not_override_the_bytes(scripted: Callable[[Script], ImagesClient]) -> None:
    script = Script(httpx.Response(200, json=images_body(encoded("jpeg"))))
    result = scripted(script).generate(prompt=PROMPT, output_format="webp")
    assert result.images[0].format == "jpeg"


def test_a_stated_format_is_used_only_when_the_bytes_say_nothing(scripted: Callable[[Script], ImagesClient],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Bytes no signature matches (e.g. a future format): the answer's word, then the request's.
    odd = b"\x00\x01not-a-known-signature"
    script = Script(httpx.Response(200, json=images_body(odd, output_format="webp")),
                    httpx.Response(200, json=images_body(odd)),
                    httpx.Response(200, json=images_body(odd)))
    client = scripted(script)
    assert client.generate(prompt=PROMPT).images[0].format == "webp"
    assert client.generate(prompt=PROMPT, output_format="jpeg").images[0].format == "jpeg"
    with pytest.raises(MalformedResponseError):
        client.generate(prompt=PROMPT)  # nothing says what it is: never a default of png


def test_streamed_images_without_output_format_are_labelled_by_their_bytes(
    scripted: Callable[[Script], ImagesClient],
) -> None:
    jpeg = b64(encoded("jpeg"))
    partial = partial_event(b64_json=jpeg)
    completed = completed_event(b64_json=jpeg)
    del partial["output_format"], completed["output_format"]
    script = Script(stream_response(sse(partial, completed)))
    preview, result = list(scripted(script).generate_stream(prompt=PROMPT, partial_images=1))
    assert isinstance(preview, PartialImage) and preview.format == "jpeg"
    assert isinstance(result, ImageResult) and result.images[0].format == "jpeg" and result.output_format == "jpeg"


# -- the connection pool ---------------------------------------------------------------------

def _pool(client: ImagesClient) -> Any:
    return client._http._transport._pool  # httpx's own pool: what actually limits connections


def test_the_default_pool_holds_a_thousand_connections_not_httpx_default_100() -> None:
    client = ImagesClient(api_key=API_KEY)
    try:
        assert DEFAULT_MAX_CONNECTIONS >= 1000
        assert _pool(client)._max_connections == DEFAULT_MAX_CONNECTIONS
        assert _pool(client)._max_keepalive_connections <= DEFAULT_MAX_CONNECTIONS
        timeout = client._http.timeout
        assert timeout.connect is not None and timeout.pool is not None and timeout.read is not None
    finally:
        client.close()


def test_the_pool_limits_and_timeouts_are_configurable() -> None:
    client = ImagesClient(api_key=API_KEY, max_connections=50, max_keepalive_connections=80, timeout=30,
                          connect_timeout=2, pool_timeout=7)
    try:
        assert (_pool(client)._max_connections, _pool(client)._max_keepalive_connections) == (50, 50)
        assert (client._http.timeout.read, client._http.timeout.connect, client._http.timeout.pool) == (30, 2, 7)
    finally:
        client.close()
