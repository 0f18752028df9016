"""Writes of spaces and teams: creating teams, invitations, roles, members, preferences."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record

from .models import Budget, Invitation, Membership, Preference, Role, Space

INVITATION_LIFETIME = timedelta(days=7)


def personal_space(*, user: Any) -> Space:
    """The user's own space, made the first time it is needed."""
    space, _ = Space.objects.get_or_create(owner=user, defaults={"kind": Space.Kind.PERSONAL, "name": "Personal"})
    return space


@transaction.atomic
def team_create(*, user: Any, name: str) -> Space:
    team = Space.objects.create(kind=Space.Kind.TEAM, name=name.strip())
    Membership.objects.create(space=team, user=user, role=Role.OWNER)
    return team


@transaction.atomic
def invitation_create(*, space: Space, invited_by: Any, invitee: str, role: str) -> Invitation:
    """Invite a username or e-mail address; the link works once, for that person, for a week."""
    invitee = invitee.strip()
    if not space.is_team:
        raise ValidationError("Only teams have members.")
    if Membership.objects.filter(space=space).filter(
        Q(user__username__iexact=invitee) | Q(user__email__iexact=invitee)
    ).exists():
        raise ValidationError(f"{invitee} is already a member of {space}.")
    invitation = Invitation.objects.create(
        space=space, invited_by=invited_by, invitee=invitee, role=role, token=secrets.token_urlsafe(32),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(actor=invited_by, action=AuditEvent.Action.INVITED, obj=invitation, space=space,
                 summary=f"invited {invitee} as {role}")
    return invitation


def invitation_is_for(invitation: Invitation, user: Any) -> bool:
    invitee = invitation.invitee.lower()
    return invitee in {user.get_username().lower(), (user.email or "").lower()}


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        raise ValidationError("This invitation link has expired, was revoked or was already used.")
    if not invitation_is_for(invitation, user):
        raise ValidationError("This invitation is for someone else: log in as the person invited.")
    membership, created = Membership.objects.get_or_create(
        space=invitation.space, user=user, defaults={"role": invitation.role})
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if created:
        audit_record(actor=user, action=AuditEvent.Action.JOINED, obj=membership, space=invitation.space,
                     summary=f"joined as {membership.role}")
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())


def _lock_team(membership: Membership) -> Membership:
    """Lock the team before counting its owners: two owners stepping down at once must not
    both see the other as the one who stays."""
    Space.objects.select_for_update().filter(pk=membership.space_id).first()
    return Membership.objects.select_for_update().select_related("space", "user").get(pk=membership.pk)


def _owners_left(space: Space, *, without: Membership) -> int:
    return Membership.objects.filter(space=space, role=Role.OWNER).exclude(pk=without.pk).count()


@transaction.atomic
def membership_change_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    membership = _lock_team(membership)
    if membership.role == Role.OWNER and role != Role.OWNER and not _owners_left(membership.space, without=membership):
        raise ValidationError("A team keeps at least one owner: make someone else owner first.")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(actor=actor, action=AuditEvent.Action.ROLE_CHANGED, obj=membership, space=membership.space,
                 summary=f"{membership.user.get_username()}: {old} → {role}")
    return membership


@transaction.atomic
def membership_remove(*, actor: Any, membership: Membership) -> None:
    """Remove a member (or let one leave); access ends at once, as every check reads memberships."""
    membership = _lock_team(membership)
    if membership.role == Role.OWNER and not _owners_left(membership.space, without=membership):
        raise ValidationError("A team keeps at least one owner: make someone else owner first.")
    audit_record(actor=actor, action=AuditEvent.Action.REMOVED, obj=membership, space=membership.space,
                 summary=f"removed {membership.user.get_username()}")
    Preference.objects.filter(user=membership.user, destination=membership.space).update(destination=None)
    membership.delete()


def destination_remember(*, user: Any, space: Space) -> None:
    Preference.objects.update_or_create(user=user, defaults={"destination": space})


def user_by_username_or_email(value: str) -> Any | None:
    User = get_user_model()
    return User.objects.filter(Q(username__iexact=value) | Q(email__iexact=value)).first()


def budget_set(*, usd: Decimal | None, space: Space | None = None, user: Any = None) -> Budget | None:
    """Set (or with ``usd=None`` remove) the monthly budget of a team (``space``), of a user in
    all their spaces (``user``), or of a member inside a team (both). The caller checks the
    right to do so (``teams.permissions``)."""
    if space is None and user is None:
        raise ValidationError("A budget needs a team, a user, or both.")
    if space is not None and not space.is_team:
        raise ValidationError("Budgets are set on teams; a personal space is covered by its owner's budget.")
    if space is not None and user is not None and not Membership.objects.filter(space=space, user=user).exists():
        raise ValidationError(f"{user} is not a member of {space}.")
    if usd is not None and usd < 0:
        raise ValidationError("A budget cannot be negative.")
    if usd is not None:
        usd = usd.quantize(Decimal("0.01"))  # budgets are in cents, as stored
    with transaction.atomic():
        current = Budget.objects.select_for_update().filter(space=space, user=user).order_by("pk").first()
        if usd is None:
            if current is not None:
                current.delete()
            budget = None
        elif current is None:
            budget = Budget.objects.create(space=space, user=user, monthly_usd=usd)
        else:
            current.monthly_usd, current.updated_at = usd, timezone.now()
            current.save(update_fields=["monthly_usd", "updated_at"])
            budget = current
    return budget
