"""Teams as services: creating them, invitations (once, in time, for one person), roles, the
last owner, removal (access ends at once) and where the studio saves new images."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from gallery.permissions import visible_images
from teams import services
from teams.models import Invitation, Membership, Preference, Role, Space
from teams.permissions import Action, can
from teams.selectors import destinations_for, remembered_destination, teams_of
from teams.services import (
    destination_remember,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    personal_space,
    team_create,
)
from tests.factories import generate_image, make_team, make_user

pytestmark = pytest.mark.django_db


def _invite(team, invitee="carol", role=Role.EDITOR) -> Invitation:
    return invitation_create(space=team.space, invited_by=team.owner, invitee=invitee, role=role)


def _is_member(team, user) -> bool:
    return Membership.objects.filter(space=team.space, user=user).exists()


# -- creating a team ---------------------------------------------------------------------------


def test_creating_a_team_makes_its_creator_its_only_owner(alice):
    team = team_create(user=alice, name="  Studio North ")
    assert team.kind == Space.Kind.TEAM and team.name == "Studio North" and team.owner is None
    assert list(team.memberships.values_list("user__username", "role")) == [("alice", Role.OWNER)]
    assert can(alice, Action.MANAGE, team)
    assert list(teams_of(user=alice)) == [team]


def test_a_new_team_is_invisible_to_everyone_else(alice, bob):
    team = team_create(user=alice, name="Studio North")
    assert list(teams_of(user=bob)) == []
    assert not can(bob, Action.VIEW, team)


# -- invitations -------------------------------------------------------------------------------


@pytest.mark.parametrize("invitee", ["carol", "CAROL", "carol@example.com", " Carol@Example.COM "])
def test_an_invitation_by_username_or_email_makes_that_person_a_member(north, invitee):
    carol = make_user("carol")
    invitation = _invite(north, invitee, role=Role.VIEWER)
    assert invitation.is_usable
    lifetime = invitation.expires_at - invitation.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)
    membership = invitation_accept(token=invitation.token, user=carol)
    assert (membership.space, membership.user, membership.role) == (north.space, carol, Role.VIEWER)
    invitation.refresh_from_db()
    assert invitation.accepted_by == carol and invitation.accepted_at is not None
    assert not invitation.is_usable


def test_an_invitation_works_only_once(north):
    carol = make_user("carol")
    invitation = _invite(north)
    invitation_accept(token=invitation.token, user=carol)
    membership_remove(actor=north.owner, membership=north.membership(carol))
    with pytest.raises(ValidationError, match="already used"):
        invitation_accept(token=invitation.token, user=carol)
    assert not _is_member(north, carol)


def test_an_expired_invitation_is_refused(north):
    carol = make_user("carol")
    invitation = _invite(north)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        invitation_accept(token=invitation.token, user=carol)
    assert not _is_member(north, carol)


def test_an_invitation_still_works_just_before_it_expires(north):
    carol = make_user("carol")
    invitation = _invite(north)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    invitation_accept(token=invitation.token, user=carol)
    assert _is_member(north, carol)


def test_a_revoked_invitation_is_refused(north):
    carol = make_user("carol")
    invitation = _invite(north)
    invitation_revoke(invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and not invitation.is_usable
    with pytest.raises(ValidationError, match="revoked"):
        invitation_accept(token=invitation.token, user=carol)
    assert not _is_member(north, carol)


def test_revoking_an_accepted_invitation_does_not_undo_the_membership(north):
    carol = make_user("carol")
    invitation = _invite(north)
    invitation_accept(token=invitation.token, user=carol)
    invitation_revoke(invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and _is_member(north, carol)


def test_an_invitation_works_only_for_the_person_invited(north, alice):
    carol = make_user("carol")
    invitation = _invite(north, "carol@example.com")
    with pytest.raises(ValidationError, match="someone else"):
        invitation_accept(token=invitation.token, user=alice)
    assert not _is_member(north, alice)
    invitation.refresh_from_db()
    assert invitation.is_usable  # a wrong taker does not use it up
    invitation_accept(token=invitation.token, user=carol)
    assert _is_member(north, carol)


def test_an_unknown_token_is_refused(north):
    carol = make_user("carol")
    with pytest.raises(ValidationError):
        invitation_accept(token="no-such-token", user=carol)
    assert not _is_member(north, carol)


@pytest.mark.parametrize("invitee", ["edith", "EDITH", "edith@example.com", "owen@EXAMPLE.com"])
def test_inviting_an_existing_member_is_refused(north, invitee):
    with pytest.raises(ValidationError, match="already a member"):
        _invite(north, invitee)
    assert not Invitation.objects.exists()


def test_a_personal_space_takes_no_invitations(alice):
    with pytest.raises(ValidationError, match="Only teams"):
        invitation_create(space=personal_space(user=alice), invited_by=alice, invitee="bob", role=Role.EDITOR)
    assert not Invitation.objects.exists()


def test_each_invitation_has_its_own_unguessable_token(north):
    tokens = {_invite(north, f"person{i}").token for i in range(3)}
    assert len(tokens) == 3 and all(len(token) >= 32 for token in tokens)


# -- roles and the last owner ------------------------------------------------------------------


def test_a_role_change_changes_what_the_member_may_do(north):
    assert can(north.editor, Action.GENERATE, north.space)
    membership_change_role(actor=north.owner, membership=north.membership(north.editor), role=Role.VIEWER)
    assert north.membership(north.editor).role == Role.VIEWER
    assert not can(north.editor, Action.GENERATE, north.space)
    membership_change_role(actor=north.owner, membership=north.membership(north.viewer), role=Role.OWNER)
    assert can(north.viewer, Action.MANAGE, north.space)


def test_the_last_owner_can_be_neither_demoted_nor_removed(north):
    for role in (Role.EDITOR, Role.VIEWER):
        with pytest.raises(ValidationError, match="at least one owner"):
            membership_change_role(actor=north.owner, membership=north.membership(north.owner), role=role)
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_remove(actor=north.owner, membership=north.membership(north.owner))
    assert north.membership(north.owner).role == Role.OWNER


def test_promoting_another_owner_first_lets_the_first_owner_step_down(north):
    membership_change_role(actor=north.owner, membership=north.membership(north.editor), role=Role.OWNER)
    membership_change_role(actor=north.owner, membership=north.membership(north.owner), role=Role.VIEWER)
    assert north.membership(north.owner).role == Role.VIEWER
    # Now edith is the last owner, and the rule holds for her.
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_remove(actor=north.editor, membership=north.membership(north.editor))
    membership_remove(actor=north.editor, membership=north.membership(north.owner))
    assert list(north.space.memberships.filter(role=Role.OWNER).values_list("user__username", flat=True)) == ["edith"]


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_the_same_moment_leave_one_owner(monkeypatch):
    north = make_team()
    membership_change_role(actor=north.owner, membership=north.membership(north.editor), role=Role.OWNER)
    # Let both requests count the owners before either saves: the moment a race needs.
    both_counted = threading.Barrier(2, timeout=1)
    count_owners = services._owners_left

    def count_then_wait(space, *, without):
        left = count_owners(space, without=without)
        with contextlib.suppress(threading.BrokenBarrierError):  # a database that serialises never gets both here
            both_counted.wait()
        return left

    monkeypatch.setattr(services, "_owners_left", count_then_wait)
    refused = []

    def step_down(user):
        try:
            membership_change_role(actor=user, membership=north.membership(user), role=Role.VIEWER)
        except ValidationError as error:
            refused.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=(user,)) for user in (north.owner, north.editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert north.space.memberships.filter(role=Role.OWNER).count() == 1
    assert len(refused) == 1


def test_an_owner_may_leave_when_another_owner_remains(north):
    membership_change_role(actor=north.owner, membership=north.membership(north.viewer), role=Role.OWNER)
    membership_remove(actor=north.owner, membership=north.membership(north.owner))
    assert not _is_member(north, north.owner)


# -- removal ends access at once ---------------------------------------------------------------


def test_a_removed_member_loses_the_teams_images_and_destination_at_once(north):
    image = generate_image(north.owner, north.space)
    destination_remember(user=north.editor, space=north.space)
    assert visible_images(north.editor).filter(pk=image.pk).exists()
    membership_remove(actor=north.owner, membership=north.membership(north.editor))
    assert not visible_images(north.editor).filter(pk=image.pk).exists()
    assert not can(north.editor, Action.VIEW, north.space)
    assert remembered_destination(user=north.editor) is None
    assert north.space not in destinations_for(user=north.editor)
    assert list(teams_of(user=north.editor)) == []


def test_removal_keeps_a_destination_remembered_elsewhere(north, south):
    Membership.objects.create(space=south.space, user=north.editor, role=Role.EDITOR)
    destination_remember(user=north.editor, space=south.space)
    membership_remove(actor=north.owner, membership=north.membership(north.editor))
    assert remembered_destination(user=north.editor) == south.space


def test_a_member_who_leaves_loses_access_too(north):
    image = generate_image(north.owner, north.space)
    membership_remove(actor=north.viewer, membership=north.membership(north.viewer))
    assert not _is_member(north, north.viewer)
    assert not visible_images(north.viewer).filter(pk=image.pk).exists()


# -- where the studio saves new images ---------------------------------------------------------


def test_the_studio_offers_personal_first_then_teams_the_user_may_generate_into(north, south):
    Membership.objects.create(space=south.space, user=north.editor, role=Role.VIEWER)
    assert destinations_for(user=north.owner) == [personal_space(user=north.owner), north.space]
    assert destinations_for(user=north.editor) == [personal_space(user=north.editor), north.space]
    assert destinations_for(user=north.viewer) == [personal_space(user=north.viewer)]


def test_the_studio_remembers_one_destination_per_user(north):
    assert remembered_destination(user=north.editor) is None
    destination_remember(user=north.editor, space=north.space)
    destination_remember(user=north.editor, space=personal_space(user=north.editor))
    assert remembered_destination(user=north.editor) == personal_space(user=north.editor)
    assert Preference.objects.filter(user=north.editor).count() == 1
