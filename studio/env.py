"""Reading settings from the environment: safe defaults, and a bad value stops start-up
with a message naming the variable."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _get(name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return parse(raw.strip())
    except (ValueError, TypeError) as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise ImproperlyConfigured(f"{name}={raw!r} is invalid: expected {expected}{detail}.") from None


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    def parse(raw: str) -> bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError("")

    return _get(name, default, parse, "true or false")


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    def parse(raw: str) -> float:
        value = float(raw)
        if not value >= minimum or value == float("inf"):
            raise ValueError(f"must be a number of at least {minimum:g}")
        return value

    return _get(name, default, parse, "a number")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    def parse(raw: str) -> int:
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise ValueError(f"must be at least {minimum}{upper}")
        return value

    return _get(name, default, parse, "a whole number")


def env_list(name: str, default: list[str]) -> list[str]:
    return _get(name, default, lambda raw: [item.strip() for item in raw.split(",") if item.strip()],
                "a comma-separated list")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError("")
        return raw

    return _get(name, default, parse, "one of " + ", ".join(choices))


def env_url(name: str, default: str) -> str:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("")
        return raw.rstrip("/")

    return _get(name, default, parse, "an http(s) URL such as https://api.openai.com/v1")


def env_path(name: str, default: Path) -> Path:
    return _get(name, default, lambda raw: Path(raw).expanduser().resolve() if raw else default, "a path")


def env_proxy_header(name: str) -> tuple[str, str] | None:
    """Django's ``SECURE_PROXY_SSL_HEADER`` as ``HEADER,value``, e.g. ``X-Forwarded-Proto,https``
    (or the META name ``HTTP_X_FORWARDED_PROTO,https``); empty turns it off."""

    def parse(raw: str) -> tuple[str, str] | None:
        if not raw:
            return None
        header, sep, value = (part.strip() for part in raw.partition(","))
        if not sep or not header or not value or "," in value:
            raise ValueError("")
        header = header.upper().replace("-", "_")
        if not header.replace("_", "").isalnum():
            raise ValueError("the header name may hold only letters, digits, - and _")
        return (header if header.startswith("HTTP_") else f"HTTP_{header}", value)

    return _get(name, None, parse, "HEADER,value such as X-Forwarded-Proto,https")


def env_timezone(name: str, default: str) -> str:
    """An IANA time zone name (``Europe/Paris``), checked against the zone database."""
    def parse(raw: str) -> str:
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("no such time zone") from None
        return raw

    return _get(name, default, parse, "an IANA time zone name such as UTC or Europe/Paris")
