"""The issue's "team of three with different roles": Studio North, with an owner, an editor and a
viewer, plus an outsider who owns another team. Builders are plain functions so test modules
outside tests/teams can make the same world with a fixture of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gallery.models import Image
from studio import services
from teams.models import Membership, Role, Space
from teams.services import personal_space, team_create


@dataclass
class Team:
    space: Space
    owner: Any
    editor: Any
    viewer: Any
    _clients: dict[int, Client] = field(default_factory=dict, repr=False)

    def client(self, user: Any) -> Client:
        """A client logged in as ``user`` (one per user, so cookies and messages carry over)."""
        if user.pk not in self._clients:
            self._clients[user.pk] = Client()
            self._clients[user.pk].force_login(user)
        return self._clients[user.pk]

    def membership(self, user: Any) -> Membership:
        return Membership.objects.get(space=self.space, user=user)


def make_user(username: str) -> Any:
    return get_user_model().objects.create_user(username, f"{username}@example.com", f"{username}-password")


def make_team(name: str = "Studio North", *, prefix: str = "") -> Team:
    """A team whose owner created it and then added an editor and a viewer."""
    owner, editor, viewer = (make_user(f"{prefix}{who}") for who in ("owen", "edith", "violet"))
    space = team_create(user=owner, name=name)
    Membership.objects.create(space=space, user=editor, role=Role.EDITOR)
    Membership.objects.create(space=space, user=viewer, role=Role.VIEWER)
    return Team(space=space, owner=owner, editor=editor, viewer=viewer)


def make_image_in(user: Any, space: Space | None = None, *, prompt: str = "a quiet harbour", **request: Any) -> Image:
    """Generate one image with the offline emulator into ``space`` (the user's personal space by default)."""
    job = services.job_submit_generation(user=user, space=space or personal_space(user=user), request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png", **request})
    services.job_run(job_id=job.pk)
    return job.images.get()


@pytest.fixture
def north(db) -> Team:
    """Studio North: owen (owner), edith (editor), violet (viewer)."""
    return make_team()


@pytest.fixture
def south(db) -> Team:
    """Another team, Studio South, whose people are not in Studio North."""
    return make_team("Studio South", prefix="s-")


@pytest.fixture
def outsider(db) -> Any:
    """Logged-in somebody with no membership anywhere but their own space."""
    return make_user("oscar")
