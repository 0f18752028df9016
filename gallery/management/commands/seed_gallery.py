"""Seed a team's gallery with many images (real files, bulk-inserted rows): see gallery.seeding."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gallery.seeding import seed_images, team_space


class Command(BaseCommand):
    help = "Bulk-create N images (with real files) in a team, for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, default=1000)
        parser.add_argument("--team", default="Benchmark team", help="Team name (created if missing).")
        parser.add_argument("--members", type=int, default=3, help="Members who create the images.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *, images: int, team: str, members: int, seed: int, **options: Any) -> None:
        if images < 1:
            raise CommandError("--images must be at least 1")
        space = team_space(team)
        total = seed_images(space, images, members=members, seed=seed,
                            progress=lambda done: self.stdout.write(f"  {done:,} / {images:,}", ending="\r"))
        self.stdout.write(self.style.SUCCESS(
            f"\nSeeded {images:,} images into “{space.name}” (space {space.pk}); it now holds {total:,}."))
