"""The gallery grid issues as many SQL queries for 60 images as for 5, on every kind of page: the query
count is one of the two halves of "a page costs the same at any size" (docs/benchmarks.md has the other,
the time, measured by `make bench` up to 100,000 images)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery import services
from gallery.benchmarks import with_deep_cursor
from gallery.models import Image
from gallery.seeding import seed_images, seed_members, team_space
from teams.services import personal_space

POOL = 3  # pictures shared by the seeded rows: enough to vary sizes, quick to render
SHARED_TAG = "query count"


@pytest.fixture
def seeded_team(db):
    """A team filled by gallery.seeding, as `make bench` fills one (not the world's `team`)."""
    return team_space("Query count team")


@pytest.fixture
def member(seeded_team, client):
    member = seed_members(seeded_team, 3)[0]
    personal_space(user=member)  # two spaces to read, as for anyone in a team
    client.force_login(member)
    return member


def _grow(team, total: int) -> None:
    """Seed the team up to ``total`` images, all carrying SHARED_TAG so that the filters match several."""
    seed_images(team, total - Image.objects.filter(space=team).count(), pool_size=POOL)
    services.tags_add(images=Image.objects.filter(space=team), names=[SHARED_TAG])


def _cases(member: Any, word: str) -> dict[str, dict[str, str]]:
    costs = sorted(Image.objects.filter(space__members=member).values_list("cost_usd", flat=True))
    filters = {"tag": SHARED_TAG, "model": "gpt-image-2", "format": "png", "cost_min": str(costs[0]),
               "cost_max": str(costs[-1]), "sort": "cost"}
    return {
        "first page": {},
        "deep page": with_deep_cursor(member, {}),
        "search": {"q": word},
        "filters": filters,
        "search and filters, deep page": with_deep_cursor(member, {**filters, "q": word}),
    }


def _queries(client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/gallery/", params)
    assert response.status_code == 200
    # An empty page needs no favourites and would save a query: every case must show images.
    assert response.context["page"].images, params
    return len(captured)


def _common_word(team) -> str:
    """A prompt word in two images or more (seeding draws 5 of 26 words per prompt)."""
    words = Counter(word for prompt in Image.objects.filter(space=team).values_list("prompt", flat=True)
                    for word in prompt.split() if word.isalpha())
    word, seen = words.most_common(1)[0]
    assert seen >= 2
    return word


def test_a_grid_page_costs_the_same_queries_for_5_images_as_for_60(client, seeded_team, member):
    _grow(seeded_team, 5)
    word = _common_word(seeded_team)
    small = {name: _queries(client, params) for name, params in _cases(member, word).items()}
    _grow(seeded_team, 60)
    cases = _cases(member, word)
    assert "after" in cases["deep page"] and "after" in cases["search and filters, deep page"]
    large = {name: _queries(client, params) for name, params in cases.items()}

    assert large == small
    # And one shape whatever the view (9 today: session, user, the filter form's three lists, the bulk
    # bar's collections, the spaces to read, the page and the page's favourites; the count comes after,
    # from /gallery/count/).
    assert len(set(small.values())) == 1, small


def _count_queries(client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/gallery/count/", params)
    assert response.status_code == 200
    return len(captured)


def test_the_count_costs_the_same_queries_for_5_images_as_for_60(client, seeded_team, member):
    _grow(seeded_team, 5)
    word = _common_word(seeded_team)
    small = {name: _count_queries(client, params) for name, params in _cases(member, word).items()}
    _grow(seeded_team, 60)
    large = {name: _count_queries(client, params) for name, params in _cases(member, word).items()}
    assert large == small and len(set(small.values())) == 1, small
