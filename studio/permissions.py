"""Who may see and change a job: a job card is its creator's; teammates see the images once
they are in the gallery (``gallery.permissions``)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from teams.ids import id_or_404
from teams.permissions import User

from .models import Job


def visible_jobs(user: User) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(created_by_id=user.pk)


def get_visible_job(user: User, pk: object) -> Job:
    return get_object_or_404(visible_jobs(user), pk=id_or_404(pk))


def can_change_job(user: User, job: Job) -> bool:
    return user.is_authenticated and job.created_by_id == user.pk
