"""The offline Images API emulator, tested through an httpx client as the studio uses it."""

from __future__ import annotations

import base64
import io
import json
import random
import struct
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from imageapi.emulator import FAULT_NAMES, Emulator, EmulatorTransport, make_server
from imageapi.emulator.faults import Fault, FaultCounter
from imageapi.params import PROMPT_MAX_CHARS
from imageapi.pricing import estimate_input_image_tokens

API_BASE = "https://api.openai.com/v1"
API_KEY = "sk-test-0123456789abcdef"
WIDE = "1024x640"  # the smallest common valid size: keeps the suite fast


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with _client(emulator) as client:
        yield client


def _client(emulator: Emulator, **options: Any) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(emulator), base_url=API_BASE,
                        headers={"Authorization": f"Bearer {API_KEY}"}, **options)


def generate(api: httpx.Client, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    body = {"model": "gpt-image-2", "prompt": "A lighthouse at dusk", **params}
    return api.post("/images/generations", json=body, headers=headers)


def edit(api: httpx.Client, *, images: list[bytes], mask: bytes | None = None,
         image_field: str | None = None, headers: dict[str, str] | None = None,
         **fields: Any) -> httpx.Response:
    """An edit as the SDKs send it: ``image`` for one file, repeated ``image[]`` for several."""
    field = image_field or ("image" if len(images) == 1 else "image[]")
    files = [(field, (f"input-{number}.png", data, "image/png")) for number, data in enumerate(images)]
    if mask is not None:
        files.append(("mask", ("mask.png", mask, "image/png")))
    data = {"model": "gpt-image-2", "prompt": "Put a red balloon in the sky", **fields}
    text = {name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in data.items()}
    return api.post("/images/edits", data=text, files=files, headers=headers)


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def first_picture(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    return picture(response.json()["data"][0]["b64_json"])


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return sum(ImageStat.Stat(difference).mean) / 3


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def scene(width: int = 1024, height: int = 640, *, mode: str = "RGB") -> Image.Image:
    """A photo stand-in: smooth gradients in every channel, so no pixel repeats a neighbour."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (horizontal, vertical, blue))
    return image.convert(mode)


def mask_with_hole(width: int = 1024, height: int = 640,
                   hole: tuple[int, int, int, int] = (256, 160, 768, 480)) -> Image.Image:
    """Opaque everywhere except a fully transparent rectangle: the area to edit."""
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((hole[0], hole[1], hole[2] - 1, hole[3] - 1), fill=(0, 0, 0, 0))
    return mask


def server_sent_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs; asserts the wire format of each frame."""
    events = []
    for frame in response.read().decode().split("\n\n"):
        if not frame:
            continue
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        events.append((event_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))))
    return events


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    return body["error"]


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height``: a decompression bomb."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# -- generations -----------------------------------------------------------------------------

def test_generation_answers_the_reference_shape_at_the_exact_size(api: httpx.Client) -> None:
    response = generate(api, size=WIDE)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["openai-processing-ms"].isdigit()
    body = response.json()
    assert set(body) == {"created", "data", "background", "output_format", "quality", "size", "usage"}
    assert isinstance(body["created"], int)
    assert body["size"] == WIDE
    assert body["quality"] == "medium"  # auto, resolved
    assert body["background"] == "opaque"  # auto, resolved
    assert body["output_format"] == "png"
    assert len(body["data"]) == 1 and set(body["data"][0]) == {"b64_json"}
    image = picture(body["data"][0]["b64_json"])
    assert (image.format, image.size) == ("PNG", (1024, 640))


@pytest.mark.parametrize("size", ["1024x1024", "1536x1024", "1024x1536", "2048x1152", "1024x3072"])
def test_generated_images_have_exactly_the_requested_size(api: httpx.Client, size: str) -> None:
    width, height = map(int, size.split("x"))
    assert first_picture(generate(api, size=size, quality="low")).size == (width, height)


def test_auto_size_means_1024_square(api: httpx.Client) -> None:
    response = generate(api, size="auto")
    assert response.json()["size"] == "1024x1024"
    assert first_picture(response).size == (1024, 1024)


@pytest.mark.parametrize(("output_format", "compression", "pillow_format"), [
    ("png", None, "PNG"), ("jpeg", 40, "JPEG"), ("webp", 60, "WEBP"), ("webp", 100, "WEBP"),
])
def test_output_format_is_honoured(api: httpx.Client, output_format: str, compression: int | None,
                                   pillow_format: str) -> None:
    params: dict[str, Any] = {"size": WIDE, "output_format": output_format}
    if compression is not None:
        params["output_compression"] = compression
    response = generate(api, **params)
    assert response.json()["output_format"] == output_format
    assert first_picture(response).format == pillow_format


