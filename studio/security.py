"""Keeping secrets off every page: error pages in any mode, the debug page included.

Django's own filter masks settings and ``request.META`` entries by name, but only while
``DEBUG`` is off, and never looks inside a traceback frame's local variables: under
``runserver`` the WSGI ``environ`` dict (a copy of the whole process environment) sits in a
frame and shows ``OPENAI_API_KEY`` in clear. Here the filter is always on, masks by name
everywhere (frames too), and the reporter then replaces every known secret *value* wherever
it still appears (an exception message, a URL with a password, an oddly named variable).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pprint import pformat
from typing import Any

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute
# Django's names plus what credentials are called here (DATABASE_URL holds a password).
HIDDEN = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|CSRF|SESSION|CREDENTIAL|PRIVATE|"
                    r"DATABASE_URL|DSN", flags=re.IGNORECASE)
MIN_SECRET_LENGTH = 4  # shorter values ("1", "on") would mask harmless text everywhere


def secret_values() -> list[str]:
    """Every secret value this process knows, longest first (so a longer one is masked whole)."""
    candidates: list[Any] = [
        settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []),
        getattr(settings, "OPENAI_API_KEY", ""), getattr(settings, "AWS_SECRET_ACCESS_KEY", ""),
    ]
    candidates += [database.get("PASSWORD") for database in settings.DATABASES.values()]
    candidates += [value for name, value in os.environ.items() if HIDDEN.search(name)]
    found = {value for value in candidates if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret value replaced by stars."""
    for secret in secret_values() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, SUBSTITUTE)
    return text


class _Shown:
    """A frame variable already turned into text: the debug page prints its ``repr``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = HIDDEN

    def is_active(self, request: Any) -> bool:
        return True  # DEBUG on is exactly when the full page, environment and all, is shown

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, Any]]:
        secrets = secret_values()
        shown = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if self.hidden_settings.search(name):
                shown.append((name, SUBSTITUTE))
                continue
            if isinstance(value, dict | list | tuple):
                value = self.cleanse_setting("", value)  # the WSGI environ: masked by key
            try:
                text = pformat(value)
            except Exception:  # a broken __repr__ must not break the error page
                text = f"<{type(value).__name__} that could not be shown>"
            shown.append((name, _Shown(scrub(text, secrets))))
        return shown


class SecretSafeExceptionReporter(ExceptionReporter):
    """The debug page and the error e-mail/log text, with every known secret value masked."""

    def get_traceback_data(self) -> dict[str, Any]:
        return _scrub_deep(super().get_traceback_data(), secret_values())


def _scrub_deep(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        scrubbed = scrub(value, secrets)
        return mark_safe(scrubbed) if isinstance(value, SafeData) else scrubbed  # noqa: S308 - only stars added
    if isinstance(value, dict):
        return {key: _scrub_deep(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_deep(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub_deep(item, secrets) for item in value)
    return value


class ErrorPageScrubMiddleware:
    """The last guard: an error page (any status from 400) never carries a known secret value,
    whoever rendered it (Django's debug 404 page, for one, shows the exception's message)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if response.status_code >= 400 and not response.streaming and \
                response.get("Content-Type", "").startswith(("text/", "application/json")):
            secrets = secret_values()
            content = response.content.decode(response.charset or "utf-8", errors="replace")
            scrubbed = scrub(scrub(content, secrets), [escape(secret) for secret in secrets])
            if scrubbed != content:
                response.content = scrubbed.encode(response.charset or "utf-8")
        return response


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZip for pages and fragments only: images, zips and files are compressed already,
    and streaming them through gzip would cost CPU and drop their Content-Length.

    BREACH: pages carrying a secret next to reflected input (the CSRF token, a new share link in
    a message, an invitation link) are still compressed. Django's CSRF token is masked afresh in
    every response, and this middleware pads each response's gzip header with 0-100 random
    bytes (Heal the Breach), which hides the length differences the attack measures."""

    compressible = ("text/", "application/json", "application/javascript", "image/svg+xml")

    def process_response(self, request: Any, response: Any) -> Any:
        if not response.get("Content-Type", "").startswith(self.compressible):
            return response
        return super().process_response(request, response)


# -- login throttling (django-axes) ----------------------------------------------------------


def client_ip(request: Any) -> str | None:
    """The client's address: behind ``STUDIO_TRUSTED_PROXIES`` proxies, the address the outermost
    of them saw (each appends to X-Forwarded-For; anything further left is the client's say-so)."""
    count = settings.STUDIO_TRUSTED_PROXIES
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def login_locked_out(request: Any, original_response: Any = None, credentials: Any = None) -> Any:
    """The login page again, saying why and for how long, with the 429 status and Retry-After."""
    from django.contrib.auth.forms import AuthenticationForm
    from django.forms.utils import ErrorDict
    from django.shortcuts import render

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None:
        data.pop("password", None)
    form = AuthenticationForm(request, data=data)
    # Errors set by hand: validating would try the password again.
    form._errors, form.cleaned_data = ErrorDict(), {}
    form.add_error(None, f"Too many failed log-ins for this account or from your network. For your safety, "
                         f"logging in is paused: try again in {minutes} minute{'s' if minutes != 1 else ''}.")
    response = render(request, "registration/login.html",
                      {"form": form, "next": request.POST.get("next", "") if data else ""}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
