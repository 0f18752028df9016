"""Who may do what in a space: roles, actions and the spaces a user may read, write or manage.

Access follows spaces: a user's personal space is theirs alone (owner); in a team space each
member has a role:

- owner: everything, including members, roles and deleting anyone's images;
- editor: generate into the team, organise (collections, tags, share links), delete own images;
- viewer: browse and download.

Images, collections and share links build on these rules in ``gallery.permissions``; jobs in
``studio.permissions``. A space a user may not see is not found (a 404).
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .ids import id_or_404
from .models import Membership, Role, Space

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

READERS = (Role.OWNER, Role.EDITOR, Role.VIEWER)
WRITERS = (Role.OWNER, Role.EDITOR)
MANAGERS = (Role.OWNER,)


def member_space_ids(user: User, *, roles: tuple[str, ...] = READERS) -> QuerySet:
    """Ids of the spaces where the user holds one of ``roles`` (their personal space counts as owner)."""
    if not user.is_authenticated:
        return Space.objects.none().values("pk")
    personal = Q(kind=Space.Kind.PERSONAL, owner_id=user.pk) if Role.OWNER in roles else Q(pk__in=[])
    team = Q(pk__in=Membership.objects.filter(user_id=user.pk, role__in=roles).values("space_id"))
    return Space.objects.filter(personal | team).values("pk")


def readable_space_ids(user: User) -> QuerySet:
    """Spaces whose images the user may see and download."""
    return member_space_ids(user, roles=READERS)


def writable_space_ids(user: User) -> QuerySet:
    """Spaces the user may generate into and organise."""
    return member_space_ids(user, roles=WRITERS)


def manageable_space_ids(user: User) -> QuerySet:
    """Spaces the user owns: members, roles, anyone's images."""
    return member_space_ids(user, roles=MANAGERS)


def visible_spaces(user: User) -> QuerySet[Space]:
    return Space.objects.filter(pk__in=readable_space_ids(user))


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


def get_visible_space(user: User, pk: object) -> Space:
    return get_object_or_404(visible_spaces(user), pk=id_or_404(pk))


def get_space_for(user: User, pk: object, action: Action) -> Space:
    """A space the user may ``action`` in; a 404 when they may not even see it."""
    space = get_visible_space(user, pk)
    if not can(user, action, space):
        raise PermissionDenied
    return space
