"""An httpx client for the Images API: generations and edits, plain and streaming.

Retries follow the official SDK: 408/409/429/5xx and connection errors, twice by
default, with exponential backoff and jitter, honouring ``retry-after(-ms)`` and
``x-should-retry``; billing errors are never retried. OpenAI has no idempotency key, so
a stream that broke after delivering any event is never re-sent (that would be a second
paid generation): it fails with ``StreamInterruptedError``. Requests are checked against
``imageapi.params`` before they leave, so a bad request fails fast with the same error
the API would give.
"""

from __future__ import annotations

import base64
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import mktime_tz, parsedate_tz
from typing import Any

import httpx

from . import params as rules
from .errors import (
    MAX_RETRY_AFTER,
    APIConnectionError,
    APITimeoutError,
    ImageAPIError,
    InvalidRequestError,
    MalformedResponseError,
    StreamInterruptedError,
    error_from_event,
    error_from_response,
)
from .images import sniff_format
from .pricing import Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 600.0  # high-quality images can take about two minutes
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
# A worker keeps up to ~1,000 calls in flight (issue 10): httpx's default pool of 100
# connections would queue the rest. Idle connections beyond the keep-alive limit close.
DEFAULT_MAX_CONNECTIONS = 1000
DEFAULT_MAX_KEEPALIVE = 100

# ``on_retry(attempt, error, delay)``: called before retry number ``attempt`` (1-based), which
# follows ``error`` after a wait of ``delay`` seconds.
RetryHook = Callable[[int, ImageAPIError, float], None]


@dataclass(frozen=True)
class InputFile:
    """An image or mask sent to ``/images/edits``."""

    filename: str
    data: bytes
    content_type: str = "image/png"


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    format: str
    index: int


@dataclass(frozen=True)
class PartialImage:
    """A low-detail preview streamed before the final image."""

    data: bytes
    format: str
    partial_image_index: int


@dataclass(frozen=True)
class ImageResult:
    images: list[GeneratedImage]
    usage: Usage
    size: str | None
    quality: str | None
    background: str | None
    output_format: str
    created: int | None
    request_id: str | None
    latency_ms: int
    raw_usage: list[dict[str, Any]] = field(default_factory=list)