@pytest.mark.parametrize("output_format", ["jpeg", "webp"])
def test_output_compression_trades_bytes_for_quality(api: httpx.Client, output_format: str) -> None:
    def encoded_size(compression: int) -> int:
        response = generate(api, size=WIDE, output_format=output_format, output_compression=compression)
        return len(base64.b64decode(response.json()["data"][0]["b64_json"]))

    assert encoded_size(5) < encoded_size(50) < encoded_size(95)


def test_same_prompt_same_bytes_and_different_prompts_different_pictures(api: httpx.Client) -> None:
    first = generate(api, size=WIDE, prompt="A red fox in snow").json()["data"][0]["b64_json"]
    again = generate(api, size=WIDE, prompt="A red fox in snow").json()["data"][0]["b64_json"]
    other = generate(api, size=WIDE, prompt="A blue whale at noon").json()["data"][0]["b64_json"]

    assert first == again
    assert mean_difference(picture(first), picture(other)) > 20


def test_each_of_n_images_differs(api: httpx.Client) -> None:
    data = generate(api, size=WIDE, n=3).json()["data"]
    images = [picture(item["b64_json"]) for item in data]
    assert len(images) == 3
    for first, second in [(0, 1), (0, 2), (1, 2)]:
        assert mean_difference(images[first], images[second]) > 20


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
def test_the_quality_used_is_reported(api: httpx.Client, quality: str) -> None:
    assert generate(api, size=WIDE, quality=quality).json()["quality"] == quality


# -- edits -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("output_format", "output_compression"), [("png", None), ("webp", 100)])
def test_masked_edit_repaints_the_hole_and_keeps_every_other_pixel(
    api: httpx.Client, output_format: str, output_compression: int | None,
) -> None:
    source = scene()
    hole = (256, 160, 768, 480)
    fields: dict[str, Any] = {"output_format": output_format}
    if output_compression is not None:
        fields["output_compression"] = output_compression
    response = edit(api, images=[encode(source)], mask=encode(mask_with_hole(hole=hole)), **fields)

    result = first_picture(response).convert("RGB")
    assert result.size == source.size
    outside = Image.new("L", source.size, 255)
    outside.paste(0, hole)
    changed = ImageChops.difference(result, source).convert("L").point(lambda v: 255 if v else 0)
    assert ImageChops.multiply(changed, outside).getbbox() is None  # no change outside the hole
    assert mean_difference(result.crop(hole), source.crop(hole)) > 30


def test_edit_keeps_the_alpha_of_an_rgba_input_outside_the_mask(api: httpx.Client) -> None:
    source = scene(mode="RGBA")
    source.putalpha(Image.linear_gradient("L").resize(source.size))
    response = edit(api, images=[encode(source)], mask=encode(mask_with_hole()))
    result = first_picture(response)
    assert result.mode == "RGBA"
    assert result.getpixel((10, 10)) == source.getpixel((10, 10))


def test_edit_without_mask_restyles_the_whole_image(api: httpx.Client) -> None:
    source = scene()
    result = first_picture(edit(api, images=[encode(source)])).convert("RGB")

    changed = ImageChops.difference(result, source).convert("L").point(lambda v: 255 if v > 8 else 0)
    assert ImageStat.Stat(changed).mean[0] / 255 > 0.9  # nearly every pixel restyled
    assert mean_difference(result, source) > 20


def test_edits_are_deterministic_and_follow_the_prompt(api: httpx.Client) -> None:
    source = encode(scene())
    first = edit(api, images=[source], prompt="Make it autumn").json()["data"][0]["b64_json"]
    again = edit(api, images=[source], prompt="Make it autumn").json()["data"][0]["b64_json"]
    other = edit(api, images=[source], prompt="Make it winter at night").json()["data"][0]["b64_json"]
    assert first == again
    assert first != other


@pytest.mark.parametrize(("input_size", "size", "expected"), [
    ((1024, 640), "auto", (1024, 640)),  # auto keeps a size gpt-image-2 can produce
    ((500, 500), "auto", (1024, 1024)),  # too few pixels: the default
    ((1000, 640), "auto", (1024, 1024)),  # not multiples of 16: the default
    ((1024, 640), "1024x1024", (1024, 1024)),  # an explicit size wins (resized)
])
def test_edit_output_size(api: httpx.Client, input_size: tuple[int, int], size: str,
                          expected: tuple[int, int]) -> None:
    response = edit(api, images=[encode(scene(*input_size))], size=size)
    assert response.json()["size"] == "{}x{}".format(*expected)
    assert first_picture(response).size == expected


