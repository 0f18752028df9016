"""Issue 11: the official ``openai`` SDK against the emulator over HTTP, model by model. The
emulator follows the catalogue, so what passes here offline is what OpenAI would answer."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import openai
import pytest
from PIL import Image

from imageapi import catalogue
from imageapi.emulator import Emulator
from imageapi.pricing import output_image_tokens

from .served import serving

PROMPT = "A paper lantern over a quiet river"


@pytest.fixture(scope="module")
def sdk() -> Iterator[openai.OpenAI]:
    with serving(Emulator()) as base_url:
        client = openai.OpenAI(api_key="sk-emulated", base_url=base_url, max_retries=0, timeout=60)
        yield client
        client.close()


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def png_file(name: str = "in.png") -> tuple[str, bytes, str]:
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1024), (20, 120, 90)).save(buffer, "PNG")
    return name, buffer.getvalue(), "image/png"


def test_a_2_5_xhigh_generation_reports_the_2_5_token_count(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-2.5-flare", prompt=PROMPT, quality="xhigh", size="1024x1024")
    assert result.quality == "xhigh" and result.size == "1024x1024"
    assert result.usage.output_tokens == output_image_tokens(1024, 1024, "xhigh", model="gpt-image-2.5-flare") == 3122
    assert picture(result.data[0].b64_json).size == (1024, 1024)


def test_xhigh_is_refused_for_gpt_image_2(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="gpt-image-2", prompt=PROMPT, quality="xhigh")
    assert caught.value.body["param"] == "quality"


def test_a_2_6_complexity_low_generation(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-2.6-flare", prompt=PROMPT, complexity="low", quality="low",
                                 size="1536x1024")
    assert result.usage.output_tokens == output_image_tokens(1536, 1024, "low", model="gpt-image-2.6-flare")
    assert picture(result.data[0].b64_json).size == (1536, 1024)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="gpt-image-2", prompt=PROMPT, complexity="low")
    assert (caught.value.body["param"], caught.value.body["code"]) == ("complexity", "unsupported_parameter")


def test_a_2_6_gif_is_a_real_animation(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-2.6-sunburst", prompt=PROMPT, output_format="gif",
                                 frame_count=5, frame_duration_ms=120, size="1024x1024", quality="low")
    assert result.output_format == "gif"
    gif = picture(result.data[0].b64_json)
    assert gif.format == "GIF" and gif.is_animated and gif.n_frames == 5
    assert gif.info["duration"] == 120 and gif.size == (1024, 1024)
    first = gif.convert("RGB").tobytes()
    gif.seek(2)
    assert gif.convert("RGB").tobytes() != first  # the frames differ: it moves


def test_a_gif_takes_the_default_frames(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-2.6-flare", prompt=PROMPT, output_format="gif",
                                 size="1024x1024", quality="low")
    gif = picture(result.data[0].b64_json)
    defaults = catalogue.GifOutput()
    assert (gif.n_frames, gif.info["duration"]) == (defaults.frame_count_default, defaults.frame_duration_ms_default)


def test_a_transparent_2_5_png_has_transparent_pixels(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-2.5-sunburst", prompt=PROMPT, background="transparent",
                                 output_format="png", size="1024x1024", quality="low")
    assert result.background == "transparent"
    image = picture(result.data[0].b64_json)
    assert image.mode == "RGBA"
    low, high = image.getchannel("A").getextrema()
    assert low == 0 and high > 0  # transparent background, visible shapes


def test_gpt_image_1_is_refused_as_openai_does(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert caught.value.status_code == 400
    assert caught.value.body == {"message": "The model 'gpt-image-1' does not exist.",
                                 "type": "image_generation_user_error", "param": "model", "code": "invalid_value"}


def test_the_models_endpoints_list_the_catalogue_with_shutdown_dates(sdk: openai.OpenAI) -> None:
    listed = {model.id: model for model in sdk.models.list()}
    assert {"gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst"} <= set(listed)
    assert listed["gpt-image-2"].shutdown_date is None
    assert str(listed["gpt-image-1"].shutdown_date) == "2026-10-23"
    one = sdk.models.retrieve("gpt-image-1.5")
    assert one.id == "gpt-image-1.5" and str(one.shutdown_date) == "2026-12-01"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("gpt-image-99")


def test_a_file_sent_as_octet_stream_is_refused_even_if_it_is_an_image(sdk: openai.OpenAI) -> None:
    _, data, _ = png_file()
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(model="gpt-image-2", prompt=PROMPT, image=("in.png", data, "application/octet-stream"))
    assert (caught.value.body["code"], caught.value.body["param"]) == ("unsupported_file_mimetype", "image")
    edited = sdk.images.edit(model="gpt-image-2", prompt=PROMPT, image=png_file(), size="1024x1024", quality="low")
    assert picture(edited.data[0].b64_json).size == (1024, 1024)
