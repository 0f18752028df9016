"""``ImagesClient`` against the emulator (in-process and over real HTTP) and against scripted
transports: every success path, every error the contract names, and the retry rules.

The autouse fixture in ``tests/conftest.py`` replaces ``imageapi.client.retry_delay`` with
one that answers 0; the real one is captured here at import time, before any test runs, and
put back by the ``real_backoff`` fixture where the delays themselves are under test.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from PIL import Image

from imageapi import client as client_module
from imageapi.client import ImageResult, ImagesClient, InputFile, PartialImage
from imageapi.client import retry_delay as real_retry_delay
from imageapi.emulator import FAULT_NAMES, Emulator, EmulatorTransport
from imageapi.emulator.usage import count_text_tokens
from imageapi.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ImageAPIError,
    InvalidRequestError,
    MalformedResponseError,
    ModerationBlockedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from imageapi.pricing import PARTIAL_IMAGE_TOKENS, output_image_tokens
from tests.factories import make_mask, make_png

from .served import serving

API_KEY = "sk-test-SECRETKEY0123456789"
KEY_FRAGMENT = "SECRETKEY"  # what must never show, even in part
PROMPT = "A paper boat on a quiet pond"
SIZE = "1024x640"  # the smallest valid gpt-image-2 size keeps the emulator quick
WIDTH, HEIGHT = 1024, 640
RATE_LIMIT_RETRY_AFTER = 0.05  # the emulator's retry-after-ms for rate_limit
FIRST_BACKOFF = (0.375, 0.5)  # 0.5 s less up to 25% jitter

MAGIC = {
    "png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpeg": lambda data: data.startswith(b"\xff\xd8\xff"),
    "webp": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
}
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


# -- fixtures and helpers --------------------------------------------------------------------

@pytest.fixture
def sleeps() -> list[float]:
    """What the client slept between attempts, in order."""
    return []


@pytest.fixture
def make_client(emulator: Emulator, sleeps: list[float]) -> Iterator[Callable[..., ImagesClient]]:
    made: list[ImagesClient] = []

    def make(*, on: Emulator | None = None, **options: Any) -> ImagesClient:
        client = ImagesClient(api_key=API_KEY, transport=EmulatorTransport(on or emulator),
                              sleep=sleeps.append, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ImagesClient]) -> ImagesClient:
    return make_client()


@pytest.fixture
def real_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the conftest's zero delay: the client computes its delays for real."""
    monkeypatch.setattr(client_module, "retry_delay", real_retry_delay)


def faulty(spec: str) -> str:
    return f"{PROMPT} [[fault:{spec}]]"


