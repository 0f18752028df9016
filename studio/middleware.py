"""Middleware that needs the studio's views (kept apart from ``studio.security``, which the
log setup imports: the views import the task queue, whose module logs)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import TooManyFilesSent


class UploadLimitMiddleware:
    """Reads a multipart body before the CSRF check does, so that more files than
    ``DATA_UPLOAD_MAX_NUMBER_FILES`` get an explanation (next to the edit form's image field)
    instead of Django's bare "Bad Request" page. Nothing else changes: the body would be parsed
    by the CSRF check right after, and the refused request changes nothing."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.FILES  # noqa: B018 - parsing is the point
            except TooManyFilesSent:
                from .views import too_many_files  # views import much; middleware loads early

                return too_many_files(request)
        return self.get_response(request)
