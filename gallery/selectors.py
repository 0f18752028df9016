"""Reads of the gallery: search, filters and keyset pages that cost the same at any depth."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.utils import timezone

from teams.ids import parse_id
from teams.permissions import User, readable_space_ids

from .models import Favourite, Image, ImageInput, InputImage, Tag
from .permissions import visible_collections, visible_images

GALLERY_PAGE_SIZE = 48
COUNT_LIMIT = 1000  # beyond this the grid says "1,000+": counting every match would grow with the gallery

# The range filters on each sort key: (from below, from above).
KEY_BOUNDS = {"created_at": ("date_from", "date_to"), "cost_usd": ("cost_min", "cost_max")}
# name: (fields, descending). The last fields break ties, so that every row has one place and a cursor
# can point between any two. Among equal costs (there are only a few prices) the newest comes first:
# SQLite can seek an index to (cost, created_at) but not to (cost, id), id being its rowid.
SORTS = {
    "newest": (("created_at", "id"), True),
    "oldest": (("created_at", "id"), False),
    "cost": (("cost_usd", "created_at", "id"), True),
}
Position = tuple[Any, ...]  # the values of a sort's fields for one image


@dataclass
class GalleryPage:
    images: list[Image]
    next_cursor: str | None
    previous_cursor: str | None
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GalleryCount:
    count: int
    is_capped: bool

    @property
    def label(self) -> str:
        noun = "image" if self.count == 1 and not self.is_capped else "images"
        return f"{COUNT_LIMIT:,}+ {noun}" if self.is_capped else f"{self.count:,} {noun}"


def gallery_count(*, user: User, filters: dict[str, Any]) -> GalleryCount:
    """How many images the view holds, capped at COUNT_LIMIT: the database stops at the first
    COUNT_LIMIT + 1 matches. A sparse view must still read every candidate to know there are no
    more, so the grid asks for this separately, after the page (see docs/benchmarks.md)."""
    count = filtered_images(user=user, filters=filters).order_by()[: COUNT_LIMIT + 1].count()
    return GalleryCount(count=min(count, COUNT_LIMIT), is_capped=count > COUNT_LIMIT)


def filtered_images(*, user: User, filters: dict[str, Any]) -> QuerySet[Image]:
    """The user's visible images narrowed by ``filters`` (see GalleryFilterForm)."""
    images = visible_images(user)
    if space := filters.get("space"):
        images = images.filter(space_id=space)
    if text := (filters.get("q") or "").strip():
        images = _search(images, text)
    if creator := filters.get("creator"):
        images = images.filter(created_by_id=creator)
    bounds = _bounds(filters)
    for key, (low, high) in KEY_BOUNDS.items():
        if low in bounds:
            images = images.filter(**{f"{key}__gte": bounds[low]})
        if high in bounds:
            images = images.filter(**{f"{key}__lte": bounds[high]})
    for name in ("size", "quality", "model", "format"):
        if value := filters.get(name):
            images = images.filter(**{name: value})
    if filters.get("favourite"):
        # IN, not EXISTS: the database may start from the user's favourites, which are few, to count them.
        images = images.filter(pk__in=Favourite.objects.filter(user_id=user.pk).values("image_id"))
    if collection := filters.get("collection"):
        images = images.filter(collection_items__collection__in=visible_collections(user).filter(pk=collection))
    if tag := filters.get("tag"):
        images = images.filter(tags__in=Tag.objects.filter(name=Tag.normalise(tag)))
    return images


def _bounds(filters: dict[str, Any]) -> dict[str, Any]:
    """The range filters (see ``KEY_BOUNDS``) that are set, as values of their columns."""
    bounds = {name: filters.get(name) for name in ("cost_min", "cost_max")}
    if date_from := filters.get("date_from"):
        bounds["date_from"] = timezone.make_aware(datetime.combine(date_from, time.min))
    if date_to := filters.get("date_to"):
        bounds["date_to"] = timezone.make_aware(datetime.combine(date_to, time.max))
    return {name: value for name, value in bounds.items() if value is not None}