def pixels(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def assert_image(data: bytes, output_format: str, size: tuple[int, int] = (WIDTH, HEIGHT)) -> None:
    assert MAGIC[output_format](data), data[:12]
    picture = pixels(data)
    assert picture.format == PILLOW_FORMATS[output_format]
    assert picture.size == size


def input_png(name: str = "in.png") -> InputFile:
    return InputFile(name, make_png(WIDTH, HEIGHT), "image/png")


def input_mask() -> InputFile:
    return InputFile("mask.png", make_mask(WIDTH, HEIGHT, hole=(0, 0, 512, 320)), "image/png")


class Recorder:
    """An ``on_retry`` hook that remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, ImageAPIError, float]] = []

    def __call__(self, attempt: int, error: ImageAPIError, delay: float) -> None:
        self.calls.append((attempt, error, delay))


# -- generate --------------------------------------------------------------------------------

@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_generate_returns_decoded_images_in_the_requested_format(client: ImagesClient, output_format: str) -> None:
    result = client.generate(prompt=PROMPT, size=SIZE, quality="low", output_format=output_format)

    assert isinstance(result, ImageResult)
    [image] = result.images
    assert (image.format, image.index) == (output_format, 0)
    assert_image(image.data, output_format)
    assert (result.size, result.quality, result.background, result.output_format) == (
        SIZE, "low", "opaque", output_format)
    assert result.request_id and result.request_id.startswith("req_")
    assert result.latency_ms >= 0
    assert isinstance(result.created, int) and result.created > 0


def test_generate_reports_usage_as_the_pricing_formulas_compute_it(client: ImagesClient) -> None:
    result = client.generate(prompt=PROMPT, size="1024x1024", quality="high")

    expected_output = output_image_tokens(1024, 1024, "high")
    assert expected_output == 7024  # the reference's test vector
    assert result.usage.image_output == expected_output
    assert result.usage.text_input == count_text_tokens(PROMPT)
    assert (result.usage.image_input, result.usage.text_output) == (0, 0)
    assert result.raw_usage[0]["total_tokens"] == result.usage.total_tokens == expected_output + result.usage.text_input


def test_n_3_gives_three_images_and_usage_for_all_of_them(client: ImagesClient) -> None:
    result = client.generate(prompt=PROMPT, size=SIZE, quality="medium", n=3)

    assert [image.index for image in result.images] == [0, 1, 2]
    for image in result.images:
        assert_image(image.data, "png")
    assert result.usage.image_output == 3 * output_image_tokens(WIDTH, HEIGHT, "medium")


def test_generate_sends_json_with_the_model_always_set(client: ImagesClient, emulator: Emulator) -> None:
    client.generate(prompt=PROMPT, size=SIZE, quality=None, model=None, stream=True)

    seen = emulator.requests_seen[-1]
    assert (seen["method"], seen["path"]) == ("POST", "/v1/images/generations")
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["params"] == {"prompt": PROMPT, "size": SIZE, "model": "gpt-image-2"}  # None dropped, no stream


def test_generate_sends_the_model_it_is_given(client: ImagesClient, emulator: Emulator) -> None:
    client.generate(prompt=PROMPT, size=SIZE, quality="low", model="gpt-image-2-2026-04-21")
    assert emulator.requests_seen[-1]["params"]["model"] == "gpt-image-2-2026-04-21"


# -- edit ------------------------------------------------------------------------------------

def test_one_image_is_sent_as_the_image_field(client: ImagesClient, emulator: Emulator) -> None:
    result = client.edit(images=[input_png("boat.png")], prompt=PROMPT, size=SIZE, quality="low")

    assert_image(result.images[0].data, "png")
    seen = emulator.requests_seen[-1]
    assert seen["path"] == "/v1/images/edits"
    assert seen["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert [(f["field"], f["filename"], f["content_type"]) for f in seen["files"]] == [
        ("image", "boat.png", "image/png")]
    assert seen["params"] == {"prompt": PROMPT, "size": SIZE, "quality": "low", "model": "gpt-image-2"}


def test_several_images_are_sent_as_image_brackets_and_the_mask_as_mask(
    client: ImagesClient, emulator: Emulator,
) -> None:
    images = [input_png(f"in-{i}.png") for i in range(3)]
    client.edit(images=images, mask=input_mask(), prompt=PROMPT, size=SIZE, quality="low", n=2)

    files = emulator.requests_seen[-1]["files"]
    assert [(f["field"], f["filename"]) for f in files] == [
        ("image[]", "in-0.png"), ("image[]", "in-1.png"), ("image[]", "in-2.png"), ("mask", "mask.png")]
    assert files[0]["size"] == len(images[0].data)
    assert emulator.requests_seen[-1]["params"]["n"] == 2


@pytest.mark.parametrize(("field", "value"), [
    ("moderation", "low"),  # generations only
    ("response_format", "b64_json"),  # dall-e only
    ("input_fidelity", "high"),  # gpt-image-2 rejects it
])
@pytest.mark.parametrize("streaming", [False, True])
def test_edit_never_sends_fields_gpt_image_2_refuses(
    client: ImagesClient, emulator: Emulator, field: str, value: str, streaming: bool,
) -> None:
    call = client.edit_stream if streaming else client.edit
    with pytest.raises(InvalidRequestError) as caught:
        call(images=[input_png()], prompt=PROMPT, **{field: value})
    assert caught.value.param == field
    assert emulator.requests_seen == []


def test_an_edit_with_every_option_sends_none_of_the_refused_fields(client: ImagesClient, emulator: Emulator) -> None:
    client.edit(images=[input_png()], mask=input_mask(), prompt=PROMPT, size=SIZE, quality="low",
                output_format="webp", output_compression=80, background="opaque", user="u-1", n=1)
    sent = emulator.requests_seen[-1]["params"]
    assert not {"moderation", "response_format", "input_fidelity", "stream"} & set(sent)
    assert sent["model"] == "gpt-image-2"


# -- streaming -------------------------------------------------------------------------------

def _stream_iter(client: ImagesClient, endpoint: str, **params: Any) -> Iterator[PartialImage | ImageResult]:
    if endpoint == "edits":
        return client.edit_stream(images=[input_png()], mask=input_mask(), **params)
    return client.generate_stream(**params)


def _stream(client: ImagesClient, endpoint: str, **params: Any) -> list[PartialImage | ImageResult]:
    return list(_stream_iter(client, endpoint, **params))


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_stream_yields_partials_in_order_then_one_result(client: ImagesClient, emulator: Emulator,
                                                          endpoint: str) -> None:
    events = _stream(client, endpoint, prompt=PROMPT, size=SIZE, quality="low", output_format="webp",
                     partial_images=3)

    *partials, result = events
    assert all(isinstance(event, PartialImage) for event in partials)
    assert [partial.partial_image_index for partial in partials] == [0, 1, 2]
    for partial in partials:
        assert partial.format == "webp"
        assert MAGIC["webp"](partial.data) and pixels(partial.data).size == (WIDTH, HEIGHT)
    assert isinstance(result, ImageResult)
    assert_image(result.images[0].data, "webp")
    assert result.usage.image_output == output_image_tokens(WIDTH, HEIGHT, "low") + 3 * PARTIAL_IMAGE_TOKENS
    assert result.usage.text_input == count_text_tokens(PROMPT)
    assert result.request_id and result.request_id.startswith("req_")
    seen = emulator.requests_seen[-1]["params"]
    assert (seen["stream"], seen["partial_images"]) == (True, 3)


def test_a_stream_without_partials_yields_only_the_result(client: ImagesClient) -> None:
    events = _stream(client, "generations", prompt=PROMPT, size=SIZE, quality="low")
    assert len(events) == 1 and isinstance(events[0], ImageResult)
    assert events[0].usage.image_output == output_image_tokens(WIDTH, HEIGHT, "low")


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_a_stream_of_two_images_sums_both_completed_events_usage(client: ImagesClient, endpoint: str) -> None:
    *partials, result = _stream(client, endpoint, prompt=PROMPT, size=SIZE, quality="medium", n=2,
                                partial_images=2)

    assert len(partials) == 2
    assert [image.index for image in result.images] == [0, 1]
    per_image = output_image_tokens(WIDTH, HEIGHT, "medium")
    assert result.usage.image_output == 2 * per_image + 2 * PARTIAL_IMAGE_TOKENS
    assert len(result.raw_usage) == 2
    assert sum(raw["output_tokens"] for raw in result.raw_usage) == result.usage.output_tokens
    assert result.usage.text_input == count_text_tokens(PROMPT)  # counted once, not per image


# -- local validation: nothing is sent -------------------------------------------------------

CALLS: dict[str, Callable[..., object]] = {
    "generate": lambda client, **params: client.generate(**params),
    "generate_stream": lambda client, **params: client.generate_stream(**params),
    "edit": lambda client, **params: client.edit(images=[input_png()], **params),
    "edit_stream": lambda client, **params: client.edit_stream(images=[input_png()], **params),
}


@pytest.mark.parametrize("method", list(CALLS))
@pytest.mark.parametrize(("bad", "param"), [
    ({"size": "1000x1000"}, "size"),
    ({"n": 11}, "n"),
    ({"background": "transparent", "output_format": "jpeg"}, "background"),
    ({"response_format": "b64_json"}, "response_format"),
])
def test_a_bad_request_fails_locally_naming_the_param_and_sends_nothing(
    client: ImagesClient, emulator: Emulator, sleeps: list[float], method: str, bad: dict[str, Any], param: str,
) -> None:
    # Streams fail when called, before the first event is asked for.
    with pytest.raises(InvalidRequestError) as caught:
        CALLS[method](client, prompt=PROMPT, **bad)
    error = caught.value
    assert (error.param, error.status, error.type) == (param, 400, "invalid_request_error")
    assert error.message
    assert emulator.requests_seen == [] and sleeps == []


def test_the_size_error_gives_the_apis_wording(client: ImagesClient) -> None:
    with pytest.raises(InvalidRequestError, match="divisible by 16"):
        client.generate(prompt=PROMPT, size="1000x1000")


# -- typed errors ----------------------------------------------------------------------------

def test_moderation_is_a_moderation_blocked_error_and_not_retried(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    with pytest.raises(ModerationBlockedError) as caught:
        client.generate(prompt=faulty("moderation"), size=SIZE, quality="low")
    error = caught.value
    assert (error.status, error.type, error.code, error.param) == (
        400, "image_generation_user_error", "moderation_blocked", None)
    assert "safety system" in error.message
    assert error.request_id and error.request_id.startswith("req_") and error.request_id in error.message
    assert error.retry_after is None and not error.retryable
    assert len(emulator.requests_seen) == 1 and sleeps == []


def test_unauthorized_is_an_authentication_error_and_not_retried(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        client.generate(prompt=faulty("unauthorized"), size=SIZE, quality="low")
    error = caught.value
    assert (error.status, error.type, error.code) == (401, "invalid_request_error", "invalid_api_key")
    assert "sk-...6789" in error.message  # masked as the API masks it
    assert len(emulator.requests_seen) == 1 and sleeps == []


@pytest.mark.parametrize(("fault", "code"), [("insufficient_quota", "insufficient_quota"),
                                             ("billing_limit", "billing_hard_limit_reached")])
@pytest.mark.parametrize("streaming", [False, True])
def test_billing_errors_are_quota_errors_and_never_retried(
    make_client: Callable[..., ImagesClient], emulator: Emulator, sleeps: list[float], fault: str, code: str,
    streaming: bool,
) -> None:
    client = make_client(max_retries=5)
    hook = Recorder()
    with pytest.raises(QuotaExceededError) as caught:
        if streaming:
            list(client.generate_stream(prompt=faulty(fault), size=SIZE, quality="low", on_retry=hook))
        else:
            client.generate(prompt=faulty(fault), size=SIZE, quality="low", on_retry=hook)
    assert (caught.value.status, caught.value.code) == (429, code)
    assert not caught.value.retryable
    assert len(emulator.requests_seen) == 1
    assert sleeps == [] and hook.calls == []


@pytest.mark.usefixtures("real_backoff")
def test_rate_limit_is_retried_after_the_servers_retry_after(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    hook = Recorder()
    result = client.generate(prompt=faulty("rate_limit:2"), size=SIZE, quality="low", on_retry=hook)

    assert_image(result.images[0].data, "png")
    assert len(emulator.requests_seen) == 3
    assert sleeps == [RATE_LIMIT_RETRY_AFTER, RATE_LIMIT_RETRY_AFTER]  # retry-after-ms, not the 1 s retry-after
    assert [(attempt, type(error), delay) for attempt, error, delay in hook.calls] == [
        (1, RateLimitError, RATE_LIMIT_RETRY_AFTER), (2, RateLimitError, RATE_LIMIT_RETRY_AFTER)]
    error = hook.calls[0][1]
    assert (error.status, error.code, error.retry_after) == (429, "rate_limit_exceeded", RATE_LIMIT_RETRY_AFTER)
    assert error.request_id and error.request_id.startswith("req_")


def test_a_rate_limit_that_persists_fails_after_the_retries(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    with pytest.raises(RateLimitError) as caught:
        client.generate(prompt=faulty("rate_limit"), size=SIZE, quality="low")
    assert caught.value.retry_after == RATE_LIMIT_RETRY_AFTER
    assert len(emulator.requests_seen) == 3 and len(sleeps) == 2


@pytest.mark.usefixtures("real_backoff")
@pytest.mark.parametrize(("fault", "status"), [("server_error", 500), ("unavailable", 503), ("timeout", 408)])
def test_transient_errors_are_retried_once_then_succeed(
    client: ImagesClient, emulator: Emulator, sleeps: list[float], fault: str, status: int,
) -> None:
    hook = Recorder()
    result = client.generate(prompt=faulty(f"{fault}:1"), size=SIZE, quality="low", on_retry=hook)

    assert result.images and len(emulator.requests_seen) == 2
    [(attempt, error, delay)] = hook.calls
    assert attempt == 1 and isinstance(error, ServerError) and error.status == status
    assert error.type == "server_error" and error.retry_after is None
    assert FIRST_BACKOFF[0] <= delay <= FIRST_BACKOFF[1]
    assert sleeps == [delay]


@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
def test_a_persistent_server_error_fails_after_one_plus_max_retries_attempts(
    make_client: Callable[..., ImagesClient], emulator: Emulator, sleeps: list[float], max_retries: int,
) -> None:
    client = make_client(max_retries=max_retries)
    hook = Recorder()
    with pytest.raises(ServerError) as caught:
        client.generate(prompt=faulty("server_error"), size=SIZE, quality="low", on_retry=hook)
    assert (caught.value.status, caught.value.type) == (500, "server_error")
    assert len(emulator.requests_seen) == 1 + max_retries
    assert len(sleeps) == max_retries
    assert [attempt for attempt, _, _ in hook.calls] == list(range(1, max_retries + 1))


def test_no_retry_at_all_with_max_retries_0(make_client: Callable[..., ImagesClient], emulator: Emulator,
                                            sleeps: list[float]) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(RateLimitError):
        client.generate(prompt=faulty("rate_limit:1"), size=SIZE, quality="low")
    with pytest.raises(APIConnectionError):
        list(client.generate_stream(prompt=faulty("stream_cut:1"), size=SIZE, quality="low"))
    assert len(emulator.requests_seen) == 2 and sleeps == []


@pytest.mark.parametrize("streaming", [False, True])
def test_a_malformed_answer_is_a_malformed_response_error_and_not_retried(
    client: ImagesClient, emulator: Emulator, sleeps: list[float], streaming: bool,
) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        if streaming:
            list(client.generate_stream(prompt=faulty("malformed_json"), size=SIZE, quality="low"))
        else:
            client.generate(prompt=faulty("malformed_json"), size=SIZE, quality="low")
    assert not caught.value.retryable
    assert len(emulator.requests_seen) == 1 and sleeps == []


def test_a_json_answer_cut_mid_body_is_a_connection_error_and_retried(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    with pytest.raises(APIConnectionError) as caught:
        client.generate(prompt=faulty("stream_cut"), size=SIZE, quality="low")
    assert type(caught.value) is APIConnectionError and caught.value.status is None
    assert len(emulator.requests_seen) == 3 and len(sleeps) == 2
    result = client.generate(prompt=faulty("stream_cut:1"), size=SIZE, quality="low")
    assert result.images and len(emulator.requests_seen) == 5


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_a_stream_cut_before_any_event_is_retried_and_restarts(
    client: ImagesClient, emulator: Emulator, sleeps: list[float], endpoint: str,
) -> None:
    hook = Recorder()
    # Without partials the cut falls inside the first event: nothing was delivered.
    events = _stream(client, endpoint, prompt=faulty("stream_cut:1"), size=SIZE, quality="low",
                     partial_images=0, on_retry=hook)

    [result] = events
    assert isinstance(result, ImageResult) and result.images
    assert len(emulator.requests_seen) == 2 and len(sleeps) == 1
    [(attempt, error, _)] = hook.calls
    assert attempt == 1 and type(error) is APIConnectionError


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_a_stream_cut_after_a_partial_is_not_resent(
    client: ImagesClient, emulator: Emulator, sleeps: list[float], endpoint: str,
) -> None:
    hook = Recorder()
    stream = _stream_iter(client, endpoint, prompt=faulty("stream_cut:1"), size=SIZE, quality="low",
                          partial_images=2, on_retry=hook)
    received = []
    with pytest.raises(StreamInterruptedError) as caught:
        for event in stream:
            received.append(event)

    assert [partial.partial_image_index for partial in received] == [0]  # delivered once, never again
    assert str(caught.value) == "The connection dropped after 1 preview; resubmit."
    assert caught.value.previews == 1 and caught.value.request_id
    assert isinstance(caught.value, APIConnectionError) and not caught.value.retryable
    assert len(emulator.requests_seen) == 1 and sleeps == [] and hook.calls == []


def test_a_stream_cut_after_several_events_counts_the_previews(sleeps: list[float]) -> None:
    b64 = base64.b64encode(make_png(16, 16)).decode()
    partial = {"type": "image_generation.partial_image", "b64_json": b64, "output_format": "png"}
    body = sse({**partial, "partial_image_index": 0}, {**partial, "partial_image_index": 1})

    requests: list[httpx.Request] = []

    def cut_after_two(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=_BrokenStream(body, request))

    client = ImagesClient(api_key=API_KEY, transport=httpx.MockTransport(cut_after_two), sleep=sleeps.append)
    try:
        with pytest.raises(StreamInterruptedError) as caught:
            list(client.generate_stream(prompt=PROMPT, partial_images=3))
    finally:
        client.close()
    assert str(caught.value) == "The connection dropped after 2 previews; resubmit."
    assert len(requests) == 1 and sleeps == []


class _BrokenStream(httpx.SyncByteStream):
    """A body that breaks, as a dropped connection does, after ``body``."""

    def __init__(self, body: bytes, request: httpx.Request) -> None:
        self._body, self._request = body, request

    def __iter__(self) -> Iterator[bytes]:
        yield self._body
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body",
                                        request=self._request)


def test_a_stream_that_is_always_cut_before_any_event_fails_with_a_connection_error(
    client: ImagesClient, emulator: Emulator, sleeps: list[float],
) -> None:
    with pytest.raises(APIConnectionError) as caught:
        list(client.generate_stream(prompt=faulty("stream_cut"), size=SIZE, quality="low"))
    assert type(caught.value) is APIConnectionError
    assert caught.value.request_id and caught.value.status is None
    assert len(emulator.requests_seen) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("streaming", [False, True])
def test_an_answer_slower_than_the_timeout_is_a_timeout_error(
    make_client: Callable[..., ImagesClient], sleeps: list[float], streaming: bool,
) -> None:
    waited: list[float] = []
    slow = Emulator(slow_seconds=0.5, sleep=waited.append)  # records instead of sleeping
    client = make_client(on=slow, timeout=0.05)
    with pytest.raises(APITimeoutError) as caught:
        if streaming:
            list(client.generate_stream(prompt=faulty("slow"), size=SIZE, quality="low"))
        else:
            client.generate(prompt=faulty("slow"), size=SIZE, quality="low")
    assert isinstance(caught.value, APIConnectionError) and caught.value.retryable
    assert len(slow.requests_seen) == 3 and len(sleeps) == 2  # a timeout is retried like the SDK does
    assert waited == [0.05, 0.05, 0.05]  # each attempt gave up at the read timeout


def test_a_slow_answer_within_the_timeout_succeeds(make_client: Callable[..., ImagesClient]) -> None:
    waited: list[float] = []
    slow = Emulator(slow_seconds=0.02, sleep=waited.append)
    result = make_client(on=slow, timeout=1.0).generate(prompt=faulty("slow"), size=SIZE, quality="low")
    assert result.images and waited == [0.02]


# -- x-should-retry, retry-after and other wire details (scripted transport) -----------------

def images_body(**overrides: Any) -> dict[str, Any]:
    return {"created": 1_713_833_628, "data": [{"b64_json": base64.b64encode(make_png(16, 16)).decode()}],
            "size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png",
            "usage": {"input_tokens": 5, "output_tokens": 196, "total_tokens": 201}, **overrides}


def error_body(message: str = "Boom.", *, type_: str = "server_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class Script:
    """An ``httpx.MockTransport`` handler answering the scripted responses in order."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


@pytest.fixture
def scripted(sleeps: list[float]) -> Iterator[Callable[..., ImagesClient]]:
    made: list[ImagesClient] = []

    def make(script: Script, **options: Any) -> ImagesClient:
        client = ImagesClient(api_key=API_KEY, base_url="https://gateway.example/v1/",
                              transport=httpx.MockTransport(script), sleep=sleeps.append, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_x_should_retry_false_stops_the_retry_of_a_500(scripted: Callable[..., ImagesClient],
                                                      sleeps: list[float]) -> None:
    script = Script(httpx.Response(500, json=error_body(), headers={"x-should-retry": "false"}),
                    httpx.Response(200, json=images_body()))
    with pytest.raises(ServerError) as caught:
        scripted(script).generate(prompt=PROMPT)
    assert caught.value.should_retry is False and not caught.value.retryable
    assert len(script.requests) == 1 and sleeps == []


def test_x_should_retry_true_forces_the_retry_of_a_400(scripted: Callable[..., ImagesClient],
                                                      sleeps: list[float]) -> None:
    script = Script(httpx.Response(400, json=error_body("Try again.", type_="invalid_request_error"),
                                   headers={"x-should-retry": "true"}),
                    httpx.Response(200, json=images_body()))
    result = scripted(script).generate(prompt=PROMPT)
    assert result.images and len(script.requests) == 2 and len(sleeps) == 1


def test_a_400_without_x_should_retry_is_not_retried(scripted: Callable[..., ImagesClient]) -> None:
    script = Script(httpx.Response(400, json=error_body("Nope.", type_="invalid_request_error")),
                    httpx.Response(200, json=images_body()))
    with pytest.raises(InvalidRequestError):
        scripted(script).generate(prompt=PROMPT)
    assert len(script.requests) == 1


def _rate_limited_then_ok(headers: dict[str, str]) -> Script:
    return Script(httpx.Response(429, json=error_body("Slow down.", type_="requests", code="rate_limit_exceeded"),
                                 headers=headers),
                  httpx.Response(200, json=images_body()))


@pytest.mark.usefixtures("real_backoff")
@pytest.mark.parametrize(("headers", "low", "high"), [
    ({"retry-after": "7"}, 7.0, 7.0),
    ({"retry-after": "1.5"}, 1.5, 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25, 0.25),  # the precise hint wins
    ({"retry-after-ms": "oops", "retry-after": "3"}, 3.0, 3.0),
    ({"retry-after": "120"}, 120.0, 120.0),  # the longest wait the SDK honours
    ({"retry-after-ms": "120000"}, 120.0, 120.0),
    ({"retry-after": "soon"}, *FIRST_BACKOFF),  # unreadable
    ({"retry-after-ms": "soon", "retry-after": "soon"}, *FIRST_BACKOFF),
    ({"retry-after-ms": "-5"}, *FIRST_BACKOFF),  # negative
    ({"retry-after-ms": "0"}, *FIRST_BACKOFF),  # zero still backs off
    ({"retry-after": "0"}, *FIRST_BACKOFF),
    ({"retry-after": "inf"}, *FIRST_BACKOFF),  # not finite: backoff, still retried
    ({"retry-after-ms": "nan"}, *FIRST_BACKOFF),
    ({"retry-after": formatdate(time.time() - 60, usegmt=True)}, *FIRST_BACKOFF),  # a date in the past
    ({}, *FIRST_BACKOFF),
])
def test_retry_after_is_honoured_when_sensible(scripted: Callable[..., ImagesClient], sleeps: list[float],
                                               headers: dict[str, str], low: float, high: float) -> None:
    result = scripted(_rate_limited_then_ok(headers)).generate(prompt=PROMPT)
    assert result.images
    [slept] = sleeps
    assert low <= slept <= high


@pytest.mark.usefixtures("real_backoff")
def test_retry_after_as_an_http_date_is_read_as_seconds_from_now(scripted: Callable[..., ImagesClient],
                                                                sleeps: list[float]) -> None:
    hook = Recorder()
    when = formatdate(time.time() + 30, usegmt=True)
    scripted(_rate_limited_then_ok({"retry-after": when})).generate(prompt=PROMPT, on_retry=hook)
    [(_, error, delay)] = hook.calls
    assert error.retry_after is not None and 28.5 <= error.retry_after <= 30.5
    assert sleeps == [delay] and delay == error.retry_after


@pytest.mark.parametrize(("headers", "retry_after"), [
    ({"retry-after": "300"}, 300.0),
    ({"retry-after": "120.5"}, 120.5),
    ({"retry-after-ms": "121000", "retry-after": "1"}, 121.0),
    ({"retry-after": "1e999"}, 121.0),  # a numeric overflow is an excessive wait, not "infinity"
    ({"retry-after": "300", "x-should-retry": "true"}, 300.0),  # the cap comes first, as in the SDK
])
def test_a_retry_after_above_two_minutes_is_not_retried_at_all(
    scripted: Callable[..., ImagesClient], sleeps: list[float], headers: dict[str, str], retry_after: float,
) -> None:
    script = _rate_limited_then_ok(headers)
    with pytest.raises(RateLimitError) as caught:
        scripted(script).generate(prompt=PROMPT)
    assert caught.value.retry_after == retry_after and not caught.value.retryable
    assert len(script.requests) == 1 and sleeps == []


@pytest.mark.usefixtures("real_backoff")
def test_a_retry_after_on_a_server_error_is_honoured_too(scripted: Callable[..., ImagesClient],
                                                        sleeps: list[float]) -> None:
    script = Script(httpx.Response(503, json=error_body(), headers={"retry-after-ms": "1500"}),
                    httpx.Response(200, json=images_body()))
    assert scripted(script).generate(prompt=PROMPT).images
    assert sleeps == [1.5]


def test_request_id_comes_from_x_request_id(scripted: Callable[..., ImagesClient]) -> None:
    script = Script(httpx.Response(200, json=images_body(), headers={"x-request-id": "req_abc123"}),
                    httpx.Response(404, json=error_body("No such model.", type_="invalid_request_error",
                                                        code="model_not_found"),
                                   headers={"x-request-id": "req_def456"}))
    client = scripted(script)
    assert client.generate(prompt=PROMPT).request_id == "req_abc123"
    with pytest.raises(ImageAPIError) as caught:
        client.generate(prompt=PROMPT)
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (404, "model_not_found", "req_def456")
    assert str(script.requests[0].url) == "https://gateway.example/v1/images/generations"
    assert script.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_an_error_body_of_an_unexpected_shape_still_gives_a_typed_error(scripted: Callable[..., ImagesClient]) -> None:
    script = Script(*[httpx.Response(502, text="<html>Bad gateway</html>")] * 3)
    with pytest.raises(ServerError) as caught:
        scripted(script).generate(prompt=PROMPT)
    assert caught.value.status == 502 and "502" in caught.value.message
    assert len(script.requests) == 3


@pytest.mark.parametrize("body", [
    {"created": 1, "data": []},
    {"created": 1, "data": [{"url": "https://example.com/x.png"}]},  # no b64_json
    {"created": 1, "data": [{"b64_json": "***not base64***"}]},
])
def test_a_200_without_usable_images_is_malformed_and_not_retried(scripted: Callable[..., ImagesClient],
                                                                  body: dict[str, Any], sleeps: list[float]) -> None:
    script = Script(httpx.Response(200, json=body), httpx.Response(200, json=images_body()))
    with pytest.raises(MalformedResponseError):
        scripted(script).generate(prompt=PROMPT)
    assert len(script.requests) == 1 and sleeps == []


def sse(*events: dict[str, Any] | str) -> bytes:
    frames = []
    for event in events:
        if isinstance(event, str):
            frames.append(f"data: {event}\n\n")
        else:
            frames.append(f"event: {event.get('type', 'error')}\ndata: {json.dumps(event)}\n\n")
    return "".join(frames).encode()


def test_a_stream_stops_at_done_and_reads_a_usage_without_details(scripted: Callable[..., ImagesClient]) -> None:
    b64 = base64.b64encode(make_png(16, 16)).decode()
    completed = {"type": "image_generation.completed", "b64_json": b64, "created_at": 5, "size": "1024x1024",
                 "quality": "low", "background": "opaque", "output_format": "png",
                 "usage": {"input_tokens": 4, "output_tokens": 296, "total_tokens": 300}}
    body = sse({"type": "image_generation.partial_image", "b64_json": b64, "partial_image_index": 0,
                "output_format": "png"}, completed, "[DONE]", {"type": "image_generation.completed"})
    script = Script(httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}))
    events = list(scripted(script).generate_stream(prompt=PROMPT, partial_images=1))
    assert [type(event) for event in events] == [PartialImage, ImageResult]
    result = events[-1]
    assert len(result.images) == 1 and result.created == 5
    assert (result.usage.image_output, result.usage.text_input) == (296, 4)  # no details: all image tokens


