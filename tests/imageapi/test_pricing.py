from decimal import Decimal

import pytest

from imageapi.pricing import (
    Prices,
    Usage,
    cost_usd,
    estimate_output_tokens,
    output_image_tokens,
    published_prices,
    reservation_usd,
    split_cost,
)

GPT_IMAGE_2 = Prices(text_input=Decimal("5.00"), text_cached_input=Decimal("1.25"), image_input=Decimal("8.00"),
                     image_cached_input=Decimal("2.00"), image_output=Decimal("30.00"))

# The reference's test vectors: tokens at low / medium / high.
VECTORS = {
    (1024, 1024): (196, 1756, 7024),
    (1536, 1024): (158, 1372, 5488),
    (1024, 1536): (158, 1372, 5488),
    (2048, 1152): (157, 1413, 5650),
    (2560, 1440): (205, 1843, 7370),
    (2048, 2048): (397, 3568, 14272),
    (3840, 2160): (371, 3336, 13342),
}


@pytest.mark.parametrize(("size", "expected"), VECTORS.items())
def test_output_tokens_match_the_calculator(size, expected):
    assert tuple(output_image_tokens(*size, quality) for quality in ("low", "medium", "high")) == expected


@pytest.mark.parametrize(("size", "tokens"), [
    ((1024, 640), 3824), ((3072, 1024), 3952), ((3840, 1280), 5311), ((1792, 1024), 5063),
    ((3584, 2048), 12329),
])
def test_further_high_quality_readings(size, tokens):
    assert output_image_tokens(*size, "high") == tokens


def test_worked_cost_example():
    usage = Usage(text_input=50, image_output=7024)
    assert cost_usd(usage, prices=GPT_IMAGE_2) == Decimal("0.21097")
    assert isinstance(cost_usd(usage, prices=GPT_IMAGE_2), Decimal)


def test_cost_counts_image_input_and_cached_tokens_at_their_rates():
    usage = Usage(text_input=100, text_input_cached=40, image_input=1000, image_input_cached=500, image_output=0)
    expected = (60 * Decimal(5) + 40 * Decimal("1.25") + 500 * Decimal(8) + 500 * Decimal(2)) / Decimal(1_000_000)
    assert cost_usd(usage, prices=GPT_IMAGE_2) == expected


def test_usage_reads_the_api_shape_and_tolerates_missing_details():
    full = Usage.from_api({
        "input_tokens": 60, "input_tokens_details": {"text_tokens": 50, "image_tokens": 10},
        "output_tokens": 7024, "output_tokens_details": {"image_tokens": 7000, "text_tokens": 24},
        "total_tokens": 7084,
    })
    assert (full.text_input, full.image_input, full.image_output, full.text_output) == (50, 10, 7000, 24)
    assert full.total_tokens == 7084
    gateway = Usage.from_api({"input_tokens": 50, "input_tokens_details": {"text_tokens": 50},
                              "output_tokens": 196, "total_tokens": 246})
    assert gateway.image_output == 196
    cached = Usage.from_api({"input_tokens": 50, "input_tokens_details": {
        "text_tokens": 30, "image_tokens": 20, "cached_tokens": 40}, "output_tokens": 0})
    assert (cached.text_input_cached, cached.image_input_cached) == (30, 10)
    assert Usage.from_api(None) == Usage()


def test_usage_round_trips_through_the_api_shape():
    usage = Usage(text_input=12, image_input=300, image_output=1756)
    assert Usage.from_api(usage.as_api()) == usage


def test_estimates_use_medium_1024_for_auto_and_add_partials():
    assert estimate_output_tokens(size="auto", quality="auto") == 1756
    assert estimate_output_tokens(size="1024x1024", quality="high", n=2, partial_images=3) == 2 * 7024 + 300


def test_split_cost_shares_sum_to_the_total():
    total = Decimal("0.21097")
    shares = split_cost(total, 3)
    assert sum(shares) == total
    assert max(shares) - min(shares) <= Decimal("0.00000001")


def test_the_rates_are_the_callers_not_the_models():
    """imageapi prices with the rates it is given (the studio's price book), never by model name."""
    usage = Usage(text_input=1_000_000, image_output=1_000_000, text_output=1_000_000)
    doubled = Prices(text_input=Decimal(10), text_cached_input=Decimal(0), image_input=Decimal(0),
                     image_cached_input=Decimal(0), image_output=Decimal(60), text_output=Decimal(1))
    assert cost_usd(usage, prices=doubled) == Decimal(71)
    assert cost_usd(usage, prices=GPT_IMAGE_2) == Decimal(35)  # text output not billed
    assert (reservation_usd(model="gpt-image-2", prices=doubled, size="1024x1024", quality="high")
            == 2 * reservation_usd(model="gpt-image-2", prices=GPT_IMAGE_2, size="1024x1024", quality="high"))


def test_published_prices_are_the_catalogues_and_none_when_there_are_none():
    assert published_prices("gpt-image-2") == GPT_IMAGE_2
    assert published_prices("gpt-image-2-2026-04-21") == GPT_IMAGE_2  # a snapshot: its model's
    assert published_prices("gpt-image-1.5").text_output == Decimal(10)
    assert published_prices("chatgpt-image-latest") is None  # no published rates: no guess
    assert published_prices("gpt-image-9") is None