def _implied_by_cursor(filters: dict[str, Any], fields: tuple[str, ...], position: Position, *,
                       descending: bool) -> dict[str, Any]:
    """``filters`` without the bound on the sort key that a cursor's row comparison already implies.

    The row comparison is the index range a page reads. Given a second bound on the same side of the same
    column (say cost_max with a cursor in the cost order), SQLite seeks with that one instead and steps
    row by row down to the cursor, so a deep page would cost as much as the rows before it.
    """
    low, high = KEY_BOUNDS[fields[0]]
    name = high if descending else low
    bound = _bounds(filters).get(name)
    value = position[0]
    if bound is None or (value > bound if descending else value < bound):
        return filters  # no such bound, or a cursor outside it (made up): the filter still applies
    return {key: item for key, item in filters.items() if key != name}


class PromptMatches(Func):
    """``to_tsvector('english', prompt) @@ websearch_to_tsquery('english', text)`` (PostgreSQL).

    Written as a condition on the row itself (not ``pk IN (SELECT ...)``) and exactly as the GIN index of
    migration 0006, so the planner may use that index for a rare word, or walk the sort index and test each
    row for a common one: either way it stops after a page.
    """

    output_field = BooleanField()

    def __init__(self, text: str) -> None:
        super().__init__(F("prompt"), Value(text))

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        (prompt, prompt_params), (text, text_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return (f"to_tsvector('english', {prompt}) @@ websearch_to_tsquery('english', {text})",
                [*prompt_params, *text_params])


def _search(images: QuerySet[Image], text: str) -> QuerySet[Image]:
    if connection.vendor == "postgresql":
        return images.filter(PromptMatches(text))
    # SQLite: every word must appear somewhere in the prompt.
    condition = Q()
    for word in text.split()[:10]:
        condition &= Q(prompt__icontains=word.strip('"'))
    return images.filter(condition)


def gallery_page(*, user: User, filters: dict[str, Any], cursor: str | None = None,
                 direction: str = "next", page_size: int = GALLERY_PAGE_SIZE) -> GalleryPage:
    """One page of the filtered gallery after (or, with ``direction="previous"``, before) ``cursor``.

    Keyset pagination: a deep page costs what the first one does, however many images there are.
    """
    sort = filters.get("sort") or "newest"
    fields, descending = SORTS.get(sort, SORTS["newest"])
    space_ids = _space_ids(user, filters)
    position = decode_cursor(cursor, sort=sort)
    backwards = direction == "previous" and position is not None
    scan_descending = descending != backwards
    rows = _first_rows(_after(user, filters, fields, position, descending=scan_descending), space_ids=space_ids,
                       fields=fields, descending=scan_descending, limit=page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = (more if backwards else position is not None) and bool(rows)
    _mark_favourites(user, rows)
    return GalleryPage(
        images=rows,
        next_cursor=encode_cursor(rows[-1], sort=sort) if rows and has_next else None,
        previous_cursor=encode_cursor(rows[0], sort=sort) if rows and has_previous else None,
        filters=filters,
    )


def neighbours(*, user: User, image: Image, filters: dict[str, Any]) -> tuple[Image | None, Image | None]:
    """The images before and after ``image`` in the filtered, sorted view (for ← and →)."""
    sort = filters.get("sort") or "newest"
    fields, descending = SORTS.get(sort, SORTS["newest"])
    position = tuple(getattr(image, name) for name in fields)
    space_ids = _space_ids(user, filters)
    earlier, later = (
        _first_rows(_after(user, filters, fields, position, descending=scan_descending), space_ids=space_ids,
                    fields=fields, descending=scan_descending, limit=1, related=False)
        for scan_descending in (not descending, descending))
    return (earlier[0] if earlier else None), (later[0] if later else None)


def _after(user: User, filters: dict[str, Any], fields: tuple[str, ...], position: Position | None, *,
           descending: bool) -> QuerySet[Image]:
    """The filtered images beyond ``position`` (all of them without one) in the scan's direction."""
    if position is None:
        return filtered_images(user=user, filters=filters)
    filters = _implied_by_cursor(filters, fields, position, descending=descending)
    return filtered_images(user=user, filters=filters).filter(RowBeyond(fields, position, descending=descending))


def _space_ids(user: User, filters: dict[str, Any]) -> list[int]:
    """The spaces a view reads: the user's, or the one chosen in the filters (one small query)."""
    ids = list(readable_space_ids(user).values_list("pk", flat=True))
    if space := filters.get("space"):
        ids = [pk for pk in ids if pk == space]
    return ids


def _first_rows(images: QuerySet[Image], *, space_ids: list[int], fields: tuple[str, ...], descending: bool,
                limit: int, related: bool = True) -> list[Image]:
    """The first ``limit`` of ``images`` in (``fields``) order, read space by space.

    A space's alive images are one range of its (space, key, id) index, so the first rows of one space
    cost the same at any size, while sorting several spaces' images together would read them all. With
    several spaces, each one's first ``limit`` ids are gathered (UNION ALL) and only those are sorted.
    """
    order = [f"-{name}" if descending else name for name in fields]
    if not space_ids:
        return []
    if len(space_ids) == 1:
        ranked = images.filter(space_id=space_ids[0])
    else:
        heads = [Image.objects.filter(pk__in=images.filter(space_id=pk).order_by(*order).values("pk")[:limit])
                 .order_by().values("pk") for pk in space_ids]
        ranked = Image.objects.filter(pk__in=heads[0].union(*heads[1:], all=True))
    if related:
        ranked = ranked.select_related("space")
    return list(ranked.order_by(*order)[:limit])


class RowBeyond(Func):
    """Rows after ``position`` in a sort's order: ``(key, ..., id) < (value, ..., pk)``, or ``>`` ascending.

    A row comparison is one range of a (space, key, ..., id) index: PostgreSQL seeks straight to it, and
    SQLite seeks on the fields before ``id`` (its rowid, which it cannot seek on inside an index), so a
    deep page costs what the first does. Written out as ``key < value OR (key = value AND id < pk)`` (what
    Django does for tuples on SQLite), both would walk the index from its start to the cursor.
    """

    output_field = BooleanField()

    def __init__(self, fields: tuple[str, ...], position: Position, *, descending: bool) -> None:
        self.operator = "<" if descending else ">"
        values = [Value(value, output_field=Image._meta.get_field(name)) for name, value in zip(fields, position,
                                                                                               strict=True)]
        super().__init__(*(F(name) for name in fields), *values)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        sql = [part for part, _ in compiled]
        params = [param for _, part_params in compiled for param in part_params]
        half = len(sql) // 2
        return f"({', '.join(sql[:half])}) {self.operator} ({', '.join(sql[half:])})", params


def encode_cursor(image: Image, *, sort: str) -> str:
    fields, _ = SORTS.get(sort, SORTS["newest"])
    values = (getattr(image, name) for name in fields)
    text = "|".join(value.isoformat() if isinstance(value, datetime) else str(value) for value in values)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, sort: str) -> Position | None:
    """The values of the sort's fields a cursor points at; None for a missing or tampered cursor."""
    if not cursor:
        return None
    fields, _ = SORTS.get(sort, SORTS["newest"])
    try:
        texts = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        if len(texts) != len(fields):
            return None
        return tuple(_CURSOR_PARSERS[name](text) for name, text in zip(fields, texts, strict=True))
    except (ValueError, UnicodeDecodeError, binascii.Error, InvalidOperation):
        return None


def _aware_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if timezone.is_naive(value):
        raise ValueError("the grid's cursors carry their offset")
    return value


def _cursor_id(text: str) -> int:
    if (number := parse_id(text)) is None:
        raise ValueError(text)
    return number


_CURSOR_PARSERS = {"created_at": _aware_datetime, "cost_usd": Decimal, "id": _cursor_id}


def _mark_favourites(user: User, images: list[Image]) -> None:
    """One query for the page: ``image.is_favourite`` for each image shown."""
    favourites = set(Favourite.objects.filter(user_id=user.pk, image__in=images).values_list("image_id", flat=True))
    for image in images:
        image.is_favourite = image.pk in favourites


def image_inputs(*, image: Image) -> list[InputImage]:
    """The input images of an edit, in the order they were sent."""
    return [link.input_image for link in image.image_inputs.select_related("input_image")]


def space_tags(*, space_id: int) -> list[str]:
    return list(Tag.objects.filter(space_id=space_id).order_by("name").values_list("name", flat=True))


# -- versions: an image's edits and what they came from -------------------------------------------

VERSION_DEPTH = 20  # generations walked up and down from an image
VERSION_DESCENDANTS = 50  # images shown below it at most


@dataclass
class VersionNode:
    image: Image
    children: list[VersionNode] = field(default_factory=list)


@dataclass
class VersionTree:
    """An image's lineage among the images the user may see.

    ``ancestors`` are generations, oldest first: ``ancestors[-1]`` holds the image's own visible
    sources (an edit of several gallery images has several parents). ``descendants`` are the edits
    made from the image, each with the edits made from it, and so on. An image the user may not see
    is not in the tree, and the walk does not go on through it.
    """

    image: Image
    ancestors: list[list[Image]] = field(default_factory=list)
    descendants: list[VersionNode] = field(default_factory=list)

    @property
    def others(self) -> list[Image]:
        """Every version but the image itself, oldest generation first (to pick one to compare)."""
        found = [image for level in self.ancestors for image in level]
        pending = list(self.descendants)
        while pending:
            node = pending.pop(0)
            found.append(node.image)
            pending.extend(node.children)
        return found

    def __bool__(self) -> bool:
        return bool(self.ancestors or self.descendants)


def _lineage_rows(*, user: User, image: Image) -> list[tuple[int, int, int | None]]:
    """(image id, generation, parent id) of the image's visible relatives, in one query.

    Two recursive walks over the edges "an input of ``child`` was taken from ``parent``": up (negative
    generations) and down (positive ones, with the parent they were reached from). Each step keeps only
    visible images, so the walk stops where the user's sight does; UNION drops repeated rows, and the
    depth bound ends it even on data no view could make (a cycle).
    """
    visible_sql, visible_params = visible_images(user).values("pk").query.sql_with_params()
    link, source = ImageInput._meta, InputImage._meta
    child, link_input = link.get_field("image").column, link.get_field("input_image").column
    parent = source.get_field("source_image").column
    # Only names from the models and the SQL of a queryset go into the text; every value is a parameter.
    edges = (f"SELECT l.{child} AS child, s.{parent} AS parent FROM {link.db_table} l "  # noqa: S608
             f"JOIN {source.db_table} s ON s.{source.pk.column} = l.{link_input} WHERE s.{parent} IS NOT NULL")
    sql = f"""
        WITH RECURSIVE
        edge(child, parent) AS ({edges}),
        up(id, generation) AS (
            SELECT CAST(%s AS BIGINT), 0
            UNION
            SELECT edge.parent, up.generation - 1 FROM up JOIN edge ON edge.child = up.id
            WHERE up.generation > -%s AND edge.parent IN ({visible_sql})
        ),
        down(id, generation, parent) AS (
            SELECT CAST(%s AS BIGINT), 0, CAST(NULL AS BIGINT)
            UNION
            SELECT edge.child, down.generation + 1, down.id FROM down JOIN edge ON edge.parent = down.id
            WHERE down.generation < %s AND edge.child IN ({visible_sql})
        )
        SELECT id, generation, NULL FROM up WHERE generation < 0
        UNION ALL
        SELECT * FROM (SELECT id, generation, parent FROM down WHERE generation > 0
                       ORDER BY generation, id LIMIT %s) AS below
    """  # noqa: S608
    params = [image.pk, VERSION_DEPTH, *visible_params, image.pk, VERSION_DEPTH, *visible_params,
              VERSION_DESCENDANTS * VERSION_DEPTH]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def version_tree(*, user: User, image: Image) -> VersionTree:
    """``image``'s ancestors and descendants that ``user`` may see (see VersionTree), in two queries
    however long the lineage: the walk over the links, then the images themselves, read through
    visible_images."""
    rows = _lineage_rows(user=user, image=image)
    images = visible_images(user).in_bulk({pk for pk, _, _ in rows if pk != image.pk})

    # Up: each image once, in its nearest generation.
    generation_of: dict[int, int] = {}
    for pk, generation, _ in rows:
        if generation < 0 and pk in images:
            generation_of[pk] = max(generation, generation_of.get(pk, generation))
    levels: dict[int, list[Image]] = {}
    for pk, generation in sorted(generation_of.items(), key=lambda item: (item[1], item[0])):
        levels.setdefault(generation, []).append(images[pk])
    ancestors = [levels[generation] for generation in sorted(levels)]

    # Down: each image once, under the first parent it was reached from, nearest generation first.
    root = VersionNode(image)
    nodes: dict[int, VersionNode] = {image.pk: root}
    for pk, _, parent in sorted((row for row in rows if row[1] > 0), key=lambda row: (row[1], row[0], row[2])):
        if pk in nodes or pk not in images or parent not in nodes or len(nodes) > VERSION_DESCENDANTS:
            continue
        nodes[pk] = VersionNode(images[pk])
        nodes[parent].children.append(nodes[pk])
    return VersionTree(image=image, ancestors=ancestors, descendants=root.children)