def test_an_error_event_in_a_stream_raises_its_typed_error(scripted: Callable[..., ImagesClient],
                                                          sleeps: list[float]) -> None:
    event = {"type": "error", "error": {"message": "Your request was rejected by the safety system.",
                                        "type": "image_generation_user_error", "code": "moderation_blocked",
                                        "param": None}}
    script = Script(httpx.Response(200, content=sse(event), headers={"content-type": "text/event-stream",
                                                                     "x-request-id": "req_stream1"}))
    with pytest.raises(ModerationBlockedError) as caught:
        list(scripted(script).generate_stream(prompt=PROMPT))
    assert (caught.value.code, caught.value.request_id) == ("moderation_blocked", "req_stream1")
    assert len(script.requests) == 1 and sleeps == []


def test_a_connection_failure_is_retried_then_reported(scripted: Callable[..., ImagesClient],
                                                      sleeps: list[float]) -> None:
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    client = ImagesClient(api_key=API_KEY, transport=httpx.MockTransport(refuse), sleep=sleeps.append)
    try:
        with pytest.raises(APIConnectionError) as caught:
            client.generate(prompt=PROMPT)
    finally:
        client.close()
    assert type(caught.value) is APIConnectionError and "ConnectError" in caught.value.message
    assert len(calls) == 3 and len(sleeps) == 2


