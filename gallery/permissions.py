"""The one answer to "may this user see or change this object".

Every view, file download, zip, share page and endpoint gets its objects through these
functions, so an object a user may not see is simply not found (a 404), whichever path
asks for it. Access follows spaces: a user's personal space is theirs alone (owner); in a
team space each member has a role:

- owner: everything, including members, roles and deleting anyone's images;
- editor: generate into the team, organise (collections, tags, share links), delete own images;
- viewer: browse and download.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from teams.models import Membership, Role, Space

from .models import Collection, Image, InputImage, ShareLink

if TYPE_CHECKING:
    from studio.models import Job

User = AbstractBaseUser | AnonymousUser


class Action(StrEnum):
    VIEW = "view"  # see it, download it, use it as an edit's input
    GENERATE = "generate"  # make new images into a space
    ORGANISE = "organise"  # collections, tags, share links
    DELETE = "delete"  # move to the trash, restore, purge
    MANAGE = "manage"  # members, roles, invitations, the audit log


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.EDITOR: frozenset({Action.VIEW, Action.GENERATE, Action.ORGANISE, Action.DELETE}),
    Role.VIEWER: frozenset({Action.VIEW}),
}


# -- spaces ------------------------------------------------------------------------------


def member_space_ids(user: User, *, roles: tuple[str, ...] = (Role.OWNER, Role.EDITOR, Role.VIEWER)) -> QuerySet:
    """Ids of the spaces where the user holds one of ``roles`` (their personal space counts as owner)."""
    if not user.is_authenticated:
        return Space.objects.none().values("pk")
    personal = Q(kind=Space.Kind.PERSONAL, owner_id=user.pk) if Role.OWNER in roles else Q(pk__in=[])
    team = Q(pk__in=Membership.objects.filter(user_id=user.pk, role__in=roles).values("space_id"))
    return Space.objects.filter(personal | team).values("pk")


def visible_spaces(user: User) -> QuerySet[Space]:
    return Space.objects.filter(pk__in=member_space_ids(user))


def role_in(user: User, space: Space) -> str | None:
    if not user.is_authenticated:
        return None
    if space.kind == Space.Kind.PERSONAL:
        return Role.OWNER if space.owner_id == user.pk else None
    return Membership.objects.filter(space=space, user_id=user.pk).values_list("role", flat=True).first()


def can(user: User, action: Action, space: Space, *, created_by_id: int | None = None) -> bool:
    """May ``user`` do ``action`` in ``space``? For deletions, editors may touch only what
    they created (``created_by_id``)."""
    role = role_in(user, space)
    if role is None or action not in ROLE_ACTIONS[role]:
        return False
    if action == Action.DELETE and role == Role.EDITOR:
        return created_by_id == user.pk
    return True


def get_visible_space(user: User, pk: int) -> Space:
    return get_object_or_404(visible_spaces(user), pk=pk)


def get_space_for(user: User, pk: int, action: Action) -> Space:
    """A space the user may ``action`` in; a 404 when they may not even see it."""
    space = get_visible_space(user, pk)
    if not can(user, action, space):
        raise PermissionDenied
    return space


# -- images and what hangs off them --------------------------------------------------------


def visible_images(user: User) -> QuerySet[Image]:
    """Images not in the trash, in the user's spaces."""
    return Image.objects.alive().filter(space_id__in=member_space_ids(user))


def deletable_images(user: User) -> QuerySet[Image]:
    """Images (in the trash or not) the user may delete, restore or purge."""
    if not user.is_authenticated:
        return Image.objects.none()
    owned = Q(space_id__in=member_space_ids(user, roles=(Role.OWNER,)))
    own_as_editor = Q(space_id__in=member_space_ids(user, roles=(Role.EDITOR,)), created_by_id=user.pk)
    return Image.objects.filter(owned | own_as_editor)


def thumbnail_images(user: User) -> QuerySet[Image]:
    """Images whose thumbnail the user may load: the visible ones, and trashed ones they may restore."""
    return Image.objects.filter(Q(pk__in=visible_images(user)) | Q(pk__in=deletable_images(user).in_trash()))


def organisable_images(user: User) -> QuerySet[Image]:
    return visible_images(user).filter(space_id__in=member_space_ids(user, roles=(Role.OWNER, Role.EDITOR)))


def visible_input_images(user: User) -> QuerySet[InputImage]:
    """Inputs and masks: the uploader's, and those of any image the user may see."""
    if not user.is_authenticated:
        return InputImage.objects.none()
    seen = visible_images(user)
    return InputImage.objects.filter(
        Q(created_by_id=user.pk)
        | Q(pk__in=seen.values("image_inputs__input_image"))
        | Q(pk__in=seen.filter(mask__isnull=False).values("mask"))
    )


def visible_collections(user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(space_id__in=member_space_ids(user))


def organisable_collections(user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(space_id__in=member_space_ids(user, roles=(Role.OWNER, Role.EDITOR)))


def manageable_share_links(user: User) -> QuerySet[ShareLink]:
    """Links the user may see and revoke: those on things they may organise."""
    spaces = member_space_ids(user, roles=(Role.OWNER, Role.EDITOR))
    return ShareLink.objects.filter(Q(image__space_id__in=spaces) | Q(collection__space_id__in=spaces))


def visible_jobs(user: User) -> QuerySet[Job]:
    """A job card is its creator's: teammates see the images once they are in the gallery."""
    Job = apps.get_model("studio", "Job")
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(created_by_id=user.pk)


def get_visible_image(user: User, pk: int) -> Image:
    return get_object_or_404(visible_images(user), pk=pk)


def get_visible_input_image(user: User, pk: int) -> InputImage:
    return get_object_or_404(visible_input_images(user), pk=pk)


def get_visible_job(user: User, pk: int) -> Job:
    return get_object_or_404(visible_jobs(user), pk=pk)


def can_change_job(user: User, job: Job) -> bool:
    return user.is_authenticated and job.created_by_id == user.pk
