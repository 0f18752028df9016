"""Token usage and what it costs, in USD as ``Decimal`` (never float).

Each model's output-token rule comes from its entry in ``imageapi.catalogue``. Its rates do not:
the caller passes the ``Prices`` that apply (the studio's dated price book), so a model or date
without a price is the caller's "unknown", never another model's rates or $0. The catalogue's
published rates (``published_prices``) only seed that book."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import Any

from .catalogue import DEFAULT_MODEL, TokenRule, default_entry, entry_for
from .params import AUTO_QUALITY_ESTIMATE, AUTO_SIZE_ESTIMATE, parse_size

PER_MILLION = Decimal(1_000_000)
PARTIAL_IMAGE_TOKENS = 100  # each streamed partial image adds this many output image tokens, for every model
QUALITY_FACTORS = dict(default_entry().token_rule.grid)  # gpt-image-2's grid


@dataclass(frozen=True)
class Prices:
    """USD per 1M tokens for one model (standard tier)."""

    text_input: Decimal
    text_cached_input: Decimal
    image_input: Decimal
    image_cached_input: Decimal
    image_output: Decimal
    text_output: Decimal = Decimal(0)


def published_prices(model: str) -> Prices | None:
    """The rates the catalogue records for ``model`` (an id or snapshot) from the references, to
    seed a price book; ``None`` when none are published (or the model is unknown)."""
    entry = entry_for(model)
    if entry is None or entry.prices is None:
        return None
    return Prices(**{name: Decimal(value or 0) for name, value in entry.prices.items()})  # None: not billed


@dataclass(frozen=True)
class Usage:
    """Token counts of one call; ``*_cached`` are the parts of the inputs billed as cached."""

    text_input: int = 0
    image_input: int = 0
    image_output: int = 0
    text_output: int = 0
    text_input_cached: int = 0
    image_input_cached: int = 0

    @property
    def input_tokens(self) -> int:
        return self.text_input + self.image_input

    @property
    def output_tokens(self) -> int:
        return self.image_output + self.text_output

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__})

    @classmethod
    def from_api(cls, usage: Mapping[str, Any] | None) -> Usage:
        """Read the API's ``usage`` object; missing details are read as the spec allows
        (no ``output_tokens_details``: all output tokens are image tokens)."""
        if not usage:
            return cls()
        input_details = usage.get("input_tokens_details") or {}
        output_details = usage.get("output_tokens_details")
        input_total = int(usage.get("input_tokens") or 0)
        text_input = int(input_details.get("text_tokens", input_total) or 0)
        image_input = int(input_details.get("image_tokens", input_total - text_input) or 0)
        output_total = int(usage.get("output_tokens") or 0)
        if output_details:
            image_output = int(output_details.get("image_tokens") or 0)
            text_output = int(output_details.get("text_tokens") or 0)
        else:
            image_output, text_output = output_total, 0
        text_cached, image_cached = _cached_parts(input_details, text_input)
        return cls(
            text_input=text_input, image_input=image_input,
            image_output=image_output, text_output=text_output,
            text_input_cached=text_cached, image_input_cached=image_cached,
        )

    def as_api(self) -> dict[str, Any]:
        """The API's ``usage`` object for these counts (what the emulator sends)."""
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"text_tokens": self.text_input, "image_tokens": self.image_input},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"image_tokens": self.image_output, "text_tokens": self.text_output},
            "total_tokens": self.total_tokens,
        }


def _cached_parts(input_details: Mapping[str, Any], text_input: int) -> tuple[int, int]:
    """Cached input tokens, when reported: split by ``cached_tokens_details`` if given, else
    the ``cached_tokens`` total is counted against text first (prompts are what repeats)."""
    details = input_details.get("cached_tokens_details") or {}
    if details:
        return int(details.get("text_tokens") or 0), int(details.get("image_tokens") or 0)
    cached = int(input_details.get("cached_tokens") or 0)
    text_cached = min(cached, text_input)
    return text_cached, cached - text_cached


def token_rule_for(model: str) -> TokenRule:
    """``model``'s output-token rule; a model the catalogue lacks is estimated like the default."""
    entry = entry_for(model)
    return entry.token_rule if entry is not None and entry.token_rule is not None else default_entry().token_rule


def tokens_are_exact(model: str) -> bool:
    """Whether an estimate for ``model`` is exact (else it is approximate; see the rule's reason)."""
    return entry_for(model) is not None and token_rule_for(model).is_exact


def output_image_tokens(width: int, height: int, quality: str, *, model: str = DEFAULT_MODEL) -> int:
    """Output tokens of one image of ``model`` (the community formula in the reference, on
    the model's quality grid; scaled where the rule is approximate; or its fixed table)."""
    rule = token_rule_for(model)
    if rule.kind == "table":
        by_quality = rule.table.get(f"{width}x{height}") or rule.table[next(iter(rule.table))]
        return by_quality[quality]
    tokens = _formula_tokens(width, height, rule.grid[quality])
    factor = rule.factors.get(quality, 1.0)
    return tokens if factor == 1.0 else math.ceil(tokens * factor)


