"""Invitation links are easy to hand over (issue 14): pending ones stay listed with their link until
used, revoked or expired; inviting an address nobody has yet says what the invitee must do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from teams.models import Invitation
from teams.services import invitation_accept, invitation_revoke, team_create


@pytest.fixture
def team(alice):
    return team_create(user=alice, name="Harbour")


def _invite(client, team, invitee) -> str:
    """The page the invitation lands on, its messages shown."""
    response = client.post(f"/teams/{team.pk}/invite/", {"invitee": invitee, "role": "editor"}, follow=True)
    return response.content.decode()


def test_a_pending_invitation_lists_its_link_until_it_is_used(alice_client, team, bob):
    _invite(alice_client, team, "bob")
    invitation = Invitation.objects.get()
    page = alice_client.get(f"/teams/{team.pk}/").content.decode()
    assert f"http://testserver/teams/join/{invitation.token}/" in page
    assert 'data-copy="invitation-' in page

    invitation_accept(token=invitation.token, user=bob)
    assert invitation.token not in alice_client.get(f"/teams/{team.pk}/").content.decode()


def test_revoked_and_expired_invitations_leave_the_list(alice_client, team):
    _invite(alice_client, team, "bob@example.com")
    _invite(alice_client, team, "carol@example.com")
    revoked, expired = Invitation.objects.order_by("pk")
    alice_client.get(f"/teams/{team.pk}/")  # the messages naming the links are shown once, then gone
    invitation_revoke(invitation=revoked)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = alice_client.get(f"/teams/{team.pk}/").content.decode()
    assert revoked.token not in page and expired.token not in page
    assert "Pending invitations" not in page


def test_inviting_an_address_with_no_account_says_what_the_invitee_must_do(alice_client, team, bob):
    page = _invite(alice_client, team, "newcomer@example.com")
    assert "No account has the username or e-mail “newcomer@example.com” yet" in page
    assert "ask an admin to create it with that e-mail address, then they log in and open the link" in page

    page = _invite(alice_client, team, "bob@example.com")  # bob has an account: no warning
    assert "Send this link to bob@example.com" in page and "No account" not in page
