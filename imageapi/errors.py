"""Errors of the Images API, shared by the client and the emulator."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# Billing errors arrive as 429 but waiting never helps.
NON_RETRYABLE_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# The official SDK honours a retry-after of up to two minutes; a longer one it does not
# retry at all (the server asks for more patience than a retry loop should hold).
MAX_RETRY_AFTER = 120.0


@dataclass(eq=False)
class ImageAPIError(Exception):
    """An error answered by the API (or the emulator), or met on the way to it."""

    message: str
    status: int | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    request_id: str | None = None
    retry_after: float | None = None  # seconds, from retry-after(-ms)
    should_retry: bool | None = None  # the server's x-should-retry, when it sent one

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def retryable(self) -> bool:
        if self.code in NON_RETRYABLE_CODES:
            return False
        if self.retry_after is not None and math.isfinite(self.retry_after) and self.retry_after > MAX_RETRY_AFTER:
            return False
        if self.should_retry is not None:
            return self.should_retry
        if self.status is None:
            return True
        return self.status in RETRYABLE_STATUSES or self.status >= 500

    def as_body(self) -> dict:
        """The JSON error body, as the API sends it."""
        return {"error": {"message": self.message, "type": self.type or "invalid_request_error",
                          "param": self.param, "code": self.code}}


class InvalidRequestError(ImageAPIError):
    """400: a parameter was rejected (``param`` names it)."""


class ModerationBlockedError(ImageAPIError):
    """400 with code ``moderation_blocked``: the safety system refused the prompt or image."""


class AuthenticationError(ImageAPIError):
    """401: the API key was refused."""


class PermissionDeniedError(ImageAPIError):
    """403: e.g. the organization is not verified for GPT image models."""


class NotFoundError(ImageAPIError):
    """404: unknown model or path."""


class RateLimitError(ImageAPIError):
    """429: too many requests; retried after ``retry_after``."""


class QuotaExceededError(ImageAPIError):
    """429 with ``insufficient_quota`` or ``billing_hard_limit_reached``: never retried."""


class ServerError(ImageAPIError):
    """408, 409 or 5xx: transient trouble on the other side."""


class APIConnectionError(ImageAPIError):
    """No answer: connection refused, reset, or timed out."""


class APITimeoutError(APIConnectionError):
    """The request took longer than the configured timeout."""


@dataclass(eq=False)
class StreamInterruptedError(APIConnectionError):
    """A stream broke after it had delivered events: the call has started (and may be billed),
    and OpenAI has no idempotency key, so it is never re-sent blindly."""

    previews: int = 0

    @property
    def retryable(self) -> bool:
        return False


class MalformedResponseError(ImageAPIError):
    """The answer was not the JSON or event stream the contract promises."""

    @property
    def retryable(self) -> bool:
        # The server answered (and may have billed the call): asking again is no cure. Some are
        # raised without a status (a bad event mid-stream, an image without data), which the
        # base rule would read as "no answer at all" and retry.
        return bool(self.should_retry)


def error_class_for(status: int, code: str | None) -> type[ImageAPIError]:
    if status == 400:
        return ModerationBlockedError if code == "moderation_blocked" else InvalidRequestError
    if status == 429:
        return QuotaExceededError if code in NON_RETRYABLE_CODES else RateLimitError
    return {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError}.get(
        status, ServerError if status in (408, 409) or status >= 500 else ImageAPIError
    )


def error_from_response(
    status: int, body: object, *, request_id: str | None = None, retry_after: float | None = None
) -> ImageAPIError:
    """The typed error for an error response; tolerates bodies that are not the usual shape."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    message = error.get("message") or f"The Images API answered HTTP {status}."
    code = error.get("code")
    cls = error_class_for(status, code)
    return cls(
        message=str(message), status=status, type=error.get("type"), code=code,
        param=error.get("param"), request_id=request_id, retry_after=retry_after,
    )


# How an error event inside a 200 event stream reads as the HTTP error it stands for.
_STATUS_BY_CODE = {
    "insufficient_quota": 429, "billing_hard_limit_reached": 429, "rate_limit_exceeded": 429,
    "moderation_blocked": 400, "invalid_api_key": 401, "model_not_found": 404,
    "server_error": 500, "internal_error": 500, "timeout": 408,
}
_STATUS_BY_TYPE = {
    "requests": 429, "tokens": 429, "rate_limit_error": 429, "insufficient_quota": 429,
    "image_generation_user_error": 400, "invalid_request_error": 400,
    "authentication_error": 401, "permission_error": 403, "not_found_error": 404,
    "server_error": 500, "api_error": 500,
}


def error_from_event(event: Mapping[str, object], *, request_id: str | None = None) -> ImageAPIError:
    """The typed error for an SSE ``error`` event, classed by its ``code`` then its ``type`` as
    the HTTP error with the same body would be (a ``server_error`` is a ``ServerError``).

    Accepts ``{"error": {...}}`` (the Images API) and a flat ``{"type": "error", "code": ...}``
    (the Responses API). ``status`` holds the equivalent HTTP status: the stream's own was 200.
    An error of a kind nobody documents is not retried: the call may already be under way.
    """
    body = event.get("error")
    error = body if isinstance(body, Mapping) else event
    code = error.get("code") if isinstance(error.get("code"), str) else None
    type_ = error.get("type") if isinstance(error.get("type"), str) and error is body else None
    status = _STATUS_BY_CODE.get(code or "") or _STATUS_BY_TYPE.get(type_ or "")
    message = error.get("message") or "The Images API reported an error mid-stream."
    param = error.get("param") if isinstance(error.get("param"), str) else None
    if status is None:
        return ImageAPIError(message=str(message), type=type_, code=code, param=param,
                             request_id=request_id, should_retry=False)
    return error_class_for(status, code)(message=str(message), status=status, type=type_, code=code,
                                         param=param, request_id=request_id)
