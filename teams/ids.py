"""The one way an object id from a browser (URL, query string, form) becomes an ``int``.

``str.isdigit`` accepts "²" and other Unicode digits that ``int`` refuses, and a 20-digit
number overflows the database's 64-bit column: both used to end as HTTP 500. Here anything
but a plain positive ASCII integer that fits a bigint is "no such id" (a 404 or a form error).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404

MAX_ID = 2**63 - 1  # the largest value of a bigint primary key


def parse_id(value: object) -> int | None:
    """``value`` as an id, or ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID)):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def id_or_404(value: object) -> int:
    """An id from a URL or query string; anything else is a 404, like an id nobody may see."""
    number = parse_id(value)
    if number is None:
        raise Http404
    return number


def parse_ids(values: list[str], *, limit: int) -> list[int]:
    """The valid ids among the first ``limit`` values; the rest are dropped."""
    return [number for value in values[:limit] if (number := parse_id(value)) is not None]


class IdConverter:
    """``<id:pk>`` in URL patterns: a path segment that is not an id does not match (a 404)."""

    regex = "[0-9]{1,20}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value: Any) -> str:
        return str(value)


class IdField(forms.IntegerField):
    """A form field holding one object id; a malformed one is a form error."""

    default_error_messages = {"invalid": "This is not an id."}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdListField(forms.Field):
    """Many ids from repeated form values (``getlist``), at most ``limit``; malformed ones are dropped."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return parse_ids([str(item) for item in values], limit=self.limit)
