"""Every GPT image model Studio knows, as plain data: the one catalogue.

``imageapi.params`` validates each request against its model's entry, ``imageapi.pricing``
counts its tokens with the entry's token rule, and the emulator serves what the entry says.
An entry's published prices only seed the studio's dated price book, which prices every job.
The next model is a new entry here and a price in the book, not new code. Facts and their uncertainty come
from ``shared/reference/models.md`` and ``gpt-image-2.md`` (as of 2026-12-01); "(3p)" marks
what only third parties report.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["active", "shut_down"]
Transparency = Literal["no", "preview", "yes"]

DEFAULT_MODEL = "gpt-image-2"
# Each model's quality ladder, in order; "auto" is accepted by every GPT image model.
AUTO_QUALITY = "auto"


@dataclass(frozen=True)
class TokenRule:
    """How many output tokens one image costs: the community formula of ``gpt-image-2.md``
    with a per-quality grid (``exact``), scaled by ``factors`` where only measurements exist
    (``approximate``, with the ``reason``); or a fixed per-size ``table`` (retired models)."""

    kind: Literal["exact", "approximate", "table"]
    grid: Mapping[str, int] = field(default_factory=dict)
    factors: Mapping[str, float] = field(default_factory=dict)
    table: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # size -> quality -> tokens
    reason: str = ""

    @property
    def is_exact(self) -> bool:
        return self.kind == "exact"


@dataclass(frozen=True)
class GifOutput:
    """Animated GIF output (a preview at OpenAI): no streaming, partials, mask or compression."""

    frame_count_min: int = 2
    frame_count_max: int = 16
    frame_count_default: int = 9
    frame_duration_ms_min: int = 20
    frame_duration_ms_max: int = 655_350  # GIF's delay field caps here
    frame_duration_ms_default: int = 200
    preview: bool = True


@dataclass(frozen=True)
class ModelEntry:
    id: str
    snapshots: tuple[str, ...] = ()
    released: datetime.date | None = None
    status: Status = "active"
    shutdown_date: datetime.date | None = None
    replacement: str | None = None  # what to use instead, for a shut-down model
    qualities: tuple[str, ...] = ("low", "medium", "high")
    complexity: tuple[str, ...] = ()  # empty: the model has no `complexity` parameter
    complexity_default: str | None = None
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    gif: GifOutput | None = None
    transparency: Transparency = "no"
    custom_sizes: bool = True  # any WxH within gpt-image-2's rules; else only `fixed_sizes`
    fixed_sizes: tuple[str, ...] = ("1024x1024", "1536x1024", "1024x1536")
    input_fidelity: bool = False  # only the retired 1.x models took it
    edit_features: tuple[str, ...] = ("multiple_inputs", "mask")
    # Features the model has but Studio does not offer until OpenAI's fields are confirmed.
    not_offered: Mapping[str, str] = field(default_factory=dict)
    token_rule: TokenRule | None = None
    # Published USD per 1M tokens (standard tier) as decimal strings, seeding the studio's price
    # book (studio/pricebook.py); None: text output is not billed.
    prices: Mapping[str, str | None] | None = None
    images_per_minute: Mapping[int, int] | None = None  # by usage tier, where published
    batch: bool | None = None
    notes: str = ""  # one line for designers, shown under the model picker

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.snapshots)

    @property
    def is_shut_down(self) -> bool:
        return self.status == "shut_down"

    @property
    def allows_transparency(self) -> bool:
        return self.transparency != "no"

    @property
    def accepted_qualities(self) -> tuple[str, ...]:
        return (*self.qualities, AUTO_QUALITY)

    def shutdown_message(self, model: str) -> str:
        use = f"; use {self.replacement}" if self.replacement else ""
        return f"{model} was shut down on {self.shutdown_date:%Y-%m-%d}{use}."


# gpt-image-2's grid (gpt-image-2.md); 2.5's (3p reading of OpenAI's calculator code),
# which reproduces every published 2.5 vector.
GPT_IMAGE_2_TOKENS = TokenRule("exact", grid={"low": 16, "medium": 48, "high": 96})
GPT_IMAGE_2_5_TOKENS = TokenRule("exact", grid={"low": 16, "medium": 24, "high": 48, "xhigh": 64, "max": 96})
GPT_IMAGE_2_6_TOKENS = TokenRule(
    "approximate", grid=GPT_IMAGE_2_5_TOKENS.grid,
    factors={"low": 4.2, "medium": 3.5, "high": 1.0, "xhigh": 1.0, "max": 1.0},
    reason=("OpenAI publishes no formula for 2.6; one gateway measured about 3-4x the 2.5 count at "
            "low and medium and close to 2.5 at high and above (1536x1024: ~664 low, ~1,353 high). "
            "The cost always comes from the usage the API returns."),
)
# Pre-gpt-image-2 models used fixed tables (gpt-image-1's; gpt-image-2.md).
GPT_IMAGE_1_TOKENS = TokenRule("table", table={
    "1024x1024": {"low": 272, "medium": 1056, "high": 4160},
    "1024x1536": {"low": 408, "medium": 1584, "high": 6240},
    "1536x1024": {"low": 400, "medium": 1568, "high": 6208},
}, reason="A fixed table per size and quality.")

CURRENT_PRICES = {"text_input": "5.00", "text_cached_input": "1.25", "image_input": "8.00",
                  "image_cached_input": "2.00", "image_output": "30.00", "text_output": None}
GPT_IMAGE_2_RATE_LIMITS = {1: 5, 2: 20, 3: 50, 4: 150, 5: 250}
UNCONFIRMED_2_6 = {
    "svg": "SVG output needs an `svg` object naming a text model; its fields are known only from "
           "third parties (3p).",
    "markup": "Markup-guided edits: OpenAI's field name is not visible (3p: `markup`).",
}

MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id="gpt-image-2", snapshots=("gpt-image-2-2026-04-21",), released=datetime.date(2026, 4, 21),
        transparency="preview", token_rule=GPT_IMAGE_2_TOKENS, prices=CURRENT_PRICES,
        images_per_minute=GPT_IMAGE_2_RATE_LIMITS, batch=True,
        notes="The default. Transparent backgrounds are a preview since Aug 2026.",
    ),
    ModelEntry(
        id="gpt-image-2.5-flare", snapshots=("gpt-image-2.5-flare-2026-09-08",),
        released=datetime.date(2026, 9, 8), qualities=("low", "medium", "high", "xhigh", "max"),
        transparency="yes", token_rule=GPT_IMAGE_2_5_TOKENS, prices=CURRENT_PRICES,
        images_per_minute=GPT_IMAGE_2_RATE_LIMITS, batch=False,
        notes="Fastest for everyday high quality.",
    ),
    ModelEntry(
        id="gpt-image-2.5-sunburst", snapshots=("gpt-image-2.5-sunburst-2026-09-08",),
        released=datetime.date(2026, 9, 8), qualities=("low", "medium", "high", "xhigh", "max"),
        transparency="yes", token_rule=GPT_IMAGE_2_5_TOKENS, prices=CURRENT_PRICES,
        notes="The most precise editing of 2.5.",  # markup-guided edits: unclear (see not_offered)
    ),
    ModelEntry(
        id="gpt-image-2.6-flare", released=datetime.date(2026, 11, 4),
        qualities=("low", "medium", "high", "xhigh", "max"),  # "low … max" (3p)
        complexity=("low", "medium", "high"), complexity_default="high",
        output_formats=("png", "jpeg", "webp", "gif"), gif=GifOutput(),
        transparency="no",  # not confirmed
        not_offered=UNCONFIRMED_2_6, token_rule=GPT_IMAGE_2_6_TOKENS, prices=CURRENT_PRICES,  # prices (3p)
        notes="Fast drafts.",  # no OpenAI model page found; the release date is third-party
    ),
    ModelEntry(
        id="gpt-image-2.6-sunburst", released=datetime.date(2026, 11, 4),
        qualities=("low", "medium", "high", "xhigh", "max"),
        complexity=("low", "medium", "high"), complexity_default="high",
        output_formats=("png", "jpeg", "webp", "gif"), gif=GifOutput(),
        transparency="no", not_offered=UNCONFIRMED_2_6, token_rule=GPT_IMAGE_2_6_TOKENS,
        prices=CURRENT_PRICES, notes="Detailed work.",
    ),
    # Shut down. The reference names "2.6" as the replacement without saying which: the
    # precise one for the full models, the fast one for mini.
    ModelEntry(
        id="gpt-image-1.5", snapshots=("gpt-image-1.5-2025-12-16",), released=datetime.date(2025, 12, 16),
        status="shut_down", shutdown_date=datetime.date(2026, 12, 1), replacement="gpt-image-2.6-sunburst",
        transparency="yes", custom_sizes=False, input_fidelity=True, token_rule=GPT_IMAGE_1_TOKENS,
        prices={"text_input": "5.00", "text_cached_input": "1.25", "image_input": "8.00",
                "image_cached_input": "2.00", "image_output": "32.00", "text_output": "10.00"},
    ),
    ModelEntry(
        id="gpt-image-1-mini", status="shut_down", shutdown_date=datetime.date(2026, 12, 1),
        replacement="gpt-image-2.6-flare", transparency="yes", custom_sizes=False, input_fidelity=True,
        token_rule=GPT_IMAGE_1_TOKENS,
        prices={"text_input": "2.00", "text_cached_input": "0.20", "image_input": "2.50",
                "image_cached_input": "0.25", "image_output": "8.00", "text_output": None},
    ),
    ModelEntry(
        id="chatgpt-image-latest", status="shut_down", shutdown_date=datetime.date(2026, 12, 1),
        replacement="gpt-image-2.6-sunburst", transparency="yes", custom_sizes=False, input_fidelity=True,
    ),
    ModelEntry(
        id="gpt-image-1", status="shut_down",  # released 2025-04
        shutdown_date=datetime.date(2026, 10, 23), replacement=DEFAULT_MODEL, transparency="yes",
        custom_sizes=False, input_fidelity=True, token_rule=GPT_IMAGE_1_TOKENS,
        prices={"text_input": "5.00", "text_cached_input": "1.25", "image_input": "10.00",
                "image_cached_input": "2.50", "image_output": "40.00", "text_output": None},
    ),
    ModelEntry(id="dall-e-3", status="shut_down", shutdown_date=datetime.date(2026, 5, 12),
               replacement=DEFAULT_MODEL, edit_features=()),
    ModelEntry(id="dall-e-2", status="shut_down", shutdown_date=datetime.date(2026, 5, 12),
               replacement=DEFAULT_MODEL, edit_features=()),
)

_BY_ID: dict[str, ModelEntry] = {model_id: entry for entry in MODELS for model_id in entry.ids}
if len(_BY_ID) != sum(len(entry.ids) for entry in MODELS):
    raise ValueError("A model id or snapshot appears twice in the catalogue.")


def entry_for(model: str) -> ModelEntry | None:
    """The entry of a model id or dated snapshot; ``None`` for a model the catalogue lacks."""
    return _BY_ID.get(model)


def active_models() -> tuple[ModelEntry, ...]:
    return tuple(entry for entry in MODELS if not entry.is_shut_down)


def default_entry() -> ModelEntry:
    entry = entry_for(DEFAULT_MODEL)
    assert entry is not None
    return entry


def offer_problem(model: str) -> str | None:
    """Why a deployment cannot offer ``model`` (unknown or shut down); ``None`` if it can."""
    entry = entry_for(model)
    if entry is None:
        known = ", ".join(entry.id for entry in active_models())
        return f"'{model}' is not in the catalogue (imageapi/catalogue.py); active models: {known}"
    if entry.is_shut_down:
        return entry.shutdown_message(model)
    return None


@dataclass(frozen=True)
class UpstreamReport:
    """How an upstream's ``GET /v1/models`` differs from the catalogue."""

    shut_down: tuple[tuple[str, str], ...]  # (id, shutdown_date) listed upstream for a model we call active
    missing: tuple[str, ...]  # active catalogue models the upstream does not list
    unknown: tuple[str, ...]  # image models the upstream lists that the catalogue lacks

    @property
    def ok(self) -> bool:
        return not (self.shut_down or self.missing or self.unknown)


IMAGE_MODEL_PREFIXES = ("gpt-image", "chatgpt-image", "dall-e")


def compare_with_upstream(listed: list[Mapping[str, object]]) -> UpstreamReport:
    """Compare the items of an upstream's model list with the catalogue. The list holds every
    kind of model; only image models (by their id prefix) can be unknown to us."""
    upstream = {str(item.get("id")): item for item in listed if isinstance(item, Mapping)}
    shut_down = []
    for model_id, item in sorted(upstream.items()):
        entry = entry_for(model_id)
        date = item.get("shutdown_date")
        if entry is not None and not entry.is_shut_down and date:
            shut_down.append((model_id, str(date)))
    missing = [entry.id for entry in active_models() if entry.id not in upstream]
    unknown = [model_id for model_id in sorted(upstream)
               if model_id.startswith(IMAGE_MODEL_PREFIXES) and entry_for(model_id) is None]
    return UpstreamReport(tuple(shut_down), tuple(missing), tuple(unknown))