@pytest.mark.parametrize("image_field", ["image[]", "image"])
def test_several_input_images_are_accepted_and_counted(
    api: httpx.Client, emulator: Emulator, image_field: str,
) -> None:
    images = [encode(scene(1024, 640)), encode(scene(512, 512)), encode(scene(2048, 512))]
    response = edit(api, images=images, image_field=image_field, size=WIDE, quality="low")

    assert response.status_code == 200, response.text
    usage = response.json()["usage"]
    expected_image_tokens = sum(estimate_input_image_tokens(w, h)
                                for w, h in [(1024, 640), (512, 512), (2048, 512)])
    assert usage["input_tokens_details"]["image_tokens"] == expected_image_tokens
    files = emulator.requests_seen[-1]["files"]
    assert [item["field"] for item in files] == [image_field] * 3
    assert [item["size"] for item in files] == [len(data) for data in images]


def test_multipart_fields_are_typed_before_validation(api: httpx.Client, emulator: Emulator) -> None:
    response = edit(api, images=[encode(scene())], n="2", output_format="jpeg",
                    output_compression="70", quality="low")
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    params = emulator.requests_seen[-1]["params"]
    assert params["n"] == 2 and params["output_compression"] == 70


@pytest.mark.parametrize(("field", "value"), [
    ("n", "two"), ("n", "1.5"), ("partial_images", "x"), ("output_compression", ""),
    ("stream", "yes"),
])
def test_untypable_multipart_fields_are_rejected_on_their_param(api: httpx.Client, field: str,
                                                                value: str) -> None:
    response = edit(api, images=[encode(scene())], **{field: value})
    assert response.status_code == 400
    assert error_of(response)["param"] == field


def test_a_hand_written_multipart_body_is_parsed_exactly(api: httpx.Client, emulator: Emulator) -> None:
    image = encode(scene())
    body = (
        b"a preamble to ignore\r\n"
        b'--b0und"ary\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'
        + "Café ☕ by the sea".encode() + b"\r\n"
        b'--b0und"ary\r\nContent-Disposition: form-data; name="n"\r\n\r\n2\r\n'
        b'--b0und"ary\r\nContent-Disposition: form-data; name="image"; '
        b"filename*=UTF-8''%C3%A9t%C3%A9.png\r\nContent-Type: image/png\r\n\r\n"
        + image + b'\r\n--b0und"ary--\r\nan epilogue'
    )
    response = api.post("/images/edits", content=body,
                        headers={"content-type": 'multipart/form-data; boundary="b0und\\"ary"'})

    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    seen = emulator.requests_seen[-1]
    assert seen["params"] == {"prompt": "Café ☕ by the sea", "n": 2}
    assert seen["files"] == [{"field": "image", "filename": "été.png", "content_type": "image/png",
                              "size": len(image)}]


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"--x\r\n"),  # no boundary parameter
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1'),
    ("multipart/form-data; boundary=x", b"--x\r\nno-colon-here\r\n\r\n1\r\n--x--"),
    ("text/plain", b"prompt=x"),
])
def test_malformed_multipart_is_a_400(api: httpx.Client, content_type: str, body: bytes) -> None:
    response = api.post("/images/edits", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert error_of(response)["param"] is None


# -- validation ------------------------------------------------------------------------------

def _jpeg_mask() -> bytes:
    return encode(scene(), "JPEG")


def _mask_without_alpha() -> bytes:
    return encode(scene())


def _noise_png() -> bytes:
    return encode(Image.frombytes("RGB", (16, 16), random.Random(7).randbytes(16 * 16 * 3)))


GENERATION_REJECTIONS = [
    ("not-multiple-of-16", {"size": "1000x1000"}, "size", None),
    ("tiny", {"size": "100x100"}, "size", None),
    ("edge-too-long", {"size": "4000x1000"}, "size", None),
    ("ratio-above-3-to-1", {"size": "3200x1056"}, "size", None),
    ("too-few-pixels", {"size": "768x768"}, "size", None),
    ("too-many-pixels", {"size": "3840x2176"}, "size", None),
    ("malformed-size", {"size": "big"}, "size", None),
    ("transparent-with-jpeg", {"background": "transparent", "output_format": "jpeg"}, "background", None),
    ("compression-with-png", {"output_compression": 50}, "output_compression", None),
    ("n-11", {"n": 11}, "n", None),
    ("n-0", {"n": 0}, "n", None),
    ("partial-images-4", {"stream": True, "partial_images": 4}, "partial_images", None),
    ("prompt-too-long", {"prompt": "x" * (PROMPT_MAX_CHARS + 1)}, "prompt", None),
    ("prompt-missing", {"prompt": None}, "prompt", None),
    ("bad-quality", {"quality": "ultra"}, "quality", None),
    ("bad-format", {"output_format": "gif"}, "output_format", None),
    ("stream-as-string", {"stream": "true"}, "stream", None),
    ("response-format", {"response_format": "b64_json"}, "response_format", "unknown_parameter"),
    ("input-fidelity-on-generations", {"input_fidelity": "high"}, "input_fidelity", None),
]


@pytest.mark.parametrize(("params", "param", "code"),
                         [case[1:] for case in GENERATION_REJECTIONS],
                         ids=[case[0] for case in GENERATION_REJECTIONS])
def test_invalid_generations_are_rejected_on_the_right_param(
    api: httpx.Client, params: dict[str, Any], param: str, code: str | None,
) -> None:
    body = {"model": "gpt-image-2", "prompt": "A lighthouse", **params}
    body = {name: value for name, value in body.items() if value is not None}
    response = api.post("/images/generations", json=body)

    assert response.status_code == 400
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


def test_response_format_is_an_unknown_parameter(api: httpx.Client) -> None:
    error = error_of(generate(api, response_format="url"))
    assert error == {"message": "Unknown parameter: 'response_format'.",
                     "type": "invalid_request_error", "param": "response_format",
                     "code": "unknown_parameter"}


EDIT_REJECTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("moderation-on-edits", {"moderation": "low"}, "moderation"),
    ("input-fidelity", {"input_fidelity": "high"}, "input_fidelity"),
    ("response-format", {"response_format": "b64_json"}, "response_format"),
    ("17-images", {"images": [_noise_png()] * 17}, "image"),
    ("no-image", {"images": []}, "image"),
    ("not-an-image", {"images": [b"this is not a PNG, whatever its name says"]}, "image"),
    ("decompression-bomb", {"images": [png_header_claiming(100_000, 100_000)]}, "image"),
    ("mask-not-png", {"mask": _jpeg_mask()}, "mask"),
    ("mask-without-alpha", {"mask": _mask_without_alpha()}, "mask"),
    ("mask-size-mismatch", {"mask": encode(mask_with_hole(1024, 1024))}, "mask"),
    ("mask-bomb", {"mask": png_header_claiming(100_000, 100_000)}, "mask"),
    ("size", {"size": "1000x1000"}, "size"),
]


