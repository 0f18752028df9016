"""Builders for test data, in one place: picture bytes, users, teams with roles, and factories
(factory_boy) that seed jobs, images, collections and share links straight into the database and
storage, without running the worker. ``generate_image`` and ``generate_edit`` go the real way
(submit, then run the job on the emulator) for tests about what that path records.

Fixtures built from these live in tests/conftest.py; import builders from here, never from a
conftest file."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import factory
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from factory.django import DjangoModelFactory
from PIL import Image as PILImage

from gallery.models import Collection, Image, ShareLink
from gallery.services import make_thumbnail
from studio import services as studio_services
from studio.models import Job
from studio.worker import ConcurrentWorker
from teams.models import Membership, Role, Space
from teams.services import personal_space, team_create

MODEL, SNAPSHOT = "gpt-image-2", "gpt-image-2-2026-04-21"


# -- picture bytes ----------------------------------------------------------------------------


def make_png(width: int = 1024, height: int = 1024, *, color=(200, 80, 40, 255), mode: str = "RGBA") -> bytes:
    picture = PILImage.new(mode, (width, height), color if mode == "RGBA" else color[:3])
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()


def make_mask(width: int = 1024, height: int = 1024, *, hole=(256, 256, 768, 768)) -> bytes:
    """Opaque everywhere but a fully transparent rectangle: the area to edit."""
    mask = PILImage.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), hole)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


@cache
def _picture(width: int, height: int) -> tuple[bytes, bytes]:
    """A PNG and its thumbnail, rendered once per size for every seeded image."""
    data = make_png(width, height)
    return data, make_thumbnail(data)


# -- people and spaces ------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = settings.AUTH_USER_MODEL
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"designer{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyAttribute(lambda user: f"{user.username}-password")

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any):
        return model_class.objects.create_user(*args, **kwargs)  # hashes the password


def make_user(username: str) -> Any:
    """``username``, whose password is ``<username>-password``."""
    return UserFactory(username=username)


@dataclass
class Team:
    """A team space with one person in each role."""

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


def make_team(name: str = "Studio North", *, prefix: str = "") -> Team:
    """A team whose owner created it and then added an editor and a viewer (owen, edith, violet)."""
    owner, editor, viewer = (make_user(f"{prefix}{who}") for who in ("owen", "edith", "violet"))
    space = team_create(user=owner, name=name)
    Membership.objects.create(space=space, user=editor, role=Role.EDITOR)
    Membership.objects.create(space=space, user=viewer, role=Role.VIEWER)
    return Team(space=space, owner=owner, editor=editor, viewer=viewer)


# -- seeded rows (no worker) ------------------------------------------------------------------


def _request(prompt: str, size: str = "1024x1024") -> dict[str, Any]:
    return {"model": MODEL, "prompt": prompt, "n": 1, "size": size, "quality": "low", "output_format": "png"}


class JobFactory(DjangoModelFactory):
    """A finished generation job, as the worker leaves it."""

    class Meta:
        model = Job

    created_by = factory.SubFactory(UserFactory)
    space = factory.LazyAttribute(lambda job: personal_space(user=job.created_by))
    kind = Job.Kind.GENERATE
    status = Job.Status.SUCCEEDED
    model = MODEL
    prompt = "a quiet harbour"
    request = factory.LazyAttribute(lambda job: _request(job.prompt))
    progress = 100
    cost_usd = Decimal("0.006")
    finished_at = factory.LazyFunction(timezone.now)


class ImageFactory(DjangoModelFactory):
    """A generated image with its original and thumbnail in storage, and the job that made it."""

    class Meta:
        model = Image

    class Params:
        pixels = (1024, 1024)

    created_by = factory.SubFactory(UserFactory)
    space = factory.LazyAttribute(lambda image: personal_space(user=image.created_by))
    prompt = "a quiet harbour"
    job = factory.SubFactory(JobFactory, created_by=factory.SelfAttribute("..created_by"),
                             space=factory.SelfAttribute("..space"), prompt=factory.SelfAttribute("..prompt"))
    kind = "generate"
    request = factory.LazyAttribute(lambda image: _request(image.prompt, f"{image.pixels[0]}x{image.pixels[1]}"))
    model = MODEL
    snapshot = SNAPSHOT
    format = "png"
    width = factory.LazyAttribute(lambda image: image.pixels[0])
    height = factory.LazyAttribute(lambda image: image.pixels[1])
    size = factory.LazyAttribute(lambda image: f"{image.pixels[0]}x{image.pixels[1]}")
    quality = "low"
    background = "opaque"
    cost_usd = Decimal("0.006")

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any):
        data, thumbnail = _picture(kwargs["width"], kwargs["height"])
        kwargs.setdefault("file", ContentFile(data, name="image.png"))
        kwargs.setdefault("thumbnail", ContentFile(thumbnail, name="thumbnail.webp"))
        kwargs.setdefault("byte_size", len(data))
        kwargs.setdefault("sha256", hashlib.sha256(data).hexdigest())
        return super()._create(model_class, *args, **kwargs)


class CollectionFactory(DjangoModelFactory):
    class Meta:
        model = Collection
        skip_postgeneration_save = True  # adding images saves the items, not the collection

    created_by = factory.SubFactory(UserFactory)
    space = factory.LazyAttribute(lambda collection: personal_space(user=collection.created_by))
    name = factory.Sequence(lambda n: f"Moodboard {n}")

    @factory.post_generation
    def images(self, create: bool, images: list[Image] | None, **kwargs: Any) -> None:
        for image in images or []:
            self.images.add(image, through_defaults={"added_by": self.created_by})


class ShareLinkFactory(DjangoModelFactory):
    """A link to ``image`` or ``collection`` (give one), valid for a week."""

    class Meta:
        model = ShareLink

    token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    created_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


# -- the real way: submit and run on the emulator ---------------------------------------------


def generate_image(user: Any, space: Space | None = None, *, prompt: str = "a quiet harbour", **request: Any) -> Image:
    """One image generated with the offline emulator into ``space`` (the user's personal space by default)."""
    job = studio_services.job_submit_generation(user=user, space=space or personal_space(user=user), request={
        **_request(prompt), **request})
    studio_services.job_run(job_id=job.pk)
    return job.images.get()


def generate_edit(user: Any, *, prompt: str = "paint the sky gold") -> Image:
    """One edit (an uploaded picture and a mask) run on the offline emulator."""
    from imageapi.images import inspect_image

    source, mask = make_png(), make_mask()
    job = studio_services.job_submit_edit(
        user=user,
        request={"model": MODEL, "prompt": prompt, "n": 1, "size": "auto", "quality": "low"},
        images=[studio_services.Upload(data=source, info=inspect_image(source), name="room.png")],
        mask=studio_services.Upload(data=mask, info=inspect_image(mask), name="mask.png"),
    )
    studio_services.job_run(job_id=job.pk)
    return job.images.get()


def make_worker(**options: Any) -> ConcurrentWorker:
    """A task worker in this process on the default queue, quick to look again (tests override
    what they test: concurrency, batch, worker_id, clock...)."""
    defaults = {"concurrency": 4, "queue_names": ["default"], "interval": 0.02, "batch": True,
                "backend_name": "default", "startup_delay": False, "max_tasks": None,
                "worker_id": "test-worker", "excluded_queue_names": []}
    return ConcurrentWorker(**{**defaults, **options})
