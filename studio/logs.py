"""Structured logs: one JSON object a line (python-json-logger) carrying the request id, the
user id and the job id of whatever was running, with secrets masked and bytes never written.

Prompts are the users' words: they are logged only at DEBUG (never at INFO and above)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .security import scrub

CONTEXT_FIELDS = ("request_id", "user_id", "job_id")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("studio_log_context", default={})  # noqa: B039 - never mutated
# A request id from the proxy in front is kept if it looks like one; anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Every log line inside carries these fields (request_id, user_id, job_id)."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def _safe(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value


class ContextFilter(logging.Filter):
    """Adds the context fields; replaces bytes arguments by their length."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        request = getattr(record, "request", None)  # Django's own request log lines carry it
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                value = context.get(name)
                if value is None and request is not None:
                    value = _from_request(request, name)
                setattr(record, name, value)
        if isinstance(record.args, tuple):
            record.args = tuple(_safe(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _safe(arg) for key, arg in record.args.items()}
        record.msg = _safe(record.msg)
        return True


def _from_request(request: Any, name: str) -> Any:
    if name == "request_id":
        return getattr(request, "request_id", None)
    if name == "user_id":
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None
    return None


class SecretSafeJsonFormatter(JsonFormatter):
    """JSON lines; known secret values masked wherever they appear (messages, tracebacks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time", "color_message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "asctime": "time"})
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class SecretSafeFormatter(logging.Formatter):
    """Plain lines for development, masked the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class RequestLogContextMiddleware:
    """Gives each request an id (the proxy's ``X-Request-ID`` if it sent a sane one), returns it
    in the response, and puts it and the user's id on every log line written meanwhile."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        with log_context(request_id=request.request_id, user_id=user_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