# -- retry_delay, the real one ---------------------------------------------------------------

@pytest.mark.parametrize(("attempt", "low", "high"), [
    (0, 0.375, 0.5), (1, 0.75, 1.0), (2, 1.5, 2.0), (3, 3.0, 4.0), (4, 6.0, 8.0), (5, 6.0, 8.0), (30, 6.0, 8.0),
])
def test_retry_delay_backs_off_exponentially_with_jitter_up_to_8_seconds(attempt: int, low: float,
                                                                         high: float) -> None:
    delays = [real_retry_delay(attempt) for _ in range(200)]
    assert all(low <= delay <= high for delay in delays)
    assert len(set(delays)) > 1  # jittered


@pytest.mark.parametrize(("jitter", "expected"), [(0.0, [0.5, 1.0, 8.0]), (1.0, [0.375, 0.75, 6.0])])
def test_retry_delay_jitter_takes_off_at_most_a_quarter(monkeypatch: pytest.MonkeyPatch, jitter: float,
                                                        expected: list[float]) -> None:
    monkeypatch.setattr(client_module.random, "random", lambda: jitter)
    assert [real_retry_delay(attempt) for attempt in (0, 1, 10)] == pytest.approx(expected)


@pytest.mark.parametrize("retry_after", [0.001, 0.05, 3.0, 120.0])
def test_retry_delay_honours_a_retry_after_in_range(retry_after: float) -> None:
    assert real_retry_delay(0, retry_after=retry_after) == retry_after
    assert real_retry_delay(5, retry_after=retry_after) == retry_after


