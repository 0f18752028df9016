"""Teams through the browser: creating, inviting and joining, roles, the last owner, removal and
leaving, and where the studio saves new images. Assertions go through status codes, the
response's context, messages and the database, not the templates' markup."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from studio.models import Job
from teams.models import Invitation, Membership, Preference, Role, Space
from teams.services import destination_remember, invitation_create, personal_space
from tests.factories import generate_image, make_user

pytestmark = pytest.mark.django_db

GENERATE = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low", "output_format": "png",
            "n": "1", "background": "auto", "moderation": "auto", "partial_images": "0"}


def _messages(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _invitation(team, invitee="carol", role=Role.EDITOR) -> Invitation:
    return invitation_create(space=team.space, invited_by=team.owner, invitee=invitee, role=role)


def _zip_names(client, image_ids) -> list[str]:
    response = client.post("/gallery/bulk/", {"action": "zip", "image": image_ids})
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return archive.namelist()


# -- creating a team ---------------------------------------------------------------------------


def test_creating_a_team_makes_the_creator_its_owner(alice_client, alice):
    response = alice_client.post("/teams/", {"name": "Studio North"})
    team = Space.objects.get(kind=Space.Kind.TEAM)
    assert response.status_code == 302 and response["Location"] == f"/teams/{team.pk}/"
    assert team.name == "Studio North"
    assert Membership.objects.get(space=team).user == alice and Membership.objects.get(space=team).role == Role.OWNER
    listing = alice_client.get("/teams/")
    assert list(listing.context["teams"]) == [team] and listing.context["roles"] == {team.pk: Role.OWNER}


def test_a_team_needs_a_name(alice_client):
    response = alice_client.post("/teams/", {"name": ""})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert not Space.objects.filter(kind=Space.Kind.TEAM).exists()


def test_the_teams_page_lists_only_the_users_own_teams(north, south):
    listing = north.client(north.viewer).get("/teams/")
    assert list(listing.context["teams"]) == [north.space]
    assert listing.context["roles"] == {north.space.pk: Role.VIEWER}


# -- inviting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("invitee", ["carol", "carol@example.com"])
def test_an_owner_invites_by_username_or_email_and_gets_the_link(north, invitee):
    response = north.client(north.owner).post(f"/teams/{north.space.pk}/invite/", {"invitee": invitee,
                                                                                    "role": Role.VIEWER})
    assert response.status_code == 302 and response["Location"] == f"/teams/{north.space.pk}/"
    invitation = Invitation.objects.get()
    assert (invitation.space, invitation.invitee, invitation.role) == (north.space, invitee, Role.VIEWER)
    assert invitation.invited_by == north.owner
    assert f"/teams/join/{invitation.token}/" in _messages(response)


def test_inviting_an_existing_member_is_refused_with_a_message(north):
    response = north.client(north.owner).post(f"/teams/{north.space.pk}/invite/", {"invitee": "violet@example.com",
                                                                                    "role": Role.EDITOR})
    assert response.status_code == 302 and "already a member" in _messages(response)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("data", [{"invitee": "", "role": Role.EDITOR}, {"invitee": "carol", "role": "admin"}])
def test_an_invitation_form_with_bad_values_creates_nothing(north, data):
    response = north.client(north.owner).post(f"/teams/{north.space.pk}/invite/", data)
    assert response.status_code == 302 and _messages(response)
    assert not Invitation.objects.exists()


def test_only_owners_invite(north, outsider):
    for user, status in ((north.editor, 403), (north.viewer, 403), (outsider, 404)):
        response = _login(user).post(f"/teams/{north.space.pk}/invite/", {"invitee": "carol", "role": Role.OWNER})
        assert response.status_code == status, user
    assert not Invitation.objects.exists()


def test_pending_invitations_are_shown_to_owners_only(north):
    invitation = _invitation(north)
    assert list(north.client(north.owner).get(f"/teams/{north.space.pk}/").context["invitations"]) == [invitation]
    for member in (north.editor, north.viewer):
        page = north.client(member).get(f"/teams/{north.space.pk}/")
        assert page.status_code == 200 and not page.context["may_manage"]
        assert list(page.context["invitations"]) == []
        assert invitation.token not in page.content.decode()


# -- accepting ---------------------------------------------------------------------------------


def test_the_invited_person_joins_through_the_link(north):
    carol = make_user("carol")
    invitation = _invitation(north, "carol@example.com", role=Role.EDITOR)
    client = _login(carol)
    page = client.get(f"/teams/join/{invitation.token}/")
    assert page.status_code == 200 and page.context["usable"] and page.context["invitation"] == invitation
    response = client.post(f"/teams/join/{invitation.token}/")
    assert response.status_code == 302 and response["Location"] == f"/teams/{north.space.pk}/"
    assert north.membership(carol).role == Role.EDITOR
    assert client.get(f"/teams/{north.space.pk}/").status_code == 200


def test_the_link_works_once(north):
    carol = make_user("carol")
    invitation = _invitation(north)
    client = _login(carol)
    client.post(f"/teams/join/{invitation.token}/")
    client.post(f"/teams/{north.space.pk}/members/{north.membership(carol).pk}/remove/")  # carol leaves
    again = client.post(f"/teams/join/{invitation.token}/")
    assert again.status_code == 200 and not again.context["usable"]
    assert "already used" in _messages(again)
    assert not Membership.objects.filter(space=north.space, user=carol).exists()


def test_an_expired_link_is_refused(north):
    carol = make_user("carol")
    invitation = _invitation(north)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client = _login(carol)
    assert not client.get(f"/teams/join/{invitation.token}/").context["usable"]
    response = client.post(f"/teams/join/{invitation.token}/")
    assert response.status_code == 200 and "expired" in _messages(response)
    assert not Membership.objects.filter(space=north.space, user=carol).exists()


def test_an_owner_revokes_a_link_and_it_stops_working(north):
    carol = make_user("carol")
    invitation = _invitation(north)
    response = north.client(north.owner).post(f"/teams/{north.space.pk}/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    refused = _login(carol).post(f"/teams/join/{invitation.token}/")
    assert refused.status_code == 200 and "revoked" in _messages(refused)
    assert not Membership.objects.filter(space=north.space, user=carol).exists()


def test_only_owners_of_the_team_revoke_its_links(north, south, outsider):
    invitation = _invitation(north)
    url = f"/teams/{north.space.pk}/invitations/{invitation.pk}/revoke/"
    assert north.client(north.editor).post(url).status_code == 403
    assert north.client(north.viewer).post(url).status_code == 403
    assert _login(outsider).post(url).status_code == 404
    # An owner of another team cannot reach it through their own team's address either.
    assert south.client(south.owner).post(
        f"/teams/{south.space.pk}/invitations/{invitation.pk}/revoke/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_usable


def test_the_link_works_only_for_the_invited_person(north, alice):
    invitation = _invitation(north, "carol")
    make_user("carol")
    client = _login(alice)
    assert not client.get(f"/teams/join/{invitation.token}/").context["usable"]
    response = client.post(f"/teams/join/{invitation.token}/")
    assert response.status_code == 200 and "someone else" in _messages(response)
    assert not Membership.objects.filter(space=north.space, user=alice).exists()
    assert client.get(f"/teams/{north.space.pk}/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_usable


def test_an_unknown_token_is_a_404(alice_client):
    assert alice_client.get("/teams/join/no-such-token/").status_code == 404
    assert alice_client.post("/teams/join/no-such-token/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_and_back(north):
    invitation = _invitation(north)
    response = Client().get(f"/teams/join/{invitation.token}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert f"/teams/join/{invitation.token}/" in response["Location"].replace("%2F", "/")


# -- roles -------------------------------------------------------------------------------------


def _role_url(team, user) -> str:
    return f"/teams/{team.space.pk}/members/{team.membership(user).pk}/role/"


def test_an_owner_changes_a_members_role(north):
    response = north.client(north.owner).post(_role_url(north, north.viewer), {"role": Role.EDITOR})
    assert response.status_code == 302 and "now editor" in _messages(response)
    assert north.membership(north.viewer).role == Role.EDITOR


def test_an_invalid_role_changes_nothing(north):
    north.client(north.owner).post(_role_url(north, north.viewer), {"role": "superuser"})
    assert north.membership(north.viewer).role == Role.VIEWER


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_editors_and_viewers_cannot_change_roles(north, who):
    member = getattr(north, who)
    for target in (north.viewer, north.editor, member):
        response = north.client(member).post(_role_url(north, target), {"role": Role.OWNER})
        assert response.status_code == 403
    assert north.membership(north.editor).role == Role.EDITOR
    assert north.membership(north.viewer).role == Role.VIEWER


def test_another_teams_owner_gets_a_404(north, south):
    client = south.client(south.owner)
    assert client.get(f"/teams/{north.space.pk}/").status_code == 404
    assert client.get(f"/teams/{north.space.pk}/activity/").status_code == 404
    assert client.post(_role_url(north, north.viewer), {"role": Role.OWNER}).status_code == 404
    # North's member through South's address: not South's membership, so not found.
    url = f"/teams/{south.space.pk}/members/{north.membership(north.viewer).pk}/role/"
    assert client.post(url, {"role": Role.OWNER}).status_code == 404
    assert north.membership(north.viewer).role == Role.VIEWER


def test_the_last_owner_cannot_step_down_or_be_removed(north):
    client = north.client(north.owner)
    demote = client.post(_role_url(north, north.owner), {"role": Role.EDITOR})
    assert demote.status_code == 302 and "at least one owner" in _messages(demote)
    remove = client.post(f"/teams/{north.space.pk}/members/{north.membership(north.owner).pk}/remove/")
    assert remove.status_code == 302 and "at least one owner" in _messages(remove)
    assert north.membership(north.owner).role == Role.OWNER


def test_promoting_another_owner_first_lets_the_owner_step_down(north):
    client = north.client(north.owner)
    client.post(_role_url(north, north.editor), {"role": Role.OWNER})
    response = client.post(_role_url(north, north.owner), {"role": Role.VIEWER})
    assert "at least one owner" not in _messages(response)
    assert north.membership(north.owner).role == Role.VIEWER
    assert client.post(_role_url(north, north.viewer), {"role": Role.EDITOR}).status_code == 403  # no longer owner


# -- removing and leaving ----------------------------------------------------------------------


def test_a_removed_member_loses_access_at_once(north):
    image = generate_image(north.owner, north.space, prompt="north secret")
    editor = north.client(north.editor)
    editor.post("/generate/", {**GENERATE, "space": str(north.space.pk)})  # remembers North
    paths = [f"/gallery/{image.pk}/", f"/gallery/{image.pk}/thumbnail/", f"/gallery/{image.pk}/original/",
             f"/teams/{north.space.pk}/"]
    assert [editor.get(path).status_code for path in paths] == [200] * len(paths)
    assert _zip_names(editor, [image.pk]) == [image.download_name]

    response = north.client(north.owner).post(
        f"/teams/{north.space.pk}/members/{north.membership(north.editor).pk}/remove/")
    assert response.status_code == 302 and "no longer has access" in _messages(response)

    assert [editor.get(path).status_code for path in paths] == [404] * len(paths)
    assert _zip_names(editor, [image.pk]) == []
    assert image.pk not in {i.pk for i in editor.get("/gallery/").context["page"].images}
    assert Preference.objects.get(user=north.editor).destination is None
    studio = editor.get("/")
    offered = [pk for pk, _ in studio.context["generate_form"].fields["space"].choices]
    assert offered == [personal_space(user=north.editor).pk]
    assert studio.context["generate_form"]["space"].value() == personal_space(user=north.editor).pk
    assert editor.post("/generate/", {**GENERATE, "space": str(north.space.pk)}).status_code == 400


def test_a_member_can_leave(north):
    client = north.client(north.viewer)
    response = client.post(f"/teams/{north.space.pk}/members/{north.membership(north.viewer).pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/teams/"
    assert not Membership.objects.filter(space=north.space, user=north.viewer).exists()
    assert client.get(f"/teams/{north.space.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_members_cannot_remove_others(north, who):
    member = getattr(north, who)
    for target in (north.owner, north.editor, north.viewer):
        if target != member:
            url = f"/teams/{north.space.pk}/members/{north.membership(target).pk}/remove/"
            assert north.client(member).post(url).status_code == 403
    assert north.space.memberships.count() == 3


def test_outsiders_cannot_remove_members(north, outsider):
    url = f"/teams/{north.space.pk}/members/{north.membership(north.viewer).pk}/remove/"
    assert _login(outsider).post(url).status_code == 404
    assert north.space.memberships.count() == 3


# -- generating into a team --------------------------------------------------------------------


def test_viewers_cannot_generate_into_the_team(north):
    client = north.client(north.viewer)
    offered = [pk for pk, _ in client.get("/").context["generate_form"].fields["space"].choices]
    assert north.space.pk not in offered
    response = client.post("/generate/", {**GENERATE, "space": str(north.space.pk)})
    assert response.status_code == 400 and "space" in response.context["generate_form"].errors
    assert not Job.objects.exists()
    assert not Preference.objects.filter(user=north.viewer).exists()


def test_viewers_cannot_edit_into_the_team_either(north):
    image = generate_image(north.owner, north.space)  # the viewer may use it as an input, but not save there
    data = {**GENERATE, "size": "auto", "inputs": [f"gallery:{image.pk}"], "space": str(north.space.pk)}
    del data["moderation"]
    response = north.client(north.viewer).post("/edit/", data)
    assert response.status_code == 400 and "space" in response.context["edit_form"].errors
    assert not Job.objects.filter(created_by=north.viewer).exists()
    north.client(north.viewer).post("/edit/", {**data, "space": str(personal_space(user=north.viewer).pk)})
    assert Job.objects.get(created_by=north.viewer).space == personal_space(user=north.viewer)


def test_outsiders_cannot_generate_into_the_team(north, outsider):
    response = _login(outsider).post("/generate/", {**GENERATE, "space": str(north.space.pk)})
    assert response.status_code == 400 and "space" in response.context["generate_form"].errors
    assert not Job.objects.exists()


@pytest.mark.parametrize("who", ["owner", "editor"])
def test_owners_and_editors_generate_into_the_team(north, who):
    member = getattr(north, who)
    response = north.client(member).post("/generate/", {**GENERATE, "space": str(north.space.pk)})
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.created_by == member and job.space == north.space


def test_without_a_choice_images_go_to_the_personal_space(north):
    north.client(north.editor).post("/generate/", GENERATE)
    assert Job.objects.get().space == personal_space(user=north.editor)


def test_the_studio_remembers_the_last_destination(north):
    client = north.client(north.editor)
    personal = personal_space(user=north.editor)
    assert client.get("/").context["generate_form"]["space"].value() == personal.pk
    client.post("/generate/", {**GENERATE, "space": str(north.space.pk)})
    page = client.get("/")
    assert page.context["generate_form"]["space"].value() == north.space.pk
    assert page.context["edit_form"]["space"].value() == north.space.pk
    client.post("/generate/", {**GENERATE, "space": str(personal.pk)})
    assert client.get("/").context["generate_form"]["space"].value() == personal.pk


def test_a_remembered_team_is_not_offered_once_the_member_is_a_viewer(north):
    destination_remember(user=north.editor, space=north.space)
    north.client(north.owner).post(_role_url(north, north.editor), {"role": Role.VIEWER})
    form = north.client(north.editor).get("/").context["generate_form"]
    assert form["space"].value() == personal_space(user=north.editor).pk
    assert north.space.pk not in [pk for pk, _ in form.fields["space"].choices]
