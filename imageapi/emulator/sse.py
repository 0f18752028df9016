"""Server-sent events as the Images API streams them: ``event:``, ``data:`` JSON, blank line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..params import Endpoint

# The event family is named after the endpoint: image_generation.* or image_edit.*.
EVENT_PREFIXES: dict[Endpoint, str] = {"generations": "image_generation", "edits": "image_edit"}


def event_type(endpoint: Endpoint, kind: str) -> str:
    """``("edits", "partial_image")`` → ``"image_edit.partial_image"``."""
    return f"{EVENT_PREFIXES[endpoint]}.{kind}"


def format_event(data: Mapping[str, Any]) -> bytes:
    """One SSE frame; the ``event:`` line repeats ``data["type"]`` as the API does."""
    payload = json.dumps(data, separators=(",", ":"))
    return f"event: {data['type']}\ndata: {payload}\n\n".encode()