@pytest.mark.parametrize("retry_after", [0.0, 120.5, 3600.0, -1.0, float("inf"), float("nan")])
def test_retry_delay_ignores_a_retry_after_out_of_range(retry_after: float) -> None:
    assert 0.375 <= real_retry_delay(0, retry_after=retry_after) <= 0.5


# -- the API key never shows -----------------------------------------------------------------

def _texts_of(error: BaseException) -> list[str]:
    texts = []
    while error is not None:
        texts += [str(error), repr(error), repr(error.args), str(getattr(error, "message", ""))]
        error = error.__cause__ or error.__context__
    return texts


def test_the_client_never_shows_its_key(client: ImagesClient) -> None:
    for text in (str(client), repr(client), f"{client!r:>10}"):
        assert KEY_FRAGMENT not in text
    assert "api.openai.com/v1" in repr(client)


def _provoke(fault: str, make_client: Callable[..., ImagesClient]) -> ImageAPIError:
    prompt = faulty(fault)
    with pytest.raises(ImageAPIError) as caught:
        if fault == "slow":
            make_client(on=Emulator(slow_seconds=1, sleep=lambda _: None), timeout=0.05).generate(prompt=prompt)
        elif fault == "stream_cut":
            list(make_client().generate_stream(prompt=prompt, partial_images=1))
        else:
            make_client().generate(prompt=prompt, size=SIZE, quality="low")
    return caught.value


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_no_error_shows_the_key(make_client: Callable[..., ImagesClient], fault: str) -> None:
    error = _provoke(fault, make_client)
    for text in _texts_of(error):
        assert KEY_FRAGMENT not in text and API_KEY not in text


