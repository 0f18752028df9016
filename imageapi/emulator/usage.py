"""The token counts the emulator reports, built on ``imageapi.pricing``'s formulas."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from ..catalogue import DEFAULT_MODEL
from ..params import ImageInfo
from ..pricing import PARTIAL_IMAGE_TOKENS, Usage, estimate_input_image_tokens, output_image_tokens

# Tokenizer-ish: words and punctuation marks, about 1.3 tokens per piece for English text.
_TEXT_PIECE = re.compile(r"\w+|[^\w\s]")
TOKENS_PER_TEXT_PIECE = 1.3


def count_text_tokens(prompt: str) -> int:
    """A deterministic stand-in for the prompt's token count; at least 1."""
    return max(1, math.ceil(len(_TEXT_PIECE.findall(prompt)) * TOKENS_PER_TEXT_PIECE))


def input_image_tokens(images: Iterable[ImageInfo]) -> int:
    return sum(estimate_input_image_tokens(info.width, info.height) for info in images)


def request_usage(*, text_tokens: int, image_tokens: int, n: int, width: int, height: int,
                  quality: str, partials_delivered: int, model: str = DEFAULT_MODEL) -> Usage:
    """The usage of a whole request: every image (by ``model``'s token rule) plus every
    partial image delivered."""
    return Usage(
        text_input=text_tokens,
        image_input=image_tokens,
        image_output=n * output_image_tokens(width, height, quality, model=model)
        + partials_delivered * PARTIAL_IMAGE_TOKENS,
    )


def completed_event_usage(total: Usage, *, index: int, n: int, width: int, height: int,
                          quality: str, model: str = DEFAULT_MODEL) -> Usage:
    """One streamed image's share of ``total``: its own output tokens; the first image also
    carries the inputs and the partial images (they preview it), so the shares sum to ``total``."""
    per_image = output_image_tokens(width, height, quality, model=model)
    if index > 0:
        return Usage(image_output=per_image)
    return Usage(
        text_input=total.text_input,
        image_input=total.image_input,
        image_output=total.image_output - (n - 1) * per_image,
    )
