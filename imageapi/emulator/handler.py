"""The Images API, emulated: routing, auth, parsing, validation, faults and answers.

``Emulator.handle`` is the one entry point; the httpx transport and the WSGI app are thin
adapters around it. Every rule about parameters comes from ``imageapi.params``: the
emulator only decides what a valid request *gets back*.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from PIL import Image

from .. import catalogue
from .. import params as rules
from ..errors import ImageAPIError
from ..images import MAX_DECODED_PIXELS, DecompressionBomb, inspect_image
from ..params import Endpoint, ImageInfo, ParamError
from ..pricing import Usage
from . import pictures
from .faults import ERROR_FAULTS, Fault, FaultCounter, FaultSpecError, fault_error, requested_fault
from .multipart import MultipartError, Part, parse_multipart
from .sse import event_type, format_event
from .usage import completed_event_usage, count_text_tokens, input_image_tokens, request_usage

ROUTES: dict[str, Endpoint] = {"/images/generations": "generations", "/images/edits": "edits"}
BASE_PREFIX = "/v1"

logger = logging.getLogger(__name__)

IMAGE_FIELDS = frozenset({"image", "image[]"})
MASK_FIELD = "mask"
URLENCODED = "application/x-www-form-urlencoded"

# Seconds one call takes at latency=1.0, by quality; n>1 adds a quarter per extra image.
RENDER_SECONDS = {"low": 1.5, "medium": 3.0, "high": 5.0, "xhigh": 7.0, "max": 9.0}
EXTRA_IMAGE_LATENCY_SHARE = 0.25

# requests_seen keeps the latest requests only, so a long-running demo server stays small.
REQUESTS_SEEN_LIMIT = 1000
REDACTED = "REDACTED"
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "api-key", "x-api-key", "cookie",
})
# Bodies the emulator refuses to parse (a 400, as a gateway in front of the API would):
# a generation is a prompt of at most 32,000 characters and a few options, far below 1 MB
# even fully \u-escaped; an edit may carry 16 images of < 50 MB and a mask.
MAX_JSON_BODY_BYTES = 1024 * 1024
MAX_FORM_BODY_BYTES = (rules.EDIT_IMAGES_MAX + 1) * rules.MAX_INPUT_BYTES + 1024 * 1024
MAX_JSON_DEPTH = 32

SERVER_ERROR = ("The server had an error while processing your request. Sorry about that! "
                "You can retry your request, or contact us through our help center if the error persists.")

TOO_DEEP = "The JSON body of your request is nested too deeply (at most {depth} levels)."
TOO_LARGE = "The request body is {size:,} bytes; the maximum for {endpoint} is {limit:,} bytes."
NO_API_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username. You can obtain an API key from https://platform.openai.com/account/api-keys."
)
INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.)"
)
# What a broken proxy in front of the API might send with a 200 and a JSON content-type.
MALFORMED_BODY = (
    b"upstream connect error or disconnect/reset before headers."
    b" reset reason: overflow"
)


@dataclass
class EmulatorResponse:
    """An HTTP answer; ``body`` may be a lazy iterator (event streams are produced on demand)."""

    status: int
    headers: dict[str, str]
    body: Iterable[bytes]

    def read(self) -> bytes:
        return b"".join(self.body)


class StreamCut(Exception):
    """Raised by a response body where the emulated connection drops (fault ``stream_cut``)."""


class ReadTimeoutExceeded(Exception):
    """A pause outlasted the caller's read timeout (in-process only; sockets time out alone)."""


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class IncomingRequest:
    """A request's fields after parsing: typed non-file ``params`` and file ``uploads``."""

    endpoint: Endpoint
    params: dict[str, Any] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    type_errors: list[ParamError] = field(default_factory=list)

    @property
    def images(self) -> list[Upload]:
        return [upload for upload in self.uploads if upload.field in IMAGE_FIELDS]

    @property
    def masks(self) -> list[Upload]:
        return [upload for upload in self.uploads if upload.field == MASK_FIELD]