class ImagesClient:
    """Calls ``/images/generations`` and ``/images/edits``; one instance may serve many threads."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_keepalive_connections: int = DEFAULT_MAX_KEEPALIVE,
        pool_timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_retries = max_retries
        self._sleep = sleep
        self.limits = httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=min(max_keepalive_connections, max_connections))
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "studio/0.1"},
            # A call may wait for a free connection (more jobs than connections) as long as for
            # an answer: it has not been sent yet, so waiting costs nothing.
            timeout=httpx.Timeout(timeout, connect=connect_timeout,
                                  pool=timeout if pool_timeout is None else pool_timeout),
            limits=self.limits,
            transport=transport,
        )

    def __repr__(self) -> str:  # never show the key
        return f"<ImagesClient {self._http.base_url}>"

    def close(self) -> None:
        self._http.close()

    # -- public API ----------------------------------------------------------------------

    def generate(self, *, on_retry: RetryHook | None = None, **params: Any) -> ImageResult:
        body = self._checked(params, endpoint="generations", stream=False)
        return self._with_retries(lambda: self._post_json("images/generations", body), on_retry)

    def edit(
        self,
        *,
        images: Sequence[InputFile],
        mask: InputFile | None = None,
        on_retry: RetryHook | None = None,
        **params: Any,
    ) -> ImageResult:
        fields = self._checked(params, endpoint="edits", stream=False)
        return self._with_retries(
            lambda: self._post_multipart("images/edits", fields, images, mask), on_retry
        )

    def generate_stream(
        self, *, on_retry: RetryHook | None = None, **params: Any
    ) -> Iterator[PartialImage | ImageResult]:
        """Yield partial images as they arrive, then the final ``ImageResult``."""
        body = self._checked(params, endpoint="generations", stream=True)
        return self._stream_with_retries(
            lambda: self._http.build_request("POST", "images/generations", json=body), on_retry,
            requested_format=body.get("output_format"),
        )

    def edit_stream(
        self,
        *,
        images: Sequence[InputFile],
        mask: InputFile | None = None,
        on_retry: RetryHook | None = None,
        **params: Any,
    ) -> Iterator[PartialImage | ImageResult]:
        fields = self._checked(params, endpoint="edits", stream=True)
        return self._stream_with_retries(
            lambda: self._http.build_request(
                "POST", "images/edits", data=_form_fields(fields), files=_form_files(images, mask)
            ),
            on_retry,
            requested_format=fields.get("output_format"),
        )

    # -- requests ------------------------------------------------------------------------

    @staticmethod
    def _checked(params: Mapping[str, Any], *, endpoint: rules.Endpoint, stream: bool) -> dict[str, Any]:
        body = {name: value for name, value in params.items() if value is not None}
        body.setdefault("model", rules.DEFAULT_MODEL)
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        errors = rules.validate_request(body, endpoint=endpoint)
        if errors:
            first = errors[0]
            raise InvalidRequestError(
                message=first.message, status=400, type="invalid_request_error",
                code=first.code, param=first.param,
            )
        return body

    def _post_json(self, path: str, body: dict[str, Any]) -> ImageResult:
        started = time.monotonic()
        response = self._send(self._http.build_request("POST", path, json=body))
        return _result_from_json(response, started, requested_format=body.get("output_format"))

    def _post_multipart(
        self, path: str, fields: dict[str, Any], images: Sequence[InputFile], mask: InputFile | None
    ) -> ImageResult:
        started = time.monotonic()
        request = self._http.build_request(
            "POST", path, data=_form_fields(fields), files=_form_files(images, mask)
        )
        return _result_from_json(self._send(request), started, requested_format=fields.get("output_format"))

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise APITimeoutError(message="The Images API did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(message=f"Could not reach the Images API ({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            if stream:
                response.read()
                response.close()
            raise _error_from(response)
        return response

    # -- retries -------------------------------------------------------------------------

    def _with_retries(self, call: Callable[[], ImageResult], on_retry: RetryHook | None) -> ImageResult:
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except ImageAPIError as error:
                self._pause_or_raise(error, attempt, on_retry)
        raise AssertionError("unreachable")  # pragma: no cover

    def _stream_with_retries(
        self, build: Callable[[], httpx.Request], on_retry: RetryHook | None, *, requested_format: str | None
    ) -> Iterator[PartialImage | ImageResult]:
        for attempt in range(self.max_retries + 1):
            started = time.monotonic()
            progress = _StreamProgress()
            try:
                response = self._send(build(), stream=True)
                try:
                    yield from _read_event_stream(response, started, progress=progress,
                                                  requested_format=requested_format)
                finally:
                    response.close()
                return
            except ImageAPIError as error:
                if progress.events:
                    # The call is under way and may be billed: a second request would be a second
                    # generation. Typed errors (an SSE error event) stay as they are.
                    if isinstance(error, APIConnectionError):
                        raise _interrupted(error, progress) from error
                    raise
                self._pause_or_raise(error, attempt, on_retry)

    def _pause_or_raise(self, error: ImageAPIError, attempt: int, on_retry: RetryHook | None) -> None:
        if not error.retryable or attempt >= self.max_retries:
            raise error
        delay = retry_delay(attempt, retry_after=error.retry_after)
        if on_retry is not None:
            on_retry(attempt + 1, error, delay)
        self._sleep(delay)


def retry_delay(attempt: int, *, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt + 1``, by the official SDK's rules
    (``_calculate_retry_timeout``): the server's word when it is finite and in (0, 120] s,
    else ``min(0.5·2^attempt, 8)`` less up to 25% jitter. A retry-after of 0 (or a date in
    the past) still backs off; one above 120 s is not retried at all (``ImageAPIError.retryable``)."""
    if retry_after is not None and math.isfinite(retry_after) and 0 < retry_after <= MAX_RETRY_AFTER:
        return retry_after
    return min(0.5 * 2 ** min(attempt, 1000), 8.0) * (1 - 0.25 * random.random())


@dataclass
class _StreamProgress:
    """What one attempt's event stream has delivered so far."""

    events: int = 0
    previews: int = 0


def _interrupted(error: ImageAPIError, progress: _StreamProgress) -> StreamInterruptedError:
    previews = progress.previews
    return StreamInterruptedError(
        message=f"The connection dropped after {previews} preview{'' if previews == 1 else 's'}; resubmit.",
        request_id=error.request_id, previews=previews,
    )


def _form_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in fields.items()
    }


def _form_files(images: Sequence[InputFile], mask: InputFile | None) -> list[tuple[str, tuple[str, bytes, str]]]:
    # One image goes as `image`, several as repeated `image[]`, as the official SDKs send them.
    field_name = "image" if len(images) == 1 else "image[]"
    files = [(field_name, (image.filename, image.data, image.content_type)) for image in images]
    if mask is not None:
        files.append(("mask", (mask.filename, mask.data, mask.content_type)))
    return files


