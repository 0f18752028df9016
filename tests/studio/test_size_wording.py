"""Size errors raised on submit use the live feedback's plain words (one helper,
``studio.forms.plain_size_error``), outline width and height, and leave the API's wording alone."""

from __future__ import annotations

import pytest
from django.conf import settings

from imageapi.params import validate_size
from studio.forms import CUSTOM_SIZE, GenerateForm, plain_size_error

DATA = {"prompt": "a lighthouse at dusk", "size": CUSTOM_SIZE, "quality": "low", "output_format": "png",
        "n": "1", "background": "auto", "moderation": "auto", "partial_images": "0"}


def _form(alice_space, **overrides) -> GenerateForm:
    form = GenerateForm(data={**DATA, **overrides}, model=settings.STUDIO_MODEL, destinations=[alice_space])
    form.is_valid()
    return form


@pytest.mark.parametrize(("width", "height", "words"), [
    ("1000", "1024", "Width must be a multiple of 16 (1000 is not)."),
    ("1024", "1000", "Height must be a multiple of 16 (1000 is not)."),
    ("1000", "1000", "Width and height must be a multiple of 16 (1000 and 1000 are not)."),
    ("4000", "1024", "The longer edge must be at most 3840 px."),
])
def test_a_submitted_custom_size_is_refused_in_plain_words_with_both_sides_outlined(
        alice_space, width, height, words):
    form = _form(alice_space, width=width, height=height)
    assert form.errors["size"] == [words]
    html = str(form["width"]) + str(form["height"])
    assert html.count('aria-invalid="true"') == 2


def test_a_missing_side_is_asked_for_and_outlined(alice_space):
    form = _form(alice_space, width="1024", height="")
    assert form.errors["size"] == ["Enter a width and a height for a custom size."]
    assert 'aria-invalid="true"' in str(form["height"])


def test_a_valid_custom_size_outlines_nothing(alice_space):
    form = _form(alice_space, width="1536", height="864")
    assert form.is_valid(), form.errors
    assert 'aria-invalid' not in str(form["width"]) + str(form["height"])


def test_submit_and_live_feedback_share_the_wording_and_the_api_keeps_its_own(alice_space, alice_client):
    api_message = validate_size("1000x1024", model=settings.STUDIO_MODEL).message
    assert "divisible by 16" in api_message  # what the API (and the emulator) says is unchanged
    plain = plain_size_error("1000x1024", api_message)
    assert _form(alice_space, width="1000", height="1024").errors["size"] == [plain]
    live = alice_client.get("/size-check/", {"size": CUSTOM_SIZE, "width": "1000", "height": "1024"})
    assert plain in live.content.decode()