@pytest.mark.parametrize(("overrides", "param"), [case[1:] for case in EDIT_REJECTIONS],
                         ids=[case[0] for case in EDIT_REJECTIONS])
def test_invalid_edits_are_rejected_on_the_right_param(
    api: httpx.Client, overrides: dict[str, Any], param: str,
) -> None:
    fields = dict(overrides)
    images = fields.pop("images", [encode(scene())])
    mask = fields.pop("mask", None)
    response = edit(api, images=images, mask=mask, **fields)

    assert response.status_code == 400, response.text
    assert error_of(response)["param"] == param


def test_input_fidelity_is_refused_with_the_models_code(api: httpx.Client) -> None:
    response = edit(api, images=[encode(scene())], input_fidelity="high")
    assert error_of(response)["code"] == "invalid_input_fidelity_model"


def test_the_first_error_wins(api: httpx.Client) -> None:
    response = generate(api, size="1000x1000", n=11, quality="ultra")
    assert error_of(response)["param"] == "n"  # validate_request's order: n before size


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
def test_a_body_that_is_no_json_object_is_rejected(api: httpx.Client, body: bytes) -> None:
    response = api.post("/images/generations", content=body,
                        headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["param"] is None


def test_edits_need_multipart(api: httpx.Client) -> None:
    response = api.post("/images/edits", json={"prompt": "x", "images": [{"image_url": "x"}]})
    assert response.status_code == 400
    assert "multipart/form-data" in error_of(response)["message"]


def test_an_unknown_model_is_not_found(api: httpx.Client) -> None:
    response = generate(api, model="gpt-image-99")
    assert response.status_code == 404
    assert error_of(response)["code"] == "model_not_found"


# -- usage -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "quality", "tokens"), [
    ("1024x1024", "low", 196), ("1024x1024", "medium", 1756), ("1024x1024", "high", 7024),
    ("1536x1024", "medium", 1372), ("1024x1536", "low", 158), ("1024x640", "high", 3824),
    ("2048x1152", "low", 157),
])
def test_output_tokens_follow_the_reference_vectors(api: httpx.Client, size: str, quality: str,
                                                     tokens: int) -> None:
    usage = generate(api, size=size, quality=quality, n=2).json()["usage"]
    assert usage["output_tokens"] == 2 * tokens
    assert usage["output_tokens_details"] == {"image_tokens": 2 * tokens, "text_tokens": 0}
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize(("prompt", "text_tokens"), [
    ("A cute baby sea otter", 7),  # 5 words x 1.3, rounded up
    ("Hello, world!", 6),  # 2 words + 2 marks
    ("?", 2),
])
def test_text_tokens_are_a_deterministic_count_of_the_prompt(api: httpx.Client, prompt: str,
                                                             text_tokens: int) -> None:
    usage = generate(api, size=WIDE, prompt=prompt).json()["usage"]
    assert usage["input_tokens_details"] == {"text_tokens": text_tokens, "image_tokens": 0}
    assert usage["input_tokens"] == text_tokens