def test_no_log_record_shows_the_key(make_client: Callable[..., ImagesClient], emulator: Emulator,
                                     caplog: pytest.LogCaptureFixture) -> None:
    for name in (None, "httpx", "httpcore", "imageapi"):
        caplog.set_level(logging.DEBUG, logger=name)
    with serving(emulator) as base_url:
        for client in (make_client(), make_client_over_http(base_url)):
            try:
                client.generate(prompt=PROMPT, size=SIZE, quality="low")
                list(client.generate_stream(prompt=faulty("stream_cut:1"), size=SIZE, quality="low"))
                client.edit(images=[input_png()], prompt=PROMPT, size=SIZE, quality="low")
                for fault in ("unauthorized", "rate_limit:1", "malformed_json"):
                    with suppress(ImageAPIError):
                        client.generate(prompt=faulty(fault), size=SIZE, quality="low")
            finally:
                client.close()

    assert any(record.name.startswith("httpx") for record in caplog.records)
    assert any(record.name.startswith("httpcore") for record in caplog.records)  # the real HTTP calls
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__!r}"
        assert KEY_FRAGMENT not in text, record.name


# -- over real HTTP --------------------------------------------------------------------------

def make_client_over_http(base_url: str, **options: Any) -> ImagesClient:
    return ImagesClient(api_key=API_KEY, base_url=base_url, timeout=10, sleep=lambda _: None, **options)


