"""Faults a request can ask for, so tests and demos meet every failure the real API has.

A request names one with the header ``x-emulator-fault: SPEC`` or a ``[[fault:SPEC]]``
marker in its prompt. ``SPEC`` is ``NAME`` (every such request fails) or ``NAME:K`` (the
first K requests of the same scope fail, later ones succeed: how retries are proven).

The scope of a ``NAME:K`` counter is the spec, the request's prompt and the optional header
``x-emulator-fault-key``: a retry (same request) counts against the same K, while another
test or client asking for the same fault with another prompt, or another key, gets its own
K. Clients sharing one long-running emulator set ``x-emulator-fault-key`` (e.g. a test id)
to be sure nobody else uses up their faults.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ImageAPIError

FAULT_HEADER = "x-emulator-fault"
FAULT_KEY_HEADER = "x-emulator-fault-key"
# Counters remembered at most; the least recently used are forgotten, so a long-running
# server stays small (a forgotten scope starts again from K).
FAULT_SCOPES_LIMIT = 10_000
FAULT_MARKER = re.compile(r"\[\[fault:([^\]]*)\]\]")

# Faults answered with an error body instead of images.
ERROR_FAULTS = (
    "rate_limit", "server_error", "unavailable", "timeout", "moderation",
    "unauthorized", "insufficient_quota", "billing_limit",
)
# Faults that change how a successful answer is delivered.
DELIVERY_FAULTS = ("slow", "stream_cut", "malformed_json")
FAULT_NAMES = (*ERROR_FAULTS, *DELIVERY_FAULTS)

RATE_LIMIT_RETRY_SECONDS = 0.05


@dataclass(frozen=True)
class Fault:
    spec: str  # exactly as the request wrote it
    name: str
    limit: int | None  # None: strike every request
    scope: tuple[str, ...] = ()  # with the spec, the key of its counter (see the module's doc)


class FaultSpecError(ValueError):
    """The request asked for a fault that does not exist."""


def parse_fault(spec: str) -> Fault:
    name, sep, count = spec.strip().partition(":")
    if name not in FAULT_NAMES:
        raise FaultSpecError(
            f"Unknown emulator fault '{spec}'. Valid faults are NAME or NAME:K (fail the first K "
            f"requests) with NAME one of: {', '.join(FAULT_NAMES)}."
        )
    if not sep:
        return Fault(spec=spec, name=name, limit=None)
    if not count.isdigit() or int(count) < 1:
        raise FaultSpecError(
            f"Invalid emulator fault '{spec}': K in NAME:K must be a whole number of at least 1."
        )
    return Fault(spec=spec, name=name, limit=int(count))


def requested_fault(headers: Mapping[str, str], params: Mapping[str, Any]) -> Fault | None:
    """The fault a request asks for, scoped to its prompt and fault key; the header wins over
    a prompt marker."""
    prompt = params.get("prompt")
    prompt = prompt if isinstance(prompt, str) else ""
    spec = headers.get(FAULT_HEADER)
    if not spec:
        match = FAULT_MARKER.search(prompt)
        spec = match.group(1) if match else None
    if not spec:
        return None
    fault = parse_fault(spec)
    return Fault(spec=fault.spec, name=fault.name, limit=fault.limit,
                 scope=(headers.get(FAULT_KEY_HEADER, ""), prompt))


class FaultCounter:
    """How often each ``NAME:K`` fault has struck in its scope; shared by the server's threads."""

    def __init__(self, *, limit: int = FAULT_SCOPES_LIMIT) -> None:
        self._strikes: OrderedDict[tuple[str, ...], int] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def strikes(self, fault: Fault) -> bool:
        """Whether ``fault`` hits this request (and count it when it does)."""
        if fault.limit is None:
            return True
        key = (fault.spec, *fault.scope)
        with self._lock:
            struck = self._strikes.pop(key, 0)
            self._strikes[key] = min(struck + 1, fault.limit)  # most recently used last
            while len(self._strikes) > self._limit:
                self._strikes.popitem(last=False)
            return struck < fault.limit


def fault_error(name: str, *, model: str, api_key: str, request_id: str) -> ImageAPIError:
    """The error the real API answers in the situation ``name`` simulates."""
    if name == "rate_limit":
        return ImageAPIError(
            message=(
                f"Rate limit reached for {model} in organization org-emulator on images per min "
                f"(IPM): Limit 5, Used 5, Requested 1. Please try again after "
                f"{RATE_LIMIT_RETRY_SECONDS} seconds. Visit https://platform.openai.com/account/"
                "rate-limits to learn more."
            ),
            status=429, type="requests", code="rate_limit_exceeded",
            retry_after=RATE_LIMIT_RETRY_SECONDS,
        )
    if name == "server_error":
        return ImageAPIError(
            message="The server had an error while processing your request. Sorry about that!",
            status=500, type="server_error",
        )
    if name == "unavailable":
        return ImageAPIError(
            message="The server is overloaded or not ready yet.", status=503, type="server_error",
        )
    if name == "timeout":
        return ImageAPIError(message="Request timed out.", status=408, type="server_error",
                             code="timeout")
    if name == "moderation":
        return ImageAPIError(
            message=(
                "Your request was rejected by the safety system. If you believe this is an "
                f"error, contact us at help.openai.com and include the request ID {request_id}."
            ),
            status=400, type="image_generation_user_error", code="moderation_blocked",
        )
    if name == "unauthorized":
        return ImageAPIError(
            message=(
                f"Incorrect API key provided: {mask_api_key(api_key)}. You can find your API key "
                "at https://platform.openai.com/account/api-keys."
            ),
            status=401, type="invalid_request_error", code="invalid_api_key",
        )
    if name == "insufficient_quota":
        return ImageAPIError(
            message="You exceeded your current quota, please check your plan and billing details.",
            status=429, type="insufficient_quota", code="insufficient_quota",
        )
    if name == "billing_limit":
        return ImageAPIError(
            message="Billing hard limit has been reached.",
            status=429, type="invalid_request_error", code="billing_hard_limit_reached",
        )
    raise ValueError(f"{name!r} is not an error fault.")


def mask_api_key(key: str) -> str:
    """``sk-proj-abc…wxyz`` → ``sk-...wxyz``; short keys are hidden entirely."""
    if len(key) < 12:
        return "*" * len(key)
    return f"{key[:3]}...{key[-4:]}"
