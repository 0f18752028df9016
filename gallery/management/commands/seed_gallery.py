"""Seed a team's gallery with many images, fast, for benchmarks and demos.

Rows are bulk-inserted; the files are real (an original PNG and a WebP thumbnail made by
the emulator), drawn from a small pool that the rows share, so 100,000 images do not
need 100,000 renders or gigabytes of disk.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from gallery.models import Image, Tag
from gallery.services import make_thumbnail
from imageapi.emulator.pictures import encode, generate_picture
from imageapi.pricing import Usage, cost_usd, output_image_tokens
from teams.models import Membership, Role, Space

POOL = 24
BATCH = 2_000
WORDS = (
    "lighthouse", "harbour", "fox", "owl", "city", "night", "neon", "forest", "river", "mountain",
    "portrait", "studio", "desk", "coffee", "poster", "logo", "chair", "lamp", "garden", "winter",
    "summer", "robot", "bicycle", "ocean", "storm", "sunrise",
)
SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))
QUALITIES = ("low", "medium", "high")


class Command(BaseCommand):
    help = "Bulk-create N images (with real files) in a team, for benchmarks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--images", type=int, default=1000)
        parser.add_argument("--team", default="Benchmark team", help="Team name (created if missing).")
        parser.add_argument("--members", type=int, default=3, help="Members who create the images.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *, images: int, team: str, members: int, seed: int, **options) -> None:
        if images < 1:
            raise CommandError("--images must be at least 1")
        rng = random.Random(seed)
        space = Space.objects.filter(kind=Space.Kind.TEAM, name=team).first() or Space.objects.create(
            kind=Space.Kind.TEAM, name=team)
        users = self._members(space, members)
        pool = self._file_pool()
        tags = [Tag.objects.get_or_create(space=space, name=word)[0] for word in WORDS[:8]]
        start = timezone.now() - timedelta(minutes=images)
        created = 0
        while created < images:
            rows = [self._row(rng, space, users, pool, start + timedelta(minutes=created + i), created + i)
                    for i in range(min(BATCH, images - created))]
            with transaction.atomic():
                saved = Image.objects.bulk_create(rows)
                through = Image.tags.through
                through.objects.bulk_create(
                    [through(image_id=image.pk, tag_id=rng.choice(tags).pk) for image in saved if image.pk],
                    ignore_conflicts=True)
            created += len(rows)
            self.stdout.write(f"  {created:,} / {images:,}", ending="\r")
        self.stdout.write(self.style.SUCCESS(f"\nSeeded {images:,} images into “{space.name}” (space {space.pk})."))

    def _members(self, space: Space, count: int) -> list:
        User = get_user_model()
        users = []
        for index in range(count):
            user, _ = User.objects.get_or_create(username=f"seed-{space.pk}-{index}")
            Membership.objects.get_or_create(space=space, user=user,
                                             defaults={"role": Role.OWNER if index == 0 else Role.EDITOR})
            users.append(user)
        return users

    def _file_pool(self) -> list[tuple[str, str, str, int, int, int]]:
        pool = []
        for index in range(POOL):
            width, height = SIZES[index % len(SIZES)]
            picture = generate_picture(f"seed picture {index}", index=0, width=width, height=height)
            data = encode(picture, "png", 100)
            original = default_storage.save(f"seed/{index}.png", ContentFile(data))
            thumb = default_storage.save(f"seed/{index}.webp", ContentFile(make_thumbnail(data)))
            pool.append((original, thumb, hashlib.sha256(data).hexdigest(), len(data), width, height))
        return pool

    @staticmethod
    def _row(rng: random.Random, space: Space, users: list, pool: list, created_at, number: int) -> Image:
        original, thumb, sha, byte_size, width, height = rng.choice(pool)
        quality = rng.choice(QUALITIES)
        prompt = " ".join(rng.sample(WORDS, 5)) + f" #{number}"
        tokens = output_image_tokens(width, height, quality)
        usage = Usage(text_input=len(prompt.split()) + 2, image_output=tokens)
        return Image(
            created_by=rng.choice(users), space=space, prompt=prompt, model="gpt-image-2",
            snapshot="gpt-image-2-2026-04-21", request={"prompt": prompt, "size": f"{width}x{height}",
                                                        "quality": quality, "n": 1},
            file=original, thumbnail=thumb, format="png", width=width, height=height, byte_size=byte_size,
            sha256=sha, size=f"{width}x{height}", quality=quality, background="opaque", usage=usage.as_api(),
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cost_usd=cost_usd(usage, model="gpt-image-2").quantize(Decimal("0.00000001")), created_at=created_at,
        )
