"""Every URL of the project with real objects behind it, for the tests that walk them all.

``every_url(world)`` gives one concrete path per URL pattern (admin aside, it is Django's): the
world's objects where known, and for a pattern added later a path with placeholder arguments,
so a new endpoint cannot escape the CSRF and header checks."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gallery.models import Collection, Image, ShareLink
from gallery.services import collection_create, share_link_create
from imageapi.images import inspect_image
from studio import services
from studio.models import Job
from studio.services import Upload
from teams.models import Invitation, Membership, Role, Space
from teams.services import invitation_create, team_create

EDIT_REQUEST = {"model": "gpt-image-2", "prompt": "a fox", "n": 1, "size": "1024x1024", "quality": "low"}


@dataclass
class World:
    image: Image
    job: Job
    input_pk: int
    collection: Collection
    link: ShareLink
    team: Space
    membership: Membership
    invitation: Invitation


def make_world(owner, member) -> World:
    """``owner`` made an image in a team where ``member`` is an editor."""
    team = team_create(user=owner, name="North")
    membership = Membership.objects.create(space=team, user=member, role=Role.EDITOR)
    job = services.job_submit_generation(user=owner, space=team, request=EDIT_REQUEST)
    services.job_run(job_id=job.pk)
    image = job.images.get()
    with image.file.open("rb") as handle:
        data = handle.read()
    edit = services.job_submit_edit(user=owner, space=team, request={**EDIT_REQUEST, "size": "auto"},
                                    images=[Upload(data=data, info=inspect_image(data), name="in.png")], mask=None)
    collection = collection_create(space=team, user=owner, name="Best")
    link = share_link_create(user=owner, target=image, days=7, show_prompt=True)
    invitation = invitation_create(space=team, invited_by=owner, invitee="someone@example.com", role=Role.VIEWER)
    return World(image=image, job=job, input_pk=edit.job_inputs.get().input_image_id, collection=collection,
                 link=link, team=team, membership=membership, invitation=invitation)


def url_patterns() -> dict[str, URLPattern]:
    """Every named URL pattern outside the admin, by ``namespace:name``."""

    def walk(patterns, prefix: str) -> dict[str, URLPattern]:
        found: dict[str, URLPattern] = {}
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                found |= walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else prefix)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found[prefix + pattern.name] = pattern
        return found

    return walk(get_resolver().url_patterns, "")


def _placeholder_path(name: str, pattern: URLPattern) -> str:
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {key: 1 if type(converter).__name__ == "IntConverter" else "x" for key, converter in converters.items()}
    return reverse(name, kwargs=kwargs)


def every_url(world: World) -> dict[str, str]:
    """One concrete path per URL name; the objects are the world's."""
    known = _known_urls(world)
    return {name: known.get(name) or _placeholder_path(name, pattern) for name, pattern in url_patterns().items()}


def _known_urls(world: World) -> dict[str, str]:
    image, team = world.image.pk, world.team.pk
    return {
        "studio:home": "/", "studio:generate": "/generate/", "studio:edit": "/edit/",
        "studio:size_check": "/size-check/?size=1024x1024", "studio:prompts": "/prompts/",
        "studio:job_card": f"/jobs/{world.job.pk}/",
        "studio:jobs_live": f"/jobs/live/?live={world.job.pk}", "studio:job_cancel": f"/jobs/{world.job.pk}/cancel/",
        "studio:job_preview": f"/jobs/{world.job.pk}/preview/",
        "studio:spend": "/spend/", "studio:spend_csv": "/spend/ledger.csv",
        "studio:spend_team": f"/spend/team/{team}/", "studio:spend_team_csv": f"/spend/team/{team}/ledger.csv",
        "studio:spend_all": "/spend/all/", "studio:spend_all_csv": "/spend/all/ledger.csv",
        "gallery:index": "/gallery/", "gallery:count": "/gallery/count/",
        "gallery:compare": f"/gallery/compare/?a={image}", "gallery:pick": "/gallery/pick/",
        "gallery:detail": f"/gallery/{image}/", "gallery:original": f"/gallery/{image}/original/",
        "gallery:thumbnail": f"/gallery/{image}/thumbnail/", "gallery:favourite": f"/gallery/{image}/favourite/",
        "gallery:tag_add": f"/gallery/{image}/tags/", "gallery:tag_remove": f"/gallery/{image}/tags/remove/",
        "gallery:image_trash": f"/gallery/{image}/trash/", "gallery:input_file": f"/gallery/inputs/{world.input_pk}/",
        "gallery:bulk": "/gallery/bulk/", "gallery:trash": "/gallery/trash/",
        "gallery:tag_suggestions": "/gallery/tags/suggest/?q=a", "gallery:collections": "/gallery/collections/",
        "gallery:collection_create": "/gallery/collections/new/", "gallery:share_create": "/gallery/share/",
        "gallery:share_revoke": f"/gallery/share/{world.link.pk}/revoke/",
        "teams:list": "/teams/", "teams:detail": f"/teams/{team}/", "teams:invite": f"/teams/{team}/invite/",
        "teams:invitation_revoke": f"/teams/{team}/invitations/{world.invitation.pk}/revoke/",
        "teams:member_role": f"/teams/{team}/members/{world.membership.pk}/role/",
        "teams:member_remove": f"/teams/{team}/members/{world.membership.pk}/remove/",
        "teams:activity": f"/teams/{team}/activity/", "teams:accept": f"/teams/join/{world.invitation.token}/",
        "teams:budget": f"/teams/{team}/budget/",
        "share": f"/s/{world.link.token}/", "share_file": f"/s/{world.link.token}/0/image/",
        "login": "/accounts/login/", "logout": "/accounts/logout/", "healthz": "/healthz",
    }
