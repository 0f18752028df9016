"""Who may see and change a job: a job card is its creator's; teammates see the images once
they are in the gallery (``gallery.permissions``). Spend: everyone sees their own, a team's
owners see the team's (by member), staff see everything."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from teams.ids import id_or_404
from teams.models import Space
from teams.permissions import User, manageable_space_ids

from .models import Job


def visible_jobs(user: User) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(created_by_id=user.pk)


def get_visible_job(user: User, pk: object) -> Job:
    return get_object_or_404(visible_jobs(user), pk=id_or_404(pk))


def can_change_job(user: User, job: Job) -> bool:
    return user.is_authenticated and job.created_by_id == user.pk


# -- who may see whose spend ------------------------------------------------------------------


@dataclass(frozen=True)
class SpendScope:
    """The jobs whose spend a page shows: the user's own (``mine``), a team's for its owners and
    staff (``team``), or everything for staff (``all``)."""

    kind: str
    jobs: QuerySet[Job]
    team: Space | None = None

    @property
    def by_member(self) -> bool:
        return self.kind != "mine"


def spend_scope(user: User, *, team_pk: object = None, everything: bool = False) -> SpendScope:
    """The spend ``user`` asks for, or a 404: a team's spend is for its owners (and staff), the
    whole studio's for staff."""
    if not user.is_authenticated:
        raise Http404
    if everything:
        if not user.is_staff:
            raise Http404
        return SpendScope(kind="all", jobs=Job.objects.all())
    if team_pk is not None:
        teams = Space.objects.filter(kind=Space.Kind.TEAM)
        if not user.is_staff:
            teams = teams.filter(pk__in=manageable_space_ids(user))
        team = get_object_or_404(teams, pk=id_or_404(team_pk))
        return SpendScope(kind="team", jobs=Job.objects.filter(space=team), team=team)
    return SpendScope(kind="mine", jobs=visible_jobs(user))

