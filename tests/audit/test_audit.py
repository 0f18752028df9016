"""The audit log: every action the issue names is recorded with who, when, what and where; the
log cannot be changed; a team's owners read their team's log, staff read everything in admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from gallery.models import ShareLink
from gallery.services import collection_create
from studio import services
from teams.models import Invitation, Membership, Role
from teams.services import invitation_create, personal_space
from tests.factories import generate_edit, generate_image, make_user

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture
def since():
    return timezone.now()


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _only_event(action: str) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"{len(events)} {action} events"
    return events[0]


def _check(event: AuditEvent, *, actor, space, obj, since) -> None:
    assert event.actor == actor
    assert event.space == space
    assert (event.object_type, event.object_id) == (obj._meta.model_name, str(obj.pk))
    assert since <= event.created_at <= timezone.now()


# -- what is recorded --------------------------------------------------------------------------


def test_a_generation_is_recorded_in_the_space_it_went_to(north, since):
    image = generate_image(north.editor, north.space)
    event = _only_event(Action.GENERATED)
    _check(event, actor=north.editor, space=north.space, obj=image.job, since=since)
    assert f"#{image.pk}" in event.summary


def test_an_edit_is_recorded(alice, since):
    image = generate_edit(alice)
    event = _only_event(Action.EDITED)
    _check(event, actor=alice, space=personal_space(user=alice), obj=image.job, since=since)
    assert f"#{image.pk}" in event.summary
    assert not AuditEvent.objects.filter(action=Action.GENERATED).exists()


def test_a_failed_generation_records_nothing(north):
    job = services.job_submit_generation(user=north.editor, space=north.space, request={
        "model": "gpt-image-2", "prompt": "refused [[fault:moderation]]", "n": 1, "size": "1024x1024",
        "quality": "low"})
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == job.Status.FAILED and not job.images.exists()
    assert not AuditEvent.objects.exists()


def test_trash_restore_and_purge_are_recorded(north, since):
    image = generate_image(north.editor, north.space)
    client = north.client(north.owner)
    for action in ("trash", "restore", "trash", "purge"):
        assert client.post("/gallery/bulk/", {"action": action, "image": [image.pk]}).status_code == 302
    events = list(AuditEvent.objects.exclude(action=Action.GENERATED).order_by("created_at", "id"))
    assert [event.action for event in events] == [Action.DELETED, Action.RESTORED, Action.DELETED, Action.PURGED]
    for event in events:
        _check(event, actor=north.owner, space=north.space, obj=image, since=since)


def test_trashing_from_the_detail_page_is_recorded(north, since):
    image = generate_image(north.editor, north.space)
    north.client(north.editor).post(f"/gallery/{image.pk}/trash/")
    _check(_only_event(Action.DELETED), actor=north.editor, space=north.space, obj=image, since=since)


def test_refused_and_repeated_deletions_record_nothing_more(north):
    image = generate_image(north.owner, north.space)
    north.client(north.viewer).post("/gallery/bulk/", {"action": "trash", "image": [image.pk]})
    north.client(north.editor).post("/gallery/bulk/", {"action": "trash", "image": [image.pk]})  # not hers
    assert not AuditEvent.objects.filter(action=Action.DELETED).exists()
    client = north.client(north.owner)
    client.post("/gallery/bulk/", {"action": "trash", "image": [image.pk]})
    client.post("/gallery/bulk/", {"action": "trash", "image": [image.pk]})  # already in the trash
    assert AuditEvent.objects.filter(action=Action.DELETED).count() == 1


def test_sharing_and_unsharing_an_image_are_recorded(north, since):
    image = generate_image(north.owner, north.space)
    client = north.client(north.editor)
    client.post("/gallery/share/", {"image": image.pk, "days": "3"})
    _check(_only_event(Action.SHARED), actor=north.editor, space=north.space, obj=image, since=since)
    link = ShareLink.objects.get()
    client.post(f"/gallery/share/{link.pk}/revoke/")
    client.post(f"/gallery/share/{link.pk}/revoke/")  # twice: recorded once
    _check(_only_event(Action.UNSHARED), actor=north.editor, space=north.space, obj=image, since=since)


def test_sharing_a_collection_is_recorded(north, since):
    board = collection_create(space=north.space, user=north.owner, name="Moodboard")
    north.client(north.owner).post("/gallery/share/", {"collection": board.pk, "days": "3"})
    _check(_only_event(Action.SHARED), actor=north.owner, space=north.space, obj=board, since=since)


def test_a_refused_share_records_nothing(north):
    image = generate_image(north.owner, north.space)
    assert north.client(north.viewer).post("/gallery/share/", {"image": image.pk}).status_code == 403
    assert not AuditEvent.objects.filter(action=Action.SHARED).exists()


def test_invited_and_joined_are_recorded(north, since):
    carol = make_user("carol")
    north.client(north.owner).post(f"/teams/{north.space.pk}/invite/", {"invitee": "carol", "role": Role.VIEWER})
    invitation = Invitation.objects.get()
    invited = _only_event(Action.INVITED)
    _check(invited, actor=north.owner, space=north.space, obj=invitation, since=since)
    assert "carol" in invited.summary
    _login(carol).post(f"/teams/join/{invitation.token}/")
    _check(_only_event(Action.JOINED), actor=carol, space=north.space, obj=north.membership(carol), since=since)


def test_refused_invitations_and_joins_record_nothing(north, alice):
    north.client(north.owner).post(f"/teams/{north.space.pk}/invite/", {"invitee": "edith", "role": Role.VIEWER})
    assert not AuditEvent.objects.exists()
    invitation = invitation_create(space=north.space, invited_by=north.owner, invitee="carol", role=Role.VIEWER)
    _login(alice).post(f"/teams/join/{invitation.token}/")  # not alice's link
    assert not AuditEvent.objects.filter(action=Action.JOINED).exists()


def test_role_changes_are_recorded_and_refused_ones_are_not(north, since):
    client = north.client(north.owner)
    owner_url = f"/teams/{north.space.pk}/members/{north.membership(north.owner).pk}/role/"
    client.post(owner_url, {"role": Role.VIEWER})  # the last owner: refused
    assert not AuditEvent.objects.exists()
    client.post(f"/teams/{north.space.pk}/members/{north.membership(north.viewer).pk}/role/", {"role": Role.EDITOR})
    event = _only_event(Action.ROLE_CHANGED)
    _check(event, actor=north.owner, space=north.space, obj=north.membership(north.viewer), since=since)
    assert "violet" in event.summary and "viewer" in event.summary and "editor" in event.summary


def test_removals_and_leaving_are_recorded(north, since):
    editor_membership = north.membership(north.editor)
    north.client(north.owner).post(f"/teams/{north.space.pk}/members/{editor_membership.pk}/remove/")
    viewer_membership = north.membership(north.viewer)
    north.client(north.viewer).post(f"/teams/{north.space.pk}/members/{viewer_membership.pk}/remove/")
    events = list(AuditEvent.objects.filter(action=Action.REMOVED).order_by("created_at", "id"))
    assert [(event.actor, event.object_id) for event in events] == [
        (north.owner, str(editor_membership.pk)), (north.viewer, str(viewer_membership.pk))]
    for event in events:
        assert event.space == north.space and event.object_type == "membership" and since <= event.created_at
    assert "edith" in events[0].summary


# -- append-only -------------------------------------------------------------------------------


def test_the_log_cannot_be_changed_or_deleted(north):
    invitation_create(space=north.space, invited_by=north.owner, invitee="carol", role=Role.VIEWER)
    event = AuditEvent.objects.get()
    event.summary = "nothing happened"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(summary="nothing happened")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.update(summary="nothing happened")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.summary.startswith("invited carol") and AuditEvent.objects.count() == 1


def test_the_log_outlives_the_people_and_teams_it_names(north):
    invitation_create(space=north.space, invited_by=north.owner, invitee="carol", role=Role.VIEWER)
    north.owner.delete()
    north.space.delete()
    event = AuditEvent.objects.get()
    assert event.actor is None and event.space is None and event.summary.startswith("invited carol")


# -- who reads it ------------------------------------------------------------------------------


def _activity(client, team):
    return client.get(f"/teams/{team.space.pk}/activity/")


def test_owners_see_their_teams_log_and_nothing_else(north, south):
    generate_image(north.editor, north.space)
    generate_image(north.editor)  # her personal space: not North's business
    generate_image(south.owner, south.space)
    invitation_create(space=north.space, invited_by=north.owner, invitee="carol", role=Role.VIEWER)
    response = _activity(north.client(north.owner), north)
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert {event.space_id for event in shown} == {north.space.pk}
    assert [event.action for event in shown] == [Action.INVITED, Action.GENERATED]  # newest first
    assert set(shown) == set(AuditEvent.objects.filter(space=north.space))


def test_the_log_pages_at_fifty_events(north):
    for i in range(51):
        invitation_create(space=north.space, invited_by=north.owner, invitee=f"person{i}", role=Role.VIEWER)
    client = north.client(north.owner)
    first = _activity(client, north).context["page"]
    assert len(first.object_list) == 50 and first.has_next()
    second = client.get(f"/teams/{north.space.pk}/activity/", {"page": "2"}).context["page"]
    assert len(second.object_list) == 1 and second.object_list[0].summary == "invited person0 as viewer"


def test_a_second_owner_reads_the_log_too(north):
    Membership.objects.filter(space=north.space, user=north.editor).update(role=Role.OWNER)
    assert _activity(north.client(north.editor), north).status_code == 200


def test_editors_and_viewers_may_not_read_the_log_and_outsiders_do_not_find_it(north, south):
    assert _activity(north.client(north.editor), north).status_code == 403
    assert _activity(north.client(north.viewer), north).status_code == 403
    assert _activity(south.client(south.owner), north).status_code == 404
    assert _activity(_login(make_user("oscar")), north).status_code == 404


# -- staff, in admin ---------------------------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "sam-password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return user


def test_staff_see_every_event_in_admin(north, south, staff):
    generate_image(north.editor, north.space)
    generate_image(south.owner, south.space)
    generate_image(staff)
    response = _login(staff).get("/admin/audit/auditevent/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == AuditEvent.objects.count() == 3


def test_admin_may_not_add_change_or_delete_events(north, admin_client):
    invitation_create(space=north.space, invited_by=north.owner, invitee="carol", role=Role.VIEWER)
    event = AuditEvent.objects.get()
    listing = admin_client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200 and listing.context["action_form"] is None  # no "delete selected"
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin_client.post("/admin/audit/auditevent/add/", {"action": "invited", "object_type": "x",
                                                              "object_id": "1", "summary": "forged"}).status_code == 403
    view = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert view.status_code == 200 and not view.context["has_change_permission"]  # read-only
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/change/",
                             {"summary": "nothing happened"}).status_code == 403
    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.summary.startswith("invited carol") and AuditEvent.objects.count() == 1


def test_team_owners_are_not_let_into_admin(north):
    response = north.client(north.owner).get("/admin/audit/auditevent/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