# -- responses ---------------------------------------------------------------------------


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks us to wait, read as the SDK's ``_parse_retry_after_header``
    does: ``retry-after-ms``, then ``retry-after`` as a number, then as an HTTP date (which
    may lie in the past: negative). An unreadable header is skipped."""
    for header, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        if delay == math.inf and value.strip().lower() not in ("inf", "+inf", "infinity", "+infinity"):
            return MAX_RETRY_AFTER + 1  # a numeric overflow is an excessive delay, not "infinity"
        return delay / divisor
    try:
        parsed = parsedate_tz(headers.get("retry-after"))  # type: ignore[arg-type]
        if parsed is None:
            return None
        return float(mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _error_from(response: httpx.Response) -> ImageAPIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = error_from_response(
        response.status_code, body,
        request_id=response.headers.get("x-request-id"),
        retry_after=_retry_after(response.headers),
    )
    should_retry = response.headers.get("x-should-retry")
    if should_retry in ("true", "false"):
        error.should_retry = should_retry == "true"
    return error


def _decode(b64: object, *, request_id: str | None) -> bytes:
    if not isinstance(b64, str):
        raise MalformedResponseError(message="The Images API returned an image without data.",
                                     request_id=request_id)
    try:
        return base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise MalformedResponseError(message="The Images API returned undecodable image data.",
                                     request_id=request_id) from exc


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _image_format(data: bytes, *, stated: object, requested: str | None, request_id: str | None) -> str:
    """What the bytes are (their magic number), else what the answer or the request said.
    Never a guess: JPEG bytes labelled png would be stored and served as the wrong type."""
    sniffed = sniff_format(data)
    if sniffed is not None:
        return sniffed
    if isinstance(stated, str) and stated:
        return stated
    if requested:
        return requested
    raise MalformedResponseError(message="The Images API returned an image in an unknown format.",
                                 request_id=request_id)


def _result_from_json(response: httpx.Response, started: float, *, requested_format: str | None) -> ImageResult:
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
    except ValueError as exc:
        raise MalformedResponseError(
            message="The Images API answered with something that is not JSON.",
            status=response.status_code, request_id=request_id,
        ) from exc
    if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not body["data"]:
        raise MalformedResponseError(message="The Images API answered without images.",
                                     status=response.status_code, request_id=request_id)
    images = []
    for index, item in enumerate(body["data"]):
        data = _decode(item.get("b64_json") if isinstance(item, dict) else None, request_id=request_id)
        images.append(GeneratedImage(data=data, index=index, format=_image_format(
            data, stated=body.get("output_format"), requested=requested_format, request_id=request_id)))
    raw_usage = body.get("usage")
    return ImageResult(
        images=images, usage=Usage.from_api(raw_usage), size=body.get("size"),
        quality=body.get("quality"), background=body.get("background"),
        output_format=images[0].format, created=body.get("created"), request_id=request_id,
        latency_ms=_elapsed_ms(started), raw_usage=[raw_usage] if raw_usage else [],
    )


def _server_sent_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The ``data`` objects of an SSE body; stops at ``[DONE]``."""
    data_lines: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            data_lines.append(line[5:].strip())
        elif not line and data_lines:
            data = "\n".join(data_lines)
            data_lines = []
            if data == "[DONE]":
                return
            try:
                yield json.loads(data)
            except ValueError as exc:
                raise MalformedResponseError(message="The Images API sent an unreadable event.") from exc
    if data_lines and data_lines != ["[DONE]"]:
        raise APIConnectionError(message="The Images API's event stream ended mid-event.")


def _read_event_stream(
    response: httpx.Response, started: float, *, progress: _StreamProgress, requested_format: str | None
) -> Iterator[PartialImage | ImageResult]:
    request_id = response.headers.get("x-request-id")
    images: list[GeneratedImage] = []
    usages: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    try:
        for event in _server_sent_events(response):
            if "error" in event or event.get("type") == "error":
                raise error_from_event(event, request_id=request_id)
            progress.events += 1
            kind = str(event.get("type", ""))
            if kind.endswith(".partial_image"):
                data = _decode(event.get("b64_json"), request_id=request_id)
                progress.previews += 1
                yield PartialImage(
                    data=data,
                    format=_image_format(data, stated=event.get("output_format"), requested=requested_format,
                                         request_id=request_id),
                    partial_image_index=int(event.get("partial_image_index") or 0),
                )
            elif kind.endswith(".completed"):
                data = _decode(event.get("b64_json"), request_id=request_id)
                images.append(GeneratedImage(data=data, index=len(images), format=_image_format(
                    data, stated=event.get("output_format"), requested=requested_format, request_id=request_id)))
                if event.get("usage"):
                    usages.append(event["usage"])
                last = event
    except httpx.TimeoutException as exc:
        raise APITimeoutError(message="The Images API stopped sending in time.", request_id=request_id) from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(message="The connection to the Images API broke mid-stream.",
                                 request_id=request_id) from exc
    if not images:
        raise APIConnectionError(message="The Images API's stream ended before the image was complete.",
                                 request_id=request_id)
    usage = Usage()
    for raw in usages:
        usage += Usage.from_api(raw)
    yield ImageResult(
        images=images, usage=usage, size=last.get("size"), quality=last.get("quality"),
        background=last.get("background"), output_format=images[0].format,
        created=last.get("created_at"), request_id=request_id, latency_ms=_elapsed_ms(started),
        raw_usage=usages,
    )