@dataclass(frozen=True)
class Job:
    """A valid request with every ``auto`` resolved: what to draw and how to report it."""

    endpoint: Endpoint
    model: str
    prompt: str
    n: int
    width: int
    height: int
    quality: str
    background: str
    output_format: str
    compression: int
    stream: bool
    partial_images: int
    inputs: tuple[Image.Image, ...]
    mask: Image.Image | None
    text_tokens: int
    image_tokens: int
    frame_count: int = 0  # GIF output only
    frame_duration_ms: int = 0

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def settings(self) -> dict[str, str]:
        """The fields every answer reports: what was actually used."""
        return {"background": self.background, "output_format": self.output_format,
                "quality": self.quality, "size": self.size}

    def render(self, index: int) -> Image.Image:
        transparent = self.background == "transparent"
        if self.endpoint == "edits":
            picture = pictures.edit_picture(self.inputs, self.mask, prompt=self.prompt, index=index,
                                            width=self.width, height=self.height)
            return pictures.with_transparent_border(picture) if transparent else picture
        return pictures.generate_picture(self.prompt, index=index, width=self.width,
                                         height=self.height, transparent=transparent)

    def b64(self, picture: Image.Image) -> str:
        if self.output_format == "gif":
            encoded = pictures.encode_gif(picture, frame_count=self.frame_count,
                                          frame_duration_ms=self.frame_duration_ms)
        else:
            encoded = pictures.encode(picture, self.output_format, self.compression)
        return base64.b64encode(encoded).decode()

    def _cached(self, kind: str, index: int, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
        # A generation is fully determined by these fields; an edit also by its uploads, which
        # are not kept, so edits are drawn every time.
        if self.endpoint != "generations":
            return make()
        key = (kind, index, self.model, self.prompt, self.width, self.height, self.background, self.output_format,
               self.compression, self.frame_count, self.frame_duration_ms,
               self.partial_images if kind == "partials" else 0)
        return pictures.ENCODED.get(key, make)

    def final_b64(self, index: int, *, rendered: Callable[[], Image.Image] | None = None) -> str:
        """Picture ``index``, encoded; ``rendered`` supplies it when already drawn."""
        [text] = self._cached("final", index, lambda: (self.b64((rendered or (lambda: self.render(index)))()),))
        return text

    def partials_b64(self, first: Callable[[], Image.Image]) -> tuple[str, ...]:
        """The partial previews of the first picture, encoded."""
        return self._cached("partials", 0, lambda: tuple(
            self.b64(preview) for preview in pictures.partial_previews(first(), self.partial_images)))

    def usage(self, *, partials_delivered: int) -> Usage:
        return request_usage(text_tokens=self.text_tokens, image_tokens=self.image_tokens, n=self.n,
                             width=self.width, height=self.height, quality=self.quality,
                             partials_delivered=partials_delivered, model=self.model)


class Pause:
    """Sleeps through the injected ``sleep``; a pause longer than the read timeout sleeps
    the timeout and raises, as a socket read would."""

    def __init__(self, sleep: Callable[[float], object], read_timeout: float | None) -> None:
        self._sleep = sleep
        self._read_timeout = read_timeout

    def __call__(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._read_timeout is not None and seconds > self._read_timeout:
            self._sleep(self._read_timeout)
            raise ReadTimeoutExceeded(f"No data within the read timeout of {self._read_timeout}s.")
        self._sleep(seconds)


class Emulator:
    """An offline Images API for gpt-image-2. Thread-safe: one instance serves many threads.

    ``latency`` scales how long calls take (1.0 feels like the real API, 0 is instant);
    ``slow_seconds`` is the extra wait of the ``slow`` fault; ``sleep`` is injectable so
    tests never wait.
    """

    def __init__(self, latency: float = 0.0, slow_seconds: float = 3.0,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        if latency < 0 or slow_seconds < 0:
            raise ValueError("latency and slow_seconds must not be negative.")
        self.latency = latency
        self.slow_seconds = slow_seconds
        self._sleep = sleep
        self._faults = FaultCounter()
        self._seen_lock = threading.Lock()
        self.requests_seen: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes, *,
               read_timeout: float | None = None) -> EmulatorResponse:
        """Answer one HTTP request. Raises ``ReadTimeoutExceeded`` only when a
        ``read_timeout`` (seconds) is given and the answer would take longer."""
        started = time.monotonic()
        request_id = f"req_{secrets.token_hex(16)}"
        headers = {name.lower(): value for name, value in headers.items()}
        record: dict[str, Any] = {"method": method.upper(), "path": path,
                                  "headers": _redacted(headers), "params": {}, "files": []}
        try:
            response = self._answer(method.upper(), path, headers, body, record=record,
                                    request_id=request_id, pause=Pause(self._sleep, read_timeout))
        except ImageAPIError as error:
            response = error_response(error)
        except ReadTimeoutExceeded:
            raise
        except Exception:
            # A bug here must still look like the API: OpenAI's 500 body, never a traceback.
            logger.exception("The emulator failed on %s %s (request %s).", method, path, request_id)
            response = error_response(server_error())
        finally:
            with self._seen_lock:
                self.requests_seen.append(record)
                del self.requests_seen[:-REQUESTS_SEEN_LIMIT]
        response.headers["x-request-id"] = request_id
        response.headers["openai-processing-ms"] = str(round((time.monotonic() - started) * 1000))
        return response

    # -- the steps of one request, in the order the checks apply -------------------------

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes, *,
                record: dict[str, Any], request_id: str, pause: Pause) -> EmulatorResponse:
        if (models := models_route(method, path)) is not None:
            authenticate(headers)
            return models_response(models)
        endpoint = route(method, path)
        api_key = authenticate(headers)
        incoming = parse_request(endpoint, headers, body)
        record["params"] = incoming.params
        record["files"] = [
            {"field": upload.field, "filename": upload.filename,
             "content_type": upload.content_type, "size": len(upload.data)}
            for upload in incoming.uploads
        ]
        try:
            fault = requested_fault(headers, incoming.params)
        except FaultSpecError as exc:
            raise invalid_request(str(exc), code="invalid_emulator_fault") from exc
        job = plan(incoming)
        if fault is not None and self._faults.strikes(fault):
            return self._deliver_with_fault(job, fault, api_key=api_key, request_id=request_id,
                                            model=_model(incoming.params), pause=pause)
        return self._deliver(job, pause=pause)

    def _deliver_with_fault(self, job: Job, fault: Fault, *, api_key: str, request_id: str,
                            model: str, pause: Pause) -> EmulatorResponse:
        if fault.name in ERROR_FAULTS:
            raise fault_error(fault.name, model=model, api_key=api_key, request_id=request_id)
        if fault.name == "slow":
            pause(self.slow_seconds)
            return self._deliver(job, pause=pause)
        if fault.name == "malformed_json":
            return malformed_response(job)
        if fault.name == "stream_cut":
            return self._cut(job)
        raise AssertionError(f"Unhandled emulator fault {fault.name!r}.")

    def _deliver(self, job: Job, *, pause: Pause) -> EmulatorResponse:
        seconds = self._render_seconds(job)
        if job.stream:
            return stream_response(guarded_events(self._events(job, pause=pause, seconds=seconds)))
        pause(seconds)
        return json_response(200, images_body(job))

    def _render_seconds(self, job: Job) -> float:
        extra_images = EXTRA_IMAGE_LATENCY_SHARE * (job.n - 1)
        return self.latency * RENDER_SECONDS[job.quality] * (1 + extra_images)

    def _events(self, job: Job, *, pause: Pause, seconds: float) -> Iterator[bytes]:
        """The event stream, produced lazily: partial previews of the first image arrive
        spread over the render time, then one completed event per image."""
        step = seconds / (job.partial_images + 1)
        created_at = int(time.time())
        pause(step / 2)  # the first image's draft, before anything can be shown
        drawn: list[Image.Image] = []

        def first() -> Image.Image:  # drawn once, and only if the cache lacks it
            if not drawn:
                drawn.append(job.render(0))
            return drawn[0]

        previews = job.partials_b64(first) if job.partial_images else ()
        for position, preview in enumerate(previews):
            yield format_event(
                partial_event(job, preview, position=position, created_at=created_at))
            pause(step)
        pause(step / 2)
        total = job.usage(partials_delivered=job.partial_images)
        for index in range(job.n):
            picture = job.final_b64(index, rendered=first if index == 0 else None)
            yield format_event(completed_event(job, picture, index=index, total=total,
                                               created_at=int(time.time())))

    def _cut(self, job: Job) -> EmulatorResponse:
        """Fault ``stream_cut``: the connection drops while the declared length promised more.
        A stream: after the first event (half of it if there are no partials). Not a stream:
        half-way through the JSON body, as a real cut does (not a short body that ends cleanly)."""
        if not job.stream:
            body = json.dumps(images_body(job)).encode()

            def dropped_body() -> Iterator[bytes]:
                yield body[: len(body) // 2]
                raise StreamCut("The emulated connection dropped in the middle of the body.")

            return EmulatorResponse(200, {"content-type": "application/json", "content-length": str(len(body))},
                                    dropped_body())
        events = list(self._events(job, pause=Pause(lambda _: None, None), seconds=0))
        sent = events[0] if job.partial_images else events[0][: len(events[0]) // 2]

        def dropped_stream() -> Iterator[bytes]:
            yield sent
            raise StreamCut("The emulated connection dropped in the middle of the stream.")

        response = stream_response(dropped_stream())
        # Over real HTTP the over-long length is what makes the client see a broken body.
        response.headers["content-length"] = str(sum(len(event) for event in events))
        return response


# -- routing and authentication --------------------------------------------------------------

def route(method: str, path: str) -> Endpoint:
    """The endpoint ``path`` names (with or without the ``/v1`` prefix); 404 or 405 if none."""
    bare = path.split("?", 1)[0].rstrip("/") or "/"
    if bare.startswith(BASE_PREFIX + "/"):
        bare = bare[len(BASE_PREFIX):]
    endpoint = ROUTES.get(bare)
    if endpoint is None:
        raise ImageAPIError(message=f"Invalid URL ({method} {path})", status=404,
                            type="invalid_request_error")
    if method != "POST":
        raise ImageAPIError(message=f"Invalid method for URL ({method} {path}): use POST.",
                            status=405, type="invalid_request_error")
    return endpoint


MODELS_PATH = "/models"


def models_route(method: str, path: str) -> tuple[str, ...] | None:
    """``GET /models`` → ``()``, ``GET /models/{id}`` → ``(id,)``; ``None`` for other paths."""
    bare = path.split("?", 1)[0].rstrip("/")
    if bare.startswith(BASE_PREFIX + "/"):
        bare = bare[len(BASE_PREFIX):]
    if bare != MODELS_PATH and not bare.startswith(MODELS_PATH + "/"):
        return None
    if method != "GET":
        raise ImageAPIError(message=f"Invalid method for URL ({method} {path}): use GET.",
                            status=405, type="invalid_request_error")
    model_id = bare[len(MODELS_PATH) + 1:]
    return (unquote(model_id),) if model_id else ()


def model_object(model_id: str, entry: catalogue.ModelEntry) -> dict[str, Any]:
    released = entry.released or datetime.date(2025, 1, 1)
    created = int(datetime.datetime.combine(released, datetime.time(), datetime.UTC).timestamp())
    return {"id": model_id, "object": "model", "created": created, "owned_by": "system",
            "shutdown_date": entry.shutdown_date.isoformat() if entry.shutdown_date else None}


def models_response(models: tuple[str, ...]) -> EmulatorResponse:
    """The catalogue as ``GET /v1/models`` lists it: every id and snapshot, shut-down ones
    with their ``shutdown_date``; one of them for ``GET /v1/models/{id}``."""
    if not models:
        data = [model_object(model_id, entry) for entry in catalogue.MODELS for model_id in entry.ids]
        return json_response(200, {"object": "list", "data": data})
    entry = catalogue.entry_for(models[0])
    if entry is None:
        raise ImageAPIError(message=f"The model '{models[0]}' does not exist", status=404,
                            type="invalid_request_error", param="model", code="model_not_found")
    return json_response(200, model_object(models[0], entry))


def authenticate(headers: Mapping[str, str]) -> str:
    """The bearer key; any non-empty key is accepted (fault ``unauthorized`` refuses one)."""
    scheme, _, key = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ImageAPIError(message=NO_API_KEY, status=401, type="invalid_request_error")
    return key.strip()


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: REDACTED if name in SECRET_HEADERS else value for name, value in headers.items()}


# -- parsing ---------------------------------------------------------------------------------

def parse_request(endpoint: Endpoint, headers: Mapping[str, str], body: bytes) -> IncomingRequest:
    if endpoint == "generations":
        return IncomingRequest(endpoint, params=_parse_json_object(body))
    return _parse_edit_form(headers.get("content-type", ""), body)


def _parse_json_object(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_JSON_BODY_BYTES:
        raise invalid_request(TOO_LARGE.format(size=len(body), endpoint="generations",
                                               limit=MAX_JSON_BODY_BYTES), code="request_too_large")
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise invalid_request(TOO_DEEP.format(depth=MAX_JSON_DEPTH)) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request(INVALID_JSON) from exc
    if not isinstance(document, dict):
        raise invalid_request("The request body must be a JSON object.")
    if json_depth(document) > MAX_JSON_DEPTH:
        raise invalid_request(TOO_DEEP.format(depth=MAX_JSON_DEPTH))
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON.")  # Python's json accepts NaN and Infinity; JSON does not


def json_depth(document: Any) -> int:
    """How deeply ``document`` nests arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _parse_edit_form(content_type: str, body: bytes) -> IncomingRequest:
    if len(body) > MAX_FORM_BODY_BYTES:
        raise invalid_request(TOO_LARGE.format(size=len(body), endpoint="edits", limit=MAX_FORM_BODY_BYTES),
                              code="request_too_large")
    try:
        if content_type.split(";")[0].strip().lower() == URLENCODED:
            parts = _urlencoded_parts(body)  # a form without files: then "image" is missing
        else:
            parts = parse_multipart(content_type, body)
    except MultipartError as exc:
        raise invalid_request(
            f"{exc} Edits take multipart/form-data with the images as 'image' or 'image[]' files."
        ) from exc
    incoming = IncomingRequest("edits")
    for part in parts:
        if part.name in IMAGE_FIELDS or part.name == MASK_FIELD:
            incoming.uploads.append(Upload(part.name, part.filename, part.content_type, part.data))
        else:
            value, error = _form_value(part)
            incoming.params[part.name] = value  # a repeated text field: the last one wins
            if error is not None:
                incoming.type_errors.append(error)
    return incoming


def _urlencoded_parts(body: bytes) -> list[Part]:
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MultipartError("Malformed form body.") from exc
    return [Part(name=name, filename=None, content_type=None, data=value.encode())
            for name, value in pairs]


def _form_value(part: Part) -> tuple[Any, ParamError | None]:
    """A text field's typed value (by ``imageapi.params``' types), or its raw text and the
    reason it cannot be typed."""
    try:
        text = part.data.decode("utf-8")
    except UnicodeDecodeError:
        return part.data.decode("latin-1"), ParamError(
            part.name, f"The value of '{part.name}' must be UTF-8 text.", "invalid_encoding")
    return rules.from_form_text(part.name, text)


# -- validation and planning -----------------------------------------------------------------

def plan(incoming: IncomingRequest) -> Job:
    """Validate ``incoming`` (first error wins) and resolve it into a ``Job``."""
    params = incoming.params
    if (shut_down := catalogue.entry_for(_model(params))) is not None and shut_down.is_shut_down:
        # What OpenAI answers for a retired model (reported shape; models.md).
        raise ImageAPIError(message=f"The model '{_model(params)}' does not exist.", status=400,
                            type="image_generation_user_error", param="model", code="invalid_value")
    errors = incoming.type_errors or rules.validate_request(params, endpoint=incoming.endpoint)
    if errors:
        raise param_error(errors[0])
    params, _ = rules.typed_fields(params, endpoint=incoming.endpoint)  # e.g. n=2.0 becomes 2
    model = _model(params)
    if model not in rules.KNOWN_MODELS:
        raise ImageAPIError(
            message=f"The model `{model}` does not exist or you do not have access to it.",
            status=404, type="invalid_request_error", code="model_not_found")
    for upload in incoming.uploads:
        if (error := rules.validate_content_type(upload.field.removesuffix("[]"), upload.content_type)):
            raise param_error(error)
    entry = rules.model_entry(model)
    image_infos: list[ImageInfo] = []
    inputs: tuple[Image.Image, ...] = ()
    mask: Image.Image | None = None
    if incoming.endpoint == "edits":
        image_infos, mask_info = _inspect_uploads(incoming)
        if errors := rules.validate_edit_inputs(image_infos, mask_info,
                                                output_format=params.get("output_format", "png")):
            raise param_error(errors[0])
        inputs = tuple(_decode(upload, "image") for upload in incoming.images)
        mask = _decode(incoming.masks[0], MASK_FIELD) if incoming.masks else None

    width, height = rules.output_dimensions(params.get("size") or rules.AUTO_SIZE,
                                            fallback=_auto_size(inputs))
    stream = bool(params.get("stream"))
    quality = params.get("quality") or "auto"
    compression = params.get("output_compression")
    gif = entry.gif if params.get("output_format") == "gif" else None
    return Job(
        endpoint=incoming.endpoint,
        model=model,
        prompt=params["prompt"],
        n=params.get("n") or 1,
        width=width, height=height,
        quality=rules.AUTO_QUALITY_ESTIMATE if quality == "auto" else quality,
        background="transparent" if params.get("background") == "transparent" else "opaque",
        output_format=params.get("output_format") or "png",
        compression=rules.COMPRESSION_MAX if compression is None else compression,
        stream=stream,
        partial_images=(params.get("partial_images") or 0) if stream else 0,
        inputs=inputs, mask=mask,
        text_tokens=count_text_tokens(params["prompt"]),
        image_tokens=input_image_tokens(image_infos),
        frame_count=params.get("frame_count", gif.frame_count_default) if gif else 0,
        frame_duration_ms=params.get("frame_duration_ms", gif.frame_duration_ms_default) if gif else 0,
    )


def _model(params: Mapping[str, Any]) -> str:
    model = params.get("model")
    return model if isinstance(model, str) and model else rules.DEFAULT_MODEL


def _auto_size(inputs: tuple[Image.Image, ...]) -> tuple[int, int]:
    """``auto``: the first input's size when gpt-image-2 could produce it, else the default."""
    if inputs and rules.size_error(*inputs[0].size) is None:
        return inputs[0].size
    return rules.AUTO_SIZE_ESTIMATE


def _inspect_uploads(incoming: IncomingRequest) -> tuple[list[ImageInfo], ImageInfo | None]:
    if len(incoming.masks) > 1:
        raise param_error(ParamError(MASK_FIELD, "Send at most one mask.", "too_many_masks"))
    images = [_inspect(upload, "image") for upload in incoming.images]
    mask = _inspect(incoming.masks[0], MASK_FIELD) if incoming.masks else None
    return images, mask


def _inspect(upload: Upload, param: str) -> ImageInfo:
    try:
        return inspect_image(upload.data)
    except DecompressionBomb as exc:
        name = f"'{upload.filename}'" if upload.filename else "An uploaded file"
        raise param_error(ParamError(
            param, f"{name} is too large to decode: it claims more than "
            f"{MAX_DECODED_PIXELS:,} pixels.", "image_too_large",
        )) from exc


def _decode(upload: Upload, param: str) -> Image.Image:
    try:
        return pictures.decode(upload.data)
    except (OSError, ValueError) as exc:  # passed inspection yet cannot be decoded (truncated…)
        raise param_error(ParamError(param, "An uploaded image could not be decoded.",
                                     "invalid_image")) from exc


# -- answers ---------------------------------------------------------------------------------

def server_error() -> ImageAPIError:
    return ImageAPIError(message=SERVER_ERROR, status=500, type="server_error")


def invalid_request(message: str, *, code: str | None = None) -> ImageAPIError:
    return ImageAPIError(message=message, status=400, type="invalid_request_error", code=code)


def param_error(error: ParamError) -> ImageAPIError:
    return ImageAPIError(message=error.message, status=400, type="invalid_request_error",
                         code=error.code, param=error.param)


def raw_response(status: int, content_type: str, body: bytes) -> EmulatorResponse:
    headers = {"content-type": content_type, "content-length": str(len(body))}
    return EmulatorResponse(status, headers, [body])


def json_response(status: int, payload: Mapping[str, Any]) -> EmulatorResponse:
    return raw_response(status, "application/json", json.dumps(payload).encode())


def error_response(error: ImageAPIError) -> EmulatorResponse:
    response = json_response(error.status or 500, error.as_body())
    if error.retry_after is not None:
        # retry-after holds whole seconds; retry-after-ms is the precise hint SDKs prefer.
        response.headers["retry-after"] = str(max(1, math.ceil(error.retry_after)))
        response.headers["retry-after-ms"] = str(round(error.retry_after * 1000))
    if error.status == 405:
        response.headers["allow"] = "POST"
    return response


def stream_response(events: Iterator[bytes]) -> EmulatorResponse:
    return EmulatorResponse(200, {"content-type": "text/event-stream", "cache-control": "no-cache"},
                            events)


def guarded_events(events: Iterator[bytes]) -> Iterator[bytes]:
    """``events``, ending with the API's ``error`` event if producing them fails: the status
    line is sent already, so a bug can no longer become a 500."""
    try:
        yield from events
    except (StreamCut, ReadTimeoutExceeded):
        raise  # emulated network trouble, not a failure of the emulator
    except Exception:
        logger.exception("The emulator failed in the middle of an event stream.")
        body = server_error().as_body()
        yield f"event: error\ndata: {json.dumps(body, separators=(',', ':'))}\n\n".encode()


def malformed_response(job: Job) -> EmulatorResponse:
    """Fault ``malformed_json``: a 200 whose body is not what its content-type promises."""
    if not job.stream:
        return raw_response(200, "application/json", MALFORMED_BODY)
    kind = event_type(job.endpoint, "partial_image")
    frame = f"event: {kind}\ndata: ".encode() + MALFORMED_BODY + b"\n\n"
    return stream_response(iter([frame]))


def images_body(job: Job) -> dict[str, Any]:
    return {
        "created": int(time.time()),
        "data": [{"b64_json": job.final_b64(index)} for index in range(job.n)],
        **job.settings(),
        "usage": job.usage(partials_delivered=0).as_api(),
    }


def partial_event(job: Job, preview: str, *, position: int,
                  created_at: int) -> dict[str, Any]:
    """``preview`` is the encoded (base64) partial image."""
    return {"type": event_type(job.endpoint, "partial_image"), "b64_json": preview,
            "partial_image_index": position, "created_at": created_at, **job.settings()}


def completed_event(job: Job, picture: str, *, index: int, total: Usage,
                    created_at: int) -> dict[str, Any]:
    """``picture`` is the encoded (base64) image."""
    usage = completed_event_usage(total, index=index, n=job.n, width=job.width, height=job.height,
                                  quality=job.quality, model=job.model)
    return {"type": event_type(job.endpoint, "completed"), "b64_json": picture,
            "created_at": created_at, **job.settings(), "usage": usage.as_api()}
