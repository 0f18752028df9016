"""The one answer to "may this user see or change this object".

Every view, file download and endpoint gets its objects through these functions, so an
object a user may not see is simply not found (a 404), whichever path asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Image, InputImage

if TYPE_CHECKING:
    from studio.models import Job

User = AbstractBaseUser | AnonymousUser


def _owned_by(user: User) -> Q:
    # Until teams arrive, a user's space is their own: what they created.
    return Q(created_by_id=user.pk) if user.is_authenticated else Q(pk__in=[])


def visible_images(user: User) -> QuerySet[Image]:
    return Image.objects.filter(_owned_by(user))


def visible_input_images(user: User) -> QuerySet[InputImage]:
    """Inputs and masks: the uploader's, and those of any image the user may see."""
    seen = visible_images(user)
    return InputImage.objects.filter(
        _owned_by(user)
        | Q(pk__in=seen.values("image_inputs__input_image"))
        | Q(pk__in=seen.filter(mask__isnull=False).values("mask"))
    )


def visible_jobs(user: User) -> QuerySet[Job]:
    return apps.get_model("studio", "Job").objects.filter(_owned_by(user))


def get_visible_image(user: User, pk: int) -> Image:
    return get_object_or_404(visible_images(user), pk=pk)


def get_visible_input_image(user: User, pk: int) -> InputImage:
    return get_object_or_404(visible_input_images(user), pk=pk)


def get_visible_job(user: User, pk: int) -> Job:
    return get_object_or_404(visible_jobs(user), pk=pk)


def can_change_job(user: User, job: Job) -> bool:
    return user.is_authenticated and job.created_by_id == user.pk
