"""What ``ImagesClient`` puts on the wire, checked against OpenAI's OpenAPI request schemas.

The emulator records each request it parsed (``requests_seen``): JSON bodies as sent, and
multipart fields typed back (``"2"`` → 2, ``"true"`` → True). For edits the uploaded files
become strings, as the spec's ``format: binary`` describes them (one string for ``image``,
an array for ``image[]``). The schemas do not forbid extra properties, so unknown fields
are checked separately against each schema's ``properties``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from imageapi.client import ImagesClient, InputFile
from imageapi.emulator import Emulator, EmulatorTransport
from imageapi.errors import InvalidRequestError
from tests.contract.schemas import schema, schema_errors
from tests.factories import make_mask, make_png

PROMPT = "A lighthouse at dusk, oil on canvas"
WIDTH, HEIGHT = 1024, 640
SIZE = f"{WIDTH}x{HEIGHT}"


@pytest.fixture
def client(emulator: Emulator) -> Iterator[ImagesClient]:
    client = ImagesClient(api_key="sk-test-conformance", transport=EmulatorTransport(emulator),
                          sleep=lambda _: None)
    yield client
    client.close()


def image(name: str = "photo.png") -> InputFile:
    return InputFile(name, make_png(WIDTH, HEIGHT), "image/png")


def mask() -> InputFile:
    return InputFile("mask.png", make_mask(WIDTH, HEIGHT, hole=(0, 0, 512, 320)), "image/png")


def as_schema_instance(record: dict[str, Any]) -> dict[str, Any]:
    """A recorded request as an instance of its request schema: files become strings."""
    instance = dict(record["params"])
    images = [f["filename"] for f in record["files"] if f["field"] in ("image", "image[]")]
    if images:
        fields = {f["field"] for f in record["files"] if f["field"] in ("image", "image[]")}
        instance["image"] = images if fields == {"image[]"} else images[0]
    masks = [f["filename"] for f in record["files"] if f["field"] == "mask"]
    if masks:
        instance["mask"] = masks[0]
    return instance


def conformance_errors(schema_name: str, instance: dict[str, Any]) -> list[str]:
    """Every way ``instance`` departs from the spec: schema errors and unknown fields."""
    problems = [f"{list(error.path)}: {error.message}" for error in schema_errors(schema_name, instance)]
    unknown = sorted(set(instance) - set(schema(schema_name)["properties"]))
    problems += [f"unknown field {name!r}" for name in unknown]
    return problems


# -- generations -----------------------------------------------------------------------------

GENERATIONS = {
    "defaults": {},
    "every option": {
        "model": "gpt-image-2", "n": 2, "size": "1536x1024", "quality": "high", "output_format": "webp",
        "output_compression": 70, "background": "opaque", "moderation": "low", "user": "designer-7",
    },
    "custom size as jpeg": {"size": "2048x1152", "quality": "low", "output_format": "jpeg",
                            "output_compression": 40, "background": "auto", "moderation": "auto"},
    "snapshot model, auto everything": {"model": "gpt-image-2-2026-04-21", "size": "auto", "quality": "auto"},
}


@pytest.mark.parametrize("options", GENERATIONS.values(), ids=GENERATIONS.keys())
def test_generation_requests_conform_to_create_image_request(
    client: ImagesClient, emulator: Emulator, options: dict[str, Any],
) -> None:
    client.generate(prompt=PROMPT, **options)

    sent = emulator.requests_seen[-1]["params"]
    assert sent == {"model": "gpt-image-2", "prompt": PROMPT, **options}  # exactly what was asked, model always
    assert conformance_errors("CreateImageRequest", sent) == []


@pytest.mark.parametrize("partial_images", [0, 1, 3])
def test_streamed_generation_requests_conform(client: ImagesClient, emulator: Emulator, partial_images: int) -> None:
    list(client.generate_stream(prompt=PROMPT, size=SIZE, quality="low", n=2, partial_images=partial_images,
                                output_format="png", moderation="low"))

    sent = emulator.requests_seen[-1]["params"]
    assert (sent["stream"], sent["partial_images"]) == (True, partial_images)
    assert conformance_errors("CreateImageRequest", sent) == []


# -- edits -----------------------------------------------------------------------------------

EDITS = {
    "one image": ([image()], None, {}),
    "one image, a mask and options": (
        [image()], mask(),
        {"model": "gpt-image-2", "n": 2, "size": SIZE, "quality": "low", "output_format": "jpeg",
         "output_compression": 60, "background": "opaque", "user": "designer-7"},
    ),
    "three images": ([image(f"in-{i}.png") for i in range(3)], None, {"size": "auto", "quality": "medium"}),
    "three images and a mask": ([image(f"in-{i}.png") for i in range(3)], mask(),
                                {"output_format": "webp", "output_compression": 90}),
}


@pytest.mark.parametrize(("images", "edit_mask", "options"), EDITS.values(), ids=EDITS.keys())
def test_edit_requests_conform_to_create_image_edit_request(
    client: ImagesClient, emulator: Emulator, images: list[InputFile], edit_mask: InputFile | None,
    options: dict[str, Any],
) -> None:
    client.edit(images=images, mask=edit_mask, prompt=PROMPT, **options)

    record = emulator.requests_seen[-1]
    assert record["params"] == {"model": "gpt-image-2", "prompt": PROMPT, **options}
    instance = as_schema_instance(record)
    assert instance["image"] == (images[0].filename if len(images) == 1 else [i.filename for i in images])
    assert ("mask" in instance) == (edit_mask is not None)
    assert conformance_errors("CreateImageEditRequest", instance) == []


def test_streamed_edit_requests_conform(client: ImagesClient, emulator: Emulator) -> None:
    list(client.edit_stream(images=[image(), image("second.png")], mask=mask(), prompt=PROMPT, size=SIZE,
                            quality="low", partial_images=2, n=1))

    instance = as_schema_instance(emulator.requests_seen[-1])
    assert (instance["stream"], instance["partial_images"]) == (True, 2)  # typed back from "true" and "2"
    assert instance["image"] == ["photo.png", "second.png"]
    assert conformance_errors("CreateImageEditRequest", instance) == []


# -- the check can fail ----------------------------------------------------------------------

@pytest.mark.parametrize(("schema_name", "instance"), [
    ("CreateImageRequest", {"prompt": PROMPT, "quality": "ultra"}),
    ("CreateImageRequest", {"prompt": PROMPT, "n": 0}),
    ("CreateImageRequest", {"prompt": PROMPT, "n": 11}),
    ("CreateImageRequest", {"prompt": PROMPT, "partial_images": 4, "stream": True}),
    ("CreateImageRequest", {"prompt": PROMPT, "output_format": "gif"}),
    ("CreateImageRequest", {"prompt": PROMPT, "moderation": "none"}),
    ("CreateImageRequest", {"prompt": PROMPT, "stream": "yes"}),
    ("CreateImageRequest", {"model": "gpt-image-2"}),  # no prompt
    ("CreateImageRequest", {"prompt": PROMPT, "style_preset": "noir"}),  # not in the spec at all
    ("CreateImageEditRequest", {"prompt": PROMPT}),  # no image
    ("CreateImageEditRequest", {"prompt": PROMPT, "image": "a.png", "input_fidelity": "maximum"}),
    ("CreateImageEditRequest", {"prompt": PROMPT, "image": ["a.png"] * 17}),
    ("CreateImageEditRequest", {"prompt": PROMPT, "image": "a.png", "images": ["b.png"]}),  # the JSON form's name
])
def test_requests_the_spec_rejects_fail_the_check(schema_name: str, instance: dict[str, Any]) -> None:
    assert conformance_errors(schema_name, instance) != []


@pytest.mark.parametrize("bad", [
    {"n": 0}, {"n": 11}, {"quality": "ultra"}, {"output_format": "gif"}, {"moderation": "none"},
    {"background": "none"}, {"stream": True, "partial_images": 4}, {"style_preset": "noir"},
])
def test_what_the_spec_rejects_the_client_refuses_before_sending(
    client: ImagesClient, emulator: Emulator, bad: dict[str, Any],
) -> None:
    instance = {"model": "gpt-image-2", "prompt": PROMPT, **bad}
    assert conformance_errors("CreateImageRequest", instance) != []
    options = {key: value for key, value in bad.items() if key != "stream"}
    call = client.generate_stream if bad.get("stream") else client.generate
    with pytest.raises(InvalidRequestError) as caught:
        call(prompt=PROMPT, **options)
    assert caught.value.param in bad
    assert emulator.requests_seen == []