def test_over_real_http_generate_stream_and_edit(emulator: Emulator) -> None:
    with serving(emulator) as base_url:
        client = make_client_over_http(base_url)
        try:
            generated = client.generate(prompt=PROMPT, size=SIZE, quality="low", output_format="jpeg")
            *partials, streamed = list(client.generate_stream(prompt=PROMPT, size=SIZE, quality="low",
                                                              partial_images=2))
            edited = client.edit(images=[input_png()], mask=input_mask(), prompt=PROMPT, size=SIZE, quality="low")
        finally:
            client.close()

    assert_image(generated.images[0].data, "jpeg")
    assert generated.request_id and generated.request_id.startswith("req_")
    assert [partial.partial_image_index for partial in partials] == [0, 1]
    assert isinstance(streamed, ImageResult)
    assert streamed.usage.image_output == output_image_tokens(WIDTH, HEIGHT, "low") + 2 * PARTIAL_IMAGE_TOKENS
    assert_image(edited.images[0].data, "png")
    assert [(seen["path"], seen["headers"]["authorization"]) for seen in emulator.requests_seen] == [
        ("/v1/images/generations", "REDACTED"), ("/v1/images/generations", "REDACTED"),
        ("/v1/images/edits", "REDACTED")]
    assert [f["field"] for f in emulator.requests_seen[-1]["files"]] == ["image", "mask"]