def _formula_tokens(width: int, height: int, factor: int) -> int:
    long_edge, short_edge = max(width, height), min(width, height)
    a = (2 * factor * short_edge + long_edge) // (2 * long_edge)
    return math.ceil(factor * a * (2_000_000 + width * height) / 4_000_000)


# Input images: gpt-image-2 publishes no formula, so estimates use gpt-image-1's rule
# (see the reference): scale the short side to 512 px, 65 tokens plus 129 per 512-px tile,
# plus the high-fidelity surcharge, which gpt-image-2 always pays.
INPUT_TILE_PX = 512
INPUT_BASE_TOKENS = 65
INPUT_TILE_TOKENS = 129
HIGH_FIDELITY_SQUARE_TOKENS = 4160
HIGH_FIDELITY_OTHER_TOKENS = 6240


def estimate_input_image_tokens(width: int, height: int) -> int:
    """Estimated input tokens of one ``width`` x ``height`` image given to an edit."""
    long_edge, short_edge = max(width, height), min(width, height)
    if short_edge <= 0:
        raise ValueError(f"Invalid image size {width}x{height}.")
    # The short side becomes exactly one tile; the long side is rounded like a resize would.
    scaled_long = (long_edge * INPUT_TILE_PX + short_edge // 2) // short_edge
    tiles = -(-scaled_long // INPUT_TILE_PX)
    surcharge = HIGH_FIDELITY_SQUARE_TOKENS if width == height else HIGH_FIDELITY_OTHER_TOKENS
    return INPUT_BASE_TOKENS + INPUT_TILE_TOKENS * tiles + surcharge


def estimate_output_tokens(*, size: str, quality: str, n: int = 1, partial_images: int = 0,
                           model: str = DEFAULT_MODEL) -> int:
    """Output image tokens expected before a call; ``auto`` is estimated as the reference says.
    Approximate for models whose rule says so (``tokens_are_exact``)."""
    width, height = parse_size(size) or AUTO_SIZE_ESTIMATE
    rule = token_rule_for(model)
    known = rule.grid or next(iter(rule.table.values()), {})
    if quality not in known:
        quality = AUTO_QUALITY_ESTIMATE
    return n * output_image_tokens(width, height, quality, model=model) + partial_images * PARTIAL_IMAGE_TOKENS


def cost_usd(usage: Usage, *, prices: Prices) -> Decimal:
    """What a call with ``usage`` costs at ``prices``, exactly (cached parts at the cached rates)."""
    text_fresh = usage.text_input - usage.text_input_cached
    image_fresh = usage.image_input - usage.image_input_cached
    total = (
        text_fresh * prices.text_input
        + usage.text_input_cached * prices.text_cached_input
        + image_fresh * prices.image_input
        + usage.image_input_cached * prices.image_cached_input
        + usage.image_output * prices.image_output
        + usage.text_output * prices.text_output
    )
    return total / PER_MILLION


def split_cost(total: Decimal, parts: int, *, places: int = 8) -> list[Decimal]:
    """``total`` shared across ``parts`` images, rounded to ``places``, summing to ``total``."""
    quantum = Decimal(1).scaleb(-places)
    share = (total / parts).quantize(quantum, rounding="ROUND_DOWN")
    shares = [share] * parts
    shares[0] += total.quantize(quantum) - share * parts
    return shares


# What ``auto`` may pick: the sizes the reference lists for it. A budget reserves the dearest.
AUTO_SIZE_CANDIDATES = ((1024, 1024), (1536, 1024), (1024, 1536))


def reservation_usd(*, model: str, prices: Prices, size: str, quality: str, n: int = 1, partial_images: int = 0,
                    prompt: str = "", input_images: tuple[tuple[int, int], ...] = ()) -> Decimal:
    """The most a call of ``model`` may cost at ``prices``, reserved against budgets before it is
    sent: ``auto`` quality or size at the upper end of its range, the prompt at one token per
    UTF-8 byte (a token is never shorter), input images by the estimate rule."""
    rule = token_rule_for(model)
    known = tuple(rule.grid or next(iter(rule.table.values()), {}))
    qualities = (quality,) if quality in known else known
    parsed = parse_size(size)
    if parsed is not None:
        sizes: tuple[tuple[int, int], ...] = (parsed,)
    elif rule.kind == "table":
        sizes = tuple(parsed_key for key in rule.table if (parsed_key := parse_size(key)))
    else:
        sizes = AUTO_SIZE_CANDIDATES
    per_image = max(output_image_tokens(width, height, each, model=model)
                    for width, height in sizes for each in qualities)
    usage = Usage(
        text_input=len(prompt.encode()),
        image_input=sum(estimate_input_image_tokens(width, height) for width, height in input_images),
        image_output=n * per_image + partial_images * PARTIAL_IMAGE_TOKENS,
    )
    return cost_usd(usage, prices=prices).quantize(Decimal("0.00000001"), rounding=ROUND_UP)
