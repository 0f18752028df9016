"""Reads of spaces."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Preference, Space
from .permissions import readable_space_ids, writable_space_ids
from .services import personal_space


def destinations_for(*, user: Any) -> list[Space]:
    """Where the user may generate: their personal space first, then teams they edit or own."""
    personal = personal_space(user=user)
    teams = Space.objects.filter(pk__in=writable_space_ids(user),
                                 kind=Space.Kind.TEAM).order_by("name")
    return [personal, *teams]


def remembered_destination(*, user: Any) -> Space | None:
    preference = Preference.objects.filter(user=user).select_related("destination").first()
    return preference.destination if preference else None


def teams_of(*, user: Any) -> QuerySet[Space]:
    return Space.objects.filter(pk__in=readable_space_ids(user), kind=Space.Kind.TEAM).order_by("name")
