"""Seed a space's gallery with many images, fast, for benchmarks, demos and tests.

Rows are bulk-inserted; the files are real (an original PNG and a WebP thumbnail made by
the emulator), drawn from a small pool that the rows share, so 100,000 images need neither
100,000 renders nor gigabytes of disk. Seeding is incremental: call ``seed_images`` again
and the space grows further back in time, so a benchmark can measure 1k, then 10k, then 100k.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from imageapi.emulator.pictures import encode, generate_picture
from imageapi.pricing import Usage, cost_usd, output_image_tokens, published_prices
from teams.models import Membership, Role, Space

from .models import Favourite, Image, Tag
from .services import make_thumbnail

POOL = 24
BATCH = 2_000
# Each prompt takes 5 of these 26 words, so any one word is in ~19% of the prompts.
WORDS = (
    "lighthouse", "harbour", "fox", "owl", "city", "night", "neon", "forest", "river", "mountain",
    "portrait", "studio", "desk", "coffee", "poster", "logo", "chair", "lamp", "garden", "winter",
    "summer", "robot", "bicycle", "ocean", "storm", "sunrise",
)
TAGS = WORDS[:8]  # every image gets one of these
SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))
QUALITIES = ("low", "medium", "high")
FAVOURITE_RATE = 0.05  # share of the images one of the members marks as a favourite
MODEL, SNAPSHOT = "gpt-image-2", "gpt-image-2-2026-04-21"
# Filler rows, not jobs: priced at the model's published rates (the studio's price book, which
# prices real jobs, lives a layer up and starts from these same rates).
PRICES = published_prices(MODEL)


@dataclass(frozen=True)
class PoolFile:
    original: str
    thumbnail: str
    sha256: str
    byte_size: int
    width: int
    height: int


def team_space(name: str) -> Space:
    """The team called ``name``, created if missing."""
    return Space.objects.filter(kind=Space.Kind.TEAM, name=name).first() or Space.objects.create(
        kind=Space.Kind.TEAM, name=name)


def seed_members(space: Space, count: int) -> list[Any]:
    """``count`` members of ``space`` (the first is an owner, the others editors), created if missing."""
    User = get_user_model()
    users = []
    for index in range(count):
        user, _ = User.objects.get_or_create(username=f"seed-{space.pk}-{index}")
        Membership.objects.get_or_create(space=space, user=user,
                                         defaults={"role": Role.OWNER if index == 0 else Role.EDITOR})
        users.append(user)
    return users


def file_pool(size: int = POOL) -> list[PoolFile]:
    """The shared originals and thumbnails, rendered once per storage and reused after that."""
    return [_pool_file(index) for index in range(size)]


def _pool_file(index: int) -> PoolFile:
    width, height = SIZES[index % len(SIZES)]
    original, thumbnail = f"seed/{index}.png", f"seed/{index}.webp"
    if default_storage.exists(original):
        with default_storage.open(original, "rb") as handle:
            data = handle.read()
    else:
        data = encode(generate_picture(f"seed picture {index}", index=0, width=width, height=height), "png", 100)
        original = default_storage.save(original, ContentFile(data))
    if not default_storage.exists(thumbnail):
        thumbnail = default_storage.save(thumbnail, ContentFile(make_thumbnail(data)))
    return PoolFile(original, thumbnail, hashlib.sha256(data).hexdigest(), len(data), width, height)


def seed_images(space: Space, count: int, *, users: Sequence[Any] = (), members: int = 3, seed: int = 7,
                pool_size: int = POOL, progress: Callable[[int], None] | None = None) -> int:
    """Add ``count`` images to ``space``, older than those already there; returns the space's total.

    The images are made by ``users`` (by default ``members`` seed members of the space) and share the
    files of a pool of ``pool_size`` pictures. Each has one of ``TAGS``; about ``FAVOURITE_RATE`` of
    them are one of those users' favourite.
    """
    existing = Image.objects.filter(space=space).count()
    rng = random.Random(seed * 1_000_003 + existing)  # deterministic, but new rows differ from earlier ones
    users = list(users) or seed_members(space, members)
    pool = file_pool(pool_size)
    tags = [Tag.objects.get_or_create(space=space, name=name)[0] for name in TAGS]
    before = Image.objects.filter(space=space).aggregate(oldest=Min("created_at"))["oldest"] or timezone.now()
    done = 0
    while done < count:
        numbers = range(existing + done, existing + done + min(BATCH, count - done))
        rows = [_row(rng, space, users, pool, before - timedelta(minutes=number - existing + 1), number)
                for number in numbers]
        _insert(rng, rows, tags, users)
        done += len(rows)
        if progress:
            progress(done)
    return existing + count


@transaction.atomic
def _insert(rng: random.Random, rows: list[Image], tags: Sequence[Tag], users: Sequence[Any]) -> None:
    saved = Image.objects.bulk_create(rows)
    if any(image.pk is None for image in saved):  # a backend that cannot return ids (not SQLite nor PostgreSQL)
        raise RuntimeError("seeding needs a database that returns the ids of bulk-inserted rows")
    through = Image.tags.through
    through.objects.bulk_create([through(image_id=image.pk, tag_id=rng.choice(tags).pk) for image in saved])
    Favourite.objects.bulk_create(
        [Favourite(user=rng.choice(users), image_id=image.pk, created_at=image.created_at)
         for image in saved if rng.random() < FAVOURITE_RATE])


def _row(rng: random.Random, space: Space, users: Sequence[Any], pool: Sequence[PoolFile], created_at: datetime,
         number: int) -> Image:
    picture = rng.choice(pool)
    quality = rng.choice(QUALITIES)
    prompt = " ".join(rng.sample(WORDS, 5)) + f" #{number}"
    size = f"{picture.width}x{picture.height}"
    usage = Usage(text_input=len(prompt.split()) + 2,
                  image_output=output_image_tokens(picture.width, picture.height, quality))
    return Image(
        created_by=rng.choice(users), space=space, prompt=prompt, model=MODEL, snapshot=SNAPSHOT,
        request={"prompt": prompt, "size": size, "quality": quality, "n": 1},
        file=picture.original, thumbnail=picture.thumbnail, format="png", width=picture.width,
        height=picture.height, byte_size=picture.byte_size, sha256=picture.sha256, size=size, quality=quality,
        background="opaque", usage=usage.as_api(), input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost_usd(usage, prices=PRICES).quantize(Decimal("0.00000001")), created_at=created_at,
    )