@pytest.mark.parametrize(("width", "height", "tokens"), [
    (1024, 1024, 65 + 129 + 4160),  # short side 512: one tile, square surcharge
    (512, 512, 65 + 129 + 4160),
    (256, 256, 65 + 129 + 4160),  # scaled up to 512
    (1536, 1024, 65 + 2 * 129 + 6240),  # 768x512: two tiles
    (1024, 1536, 65 + 2 * 129 + 6240),
    (2048, 512, 65 + 4 * 129 + 6240),
    (1280, 1024, 65 + 2 * 129 + 6240),  # 640x512
])
def test_input_image_token_estimate(width: int, height: int, tokens: int) -> None:
    assert estimate_input_image_tokens(width, height) == tokens


def test_edit_usage_counts_the_input_image(api: httpx.Client) -> None:
    usage = edit(api, images=[encode(scene(1024, 640))], quality="high").json()["usage"]
    assert usage["input_tokens_details"]["image_tokens"] == estimate_input_image_tokens(1024, 640)
    assert usage["output_tokens"] == 3824


# -- streaming -------------------------------------------------------------------------------

PARTIAL_KEYS = {"type", "b64_json", "partial_image_index", "created_at", "size", "quality",
                "background", "output_format"}
COMPLETED_KEYS = {"type", "b64_json", "created_at", "size", "quality", "background",
                  "output_format", "usage"}


def test_generation_stream_sends_partials_then_the_completed_image(api: httpx.Client) -> None:
    with api.stream("POST", "/images/generations", json={
        "model": "gpt-image-2", "prompt": "A lighthouse", "size": WIDE, "quality": "high",
        "stream": True, "partial_images": 2,
    }) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        events = server_sent_events(response)

    names = [name for name, _ in events]
    assert names == ["image_generation.partial_image", "image_generation.partial_image",
                     "image_generation.completed"]
    for name, data in events:
        assert data["type"] == name
        assert set(data) == (COMPLETED_KEYS if name.endswith("completed") else PARTIAL_KEYS)
        assert (data["size"], data["quality"], data["background"], data["output_format"]) == (
            WIDE, "high", "opaque", "png")
    assert [data["partial_image_index"] for _, data in events[:2]] == [0, 1]
    final = picture(events[2][1]["b64_json"])
    partials = [picture(data["b64_json"]) for _, data in events[:2]]
    assert final.size == partials[0].size == partials[1].size == (1024, 640)
    # Previews of the final image, the later one sharper.
    assert 0 < mean_difference(partials[1], final) < mean_difference(partials[0], final)
    assert events[2][1]["usage"]["output_tokens"] == 3824 + 2 * 100


def test_stream_usage_sums_to_the_request_total(api: httpx.Client) -> None:
    params = {"prompt": "Three moons", "size": WIDE, "quality": "low", "n": 3}
    total = generate(api, **params).json()["usage"]
    events = server_sent_events(generate(api, stream=True, partial_images=1, **params))

    completed = [data for name, data in events if name == "image_generation.completed"]
    assert [name for name, _ in events].count("image_generation.partial_image") == 1
    assert len(completed) == 3
    assert completed[0]["usage"]["input_tokens"] == total["input_tokens"]
    assert all(data["usage"]["input_tokens"] == 0 for data in completed[1:])
    summed = {key: sum(data["usage"][key] for data in completed)
              for key in ("input_tokens", "output_tokens", "total_tokens")}
    assert summed == {
        "input_tokens": total["input_tokens"],
        "output_tokens": total["output_tokens"] + 100,
        "total_tokens": total["total_tokens"] + 100,
    }
    images = [data["b64_json"] for data in completed]
    assert len(set(images)) == 3


def test_a_stream_without_partials_is_one_completed_event_and_no_done(api: httpx.Client) -> None:
    response = generate(api, size=WIDE, stream=True)
    assert b"[DONE]" not in response.content
    assert [name for name, _ in server_sent_events(response)] == ["image_generation.completed"]