def test_over_real_http_a_dropped_stream_is_retried_and_errors_are_typed(emulator: Emulator) -> None:
    slept: list[float] = []
    with serving(emulator) as base_url:
        client = ImagesClient(api_key=API_KEY, base_url=base_url + "/", timeout=10, sleep=slept.append)
        try:
            *_, result = list(client.generate_stream(prompt=faulty("stream_cut:1"), size=SIZE, quality="low"))
            with pytest.raises(AuthenticationError) as caught:
                client.generate(prompt=faulty("unauthorized"), size=SIZE, quality="low")
        finally:
            client.close()
    assert isinstance(result, ImageResult) and len(slept) == 1
    assert len(emulator.requests_seen) == 3
    assert caught.value.status == 401 and caught.value.request_id


def test_over_real_http_a_stream_cut_after_a_partial_makes_one_request(emulator: Emulator) -> None:
    slept: list[float] = []
    with serving(emulator) as base_url:
        client = ImagesClient(api_key=API_KEY, base_url=base_url, timeout=10, sleep=slept.append)
        received = []
        try:
            with pytest.raises(StreamInterruptedError) as caught:
                for event in client.generate_stream(prompt=faulty("stream_cut:1"), size=SIZE, quality="low",
                                                    partial_images=2):
                    received.append(event)
        finally:
            client.close()
    assert [partial.partial_image_index for partial in received] == [0]
    assert caught.value.previews == 1 and caught.value.request_id
    assert len(emulator.requests_seen) == 1 and slept == []
