"""Ingest at the floor, for `make bench` (issue 10).

Storing a received image (decode, original and thumbnail stored, row committed:
``image_prepare`` then ``image_ingest`` in a transaction, as a job does) against the floor:
Pillow alone decoding the same bytes and making the same WebP thumbnail. Both are timed in
turns, one of each per round, so a busy machine slows both alike; the ratio of the medians
is what the issue bounds (1.15x).
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from PIL import Image as PILImage

from imageapi.client import GeneratedImage
from teams.services import personal_space

from .services import THUMBNAIL_EDGE, THUMBNAIL_QUALITY, FileLedger, ImageOrigin, image_ingest, image_prepare

SIZES = ((1024, 1024), (3840, 2160))
REPEATS = 15


@dataclass(frozen=True)
class Result:
    size: str
    floor_ms: float
    ingest_ms: float

    @property
    def ratio(self) -> float:
        return self.ingest_ms / self.floor_ms


def picture(width: int, height: int) -> bytes:
    """A PNG with detail (noise over a gradient), so decoding costs what a real picture's does."""
    noise = PILImage.effect_noise((width, height), 40).convert("RGB")
    gradient = PILImage.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    PILImage.blend(noise, gradient, 0.5).save(out, "PNG")
    return out.getvalue()


def floor(data: bytes) -> bytes:
    """Pillow alone: decode and thumbnail the same bytes, nothing stored."""
    with PILImage.open(io.BytesIO(data)) as source:
        source.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), PILImage.Resampling.LANCZOS)
        out = io.BytesIO()
        source.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


def run(*, repeats: int = REPEATS) -> list[Result]:
    user = get_user_model().objects.create_user(f"bench-ingest-{time.monotonic_ns()}")
    origin = ImageOrigin(created_by=user, space=personal_space(user=user), job=None,
                         request={"prompt": "bench"}, model="gpt-image-2")
    results = []
    for width, height in SIZES:
        received = GeneratedImage(data=picture(width, height), format="png", index=0)
        floors, ingests = [], []
        for _ in range(repeats + 1):  # the first round warms up and is not counted
            started = time.perf_counter()
            floor(received.data)
            floors.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger = FileLedger()
            prepared = image_prepare(received=received, ledger=ledger)
            with transaction.atomic():
                image_ingest(received=received, origin=origin, cost_usd=Decimal("0.01"), ledger=ledger,
                             prepared=prepared)
            ingests.append(time.perf_counter() - started)
        results.append(Result(f"{width}x{height}", statistics.median(floors[1:]) * 1000,
                              statistics.median(ingests[1:]) * 1000))
    return results


def rows(results: list[Result]) -> list[tuple[str, str]]:
    return [(f"ingest {result.size} png vs Pillow alone (decode + thumbnail), medians",
             f"{result.ingest_ms:.0f} ms vs {result.floor_ms:.0f} ms: {result.ratio:.2f}x") for result in results]