def test_edit_stream_uses_the_image_edit_events(api: httpx.Client) -> None:
    response = edit(api, images=[encode(scene())], stream=True, partial_images=1)
    events = server_sent_events(response)
    assert [name for name, _ in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert picture(events[1][1]["b64_json"]).size == (1024, 640)


def test_partials_arrive_before_the_image_is_done() -> None:
    slept: list[float] = []
    emulator = Emulator(latency=1.0, sleep=slept.append)
    with _client(emulator) as api, api.stream("POST", "/images/generations", json={
        "prompt": "A slow sunrise", "size": WIDE, "quality": "low", "stream": True,
        "partial_images": 3,
    }) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: image_generation.partial_image"
        waited_at_first_partial = sum(slept)
        for _ in lines:
            pass
    assert 0 < waited_at_first_partial < 0.5
    assert sum(slept) == pytest.approx(1.5)  # low quality at latency 1.0, spread over the stream


@pytest.mark.parametrize(("quality", "n", "seconds"), [("low", 1, 1.5), ("high", 1, 5.0),
                                                      ("medium", 3, 4.5)])
def test_latency_scales_a_realistic_duration(quality: str, n: int, seconds: float) -> None:
    slept: list[float] = []
    with _client(Emulator(latency=1.0, sleep=slept.append)) as api:
        assert generate(api, size=WIDE, quality=quality, n=n).status_code == 200
    assert sum(slept) == pytest.approx(seconds)


def test_no_latency_means_no_sleeping(api: httpx.Client) -> None:
    slept: list[float] = []
    with _client(Emulator(sleep=slept.append)) as fast:
        generate(fast, size=WIDE)
        server_sent_events(generate(fast, size=WIDE, stream=True, partial_images=2))
    assert sum(slept) == 0


# -- faults ----------------------------------------------------------------------------------

ERROR_FAULTS = [
    ("rate_limit", 429, "requests", "rate_limit_exceeded"),
    ("server_error", 500, "server_error", None),
    ("unavailable", 503, "server_error", None),
    ("timeout", 408, "server_error", "timeout"),
    ("moderation", 400, "image_generation_user_error", "moderation_blocked"),
    ("unauthorized", 401, "invalid_request_error", "invalid_api_key"),
    ("insufficient_quota", 429, "insufficient_quota", "insufficient_quota"),
    ("billing_limit", 429, "invalid_request_error", "billing_hard_limit_reached"),
]


@pytest.mark.parametrize(("name", "status", "error_type", "code"), ERROR_FAULTS)
def test_error_faults_answer_like_the_api(api: httpx.Client, name: str, status: int,
                                          error_type: str, code: str | None) -> None:
    response = generate(api, size=WIDE, headers={"x-emulator-fault": name})
    assert response.status_code == status
    error = error_of(response)
    assert (error["type"], error["code"], error["param"]) == (error_type, code, None)
    assert response.headers["x-request-id"].startswith("req_")


def test_every_fault_name_is_covered_here() -> None:
    covered = {case[0] for case in ERROR_FAULTS} | {"slow", "stream_cut", "malformed_json"}
    assert covered == set(FAULT_NAMES)


def test_rate_limit_says_when_to_retry(api: httpx.Client) -> None:
    response = generate(api, headers={"x-emulator-fault": "rate_limit"})
    assert response.headers["retry-after"] == "1"
    assert response.headers["retry-after-ms"] == "50"
    message = error_of(response)["message"]
    assert message.startswith("Rate limit reached for gpt-image-2")
    assert "Please try again after 0.05 seconds." in message


def test_moderation_blocks_edits_too(api: httpx.Client) -> None:
    response = edit(api, images=[encode(scene())], headers={"x-emulator-fault": "moderation"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"].startswith("Your request was rejected by the safety system.")
    assert response.headers["x-request-id"] in error["message"]


def test_unauthorized_never_echoes_the_key(api: httpx.Client) -> None:
    message = error_of(generate(api, headers={"x-emulator-fault": "unauthorized"}))["message"]
    assert message.startswith("Incorrect API key provided: sk-...cdef")
    assert API_KEY not in message


def test_insufficient_quota_message(api: httpx.Client) -> None:
    message = error_of(generate(api, headers={"x-emulator-fault": "insufficient_quota"}))["message"]
    assert message == ("You exceeded your current quota, please check your plan and "
                       "billing details.")


@pytest.mark.parametrize("carrier", ["header", "prompt"])
def test_a_counted_fault_strikes_the_first_k_requests_then_lets_them_through(
    api: httpx.Client, emulator: Emulator, carrier: str,
) -> None:
    def attempt() -> int:
        if carrier == "header":
            return generate(api, size=WIDE, headers={"x-emulator-fault": "server_error:2"}).status_code
        return generate(api, size=WIDE, prompt="A kite [[fault:server_error:2]]").status_code

    assert [attempt() for _ in range(4)] == [500, 500, 200, 200]
    if carrier == "prompt":  # the marker stays in the prompt the emulator saw
        assert emulator.requests_seen[-1]["params"]["prompt"] == "A kite [[fault:server_error:2]]"


def test_each_spec_string_has_its_own_counter(api: httpx.Client) -> None:
    def status(spec: str) -> int:
        return generate(api, size=WIDE, headers={"x-emulator-fault": spec}).status_code

    assert status("rate_limit:1") == 429
    assert status("unavailable:1") == 503
    assert status("rate_limit:1") == 200
    assert status("unavailable:1") == 200
    assert status("rate_limit") == 429  # no count: always


def test_counters_belong_to_one_emulator() -> None:
    for _ in range(2):
        with _client(Emulator()) as api:
            assert generate(api, size=WIDE, headers={"x-emulator-fault": "timeout:1"}).status_code == 408


def test_fault_counter_is_thread_safe() -> None:
    counter = FaultCounter()
    fault = Fault(spec="server_error:25", name="server_error", limit=25)
    strikes: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            struck = counter.strikes(fault)
            with lock:
                strikes.append(struck)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert strikes.count(True) == 25


def test_the_header_wins_over_a_prompt_marker(api: httpx.Client) -> None:
    response = generate(api, prompt="x [[fault:server_error]]",
                        headers={"x-emulator-fault": "unavailable"})
    assert response.status_code == 503


def test_faults_strike_only_requests_that_pass_validation(api: httpx.Client) -> None:
    headers = {"x-emulator-fault": "rate_limit:1"}
    assert generate(api, size="1000x1000", headers=headers).status_code == 400
    assert generate(api, size=WIDE, headers=headers).status_code == 429
    assert generate(api, size=WIDE, headers=headers).status_code == 200


@pytest.mark.parametrize("spec", ["explode", "rate_limit:0", "rate_limit:x", "rate_limit:"])
def test_an_unknown_fault_is_a_400_naming_the_valid_ones(api: httpx.Client, spec: str) -> None:
    response = generate(api, headers={"x-emulator-fault": spec})
    assert response.status_code == 400
    error = error_of(response)
    assert error["param"] is None
    if spec == "explode":
        assert all(name in error["message"] for name in FAULT_NAMES)


def test_slow_waits_then_answers() -> None:
    slept: list[float] = []
    with _client(Emulator(slow_seconds=0.25, sleep=slept.append)) as api:
        response = generate(api, size=WIDE, headers={"x-emulator-fault": "slow"})
    assert response.status_code == 200
    assert slept == [0.25]
    assert first_picture(response).size == (1024, 640)


def test_slow_beyond_the_clients_read_timeout_is_a_read_timeout() -> None:
    slept: list[float] = []
    with _client(Emulator(sleep=slept.append), timeout=httpx.Timeout(5.0, read=0.1)) as api, \
            pytest.raises(httpx.ReadTimeout):
        generate(api, size=WIDE, headers={"x-emulator-fault": "slow"})
    assert slept == [0.1]


def test_stream_cut_breaks_the_stream_after_the_first_partial(api: httpx.Client) -> None:
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), api.stream(
        "POST", "/images/generations", headers={"x-emulator-fault": "stream_cut"},
        json={"prompt": "A bridge", "size": WIDE, "stream": True, "partial_images": 2},
    ) as response:
        assert response.status_code == 200
        received.extend(response.iter_lines())
    assert received[0] == "event: image_generation.partial_image"
    assert not any("completed" in line for line in received)


def test_stream_cut_without_partials_cuts_the_completed_event(api: httpx.Client) -> None:
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), api.stream(
        "POST", "/images/generations", headers={"x-emulator-fault": "stream_cut"},
        json={"prompt": "A bridge", "size": WIDE, "stream": True},
    ) as response:
        for chunk in response.iter_bytes():
            received.extend(chunk)
    assert received.startswith(b"event: image_generation.completed\n")
    assert not received.endswith(b"\n\n")


def test_stream_cut_without_streaming_drops_the_connection_mid_body(api: httpx.Client) -> None:
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), api.stream(
        "POST", "/images/generations", headers={"x-emulator-fault": "stream_cut"},
        json={"prompt": "A bridge", "size": WIDE},
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received.extend(chunk)
    assert received.startswith(b'{"created": ')
    assert 0 < len(received) < int(response.headers["content-length"])


def test_malformed_json_is_a_200_that_does_not_parse(api: httpx.Client) -> None:
    response = generate(api, size=WIDE, headers={"x-emulator-fault": "malformed_json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_malformed_json_in_a_stream_is_an_event_whose_data_does_not_parse(api: httpx.Client) -> None:
    response = generate(api, size=WIDE, stream=True, headers={"x-emulator-fault": "malformed_json"})
    assert response.headers["content-type"] == "text/event-stream"
    event_line, data_line = response.text.strip().split("\n")
    assert event_line == "event: image_generation.partial_image"
    with pytest.raises(json.JSONDecodeError):
        json.loads(data_line.removeprefix("data: "))


# -- auth, routing, bookkeeping -------------------------------------------------------------

@pytest.mark.parametrize("authorization", [None, "Bearer ", "Basic c2stdGVzdA==", "sk-test"])
def test_requests_without_a_bearer_key_are_refused(emulator: Emulator,
                                                   authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=API_BASE) as anonymous:
        response = anonymous.post("/images/generations", json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    error = error_of(response)
    assert error["message"].startswith("You didn't provide an API key")
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, None)


def test_paths_work_with_and_without_the_v1_prefix(emulator: Emulator) -> None:
    with _client(emulator) as api:
        bare = api.post("https://api.openai.com/images/generations",
                        json={"prompt": "x", "size": WIDE})
    assert bare.status_code == 200


@pytest.mark.parametrize("path", ["/images/variations", "/chat/completions", "/v2/images/edits", "/"])
def test_unknown_paths_are_404_with_an_error_body(api: httpx.Client, path: str) -> None:
    response = api.post(path, json={"prompt": "x"})
    assert response.status_code == 404
    assert error_of(response)["type"] == "invalid_request_error"


def test_other_methods_are_405(api: httpx.Client) -> None:
    response = api.get("/images/generations")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error_of(response)


def test_request_ids_are_unique(api: httpx.Client) -> None:
    ids = {generate(api, size=WIDE, quality="low").headers["x-request-id"] for _ in range(3)}
    ids |= {api.get("/images/generations").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 6
    assert all(len(request_id) > len("req_") + 16 for request_id in ids)


def test_requests_seen_records_what_the_client_sent(api: httpx.Client, emulator: Emulator) -> None:
    generate(api, size=WIDE, n=2, stream=False, headers={"x-trace": "abc"})
    edit(api, images=[encode(scene())], mask=encode(mask_with_hole()), quality="low")

    generation, edition = emulator.requests_seen
    assert generation["path"] == "/v1/images/generations"
    assert generation["params"] == {"model": "gpt-image-2", "prompt": "A lighthouse at dusk",
                                    "size": WIDE, "n": 2, "stream": False}
    assert generation["files"] == []
    assert generation["headers"]["authorization"] == "REDACTED"
    assert generation["headers"]["x-trace"] == "abc"
    assert API_KEY not in json.dumps(emulator.requests_seen)
    assert edition["params"]["quality"] == "low"
    assert [(item["field"], item["filename"], item["content_type"]) for item in edition["files"]] == [
        ("image", "input-0.png", "image/png"), ("mask", "mask.png", "image/png"),
    ]


def test_rejected_requests_are_recorded_too(api: httpx.Client, emulator: Emulator) -> None:
    generate(api, n=11)
    assert emulator.requests_seen[-1]["params"]["n"] == 11


# -- over real HTTP --------------------------------------------------------------------------

def test_the_wsgi_server_answers_over_loopback() -> None:
    server = make_server(Emulator(), host="127.0.0.1", port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}/v1", trust_env=False,
                          headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as api:
            response = generate(api, size=WIDE, output_format="jpeg", output_compression=80)
            assert response.status_code == 200
            assert first_picture(response).size == (1024, 640)
            assert response.headers["x-request-id"].startswith("req_")

            with api.stream("POST", "/images/generations", json={
                "prompt": "A lighthouse", "size": WIDE, "stream": True, "partial_images": 1,
            }) as stream:
                assert stream.headers["content-type"] == "text/event-stream"
                names = [name for name, _ in server_sent_events(stream)]
            assert names == ["image_generation.partial_image", "image_generation.completed"]

            with pytest.raises(httpx.RemoteProtocolError), api.stream(
                "POST", "/images/generations", headers={"x-emulator-fault": "stream_cut"},
                json={"prompt": "A lighthouse", "size": WIDE, "stream": True, "partial_images": 1},
            ) as cut:
                for _ in cut.iter_bytes():
                    pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
