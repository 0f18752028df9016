import pytest

from imageapi import params as rules
from imageapi.params import ImageInfo, validate_edit_inputs, validate_request, validate_size


def _errors(**request):
    request.setdefault("prompt", "a lighthouse at dusk")
    request.setdefault("model", "gpt-image-2")
    endpoint = request.pop("endpoint", "generations")
    return {error.param: error for error in validate_request(request, endpoint=endpoint)}


@pytest.mark.parametrize("size", [
    "auto", "1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "3840x2160", "2160x3840",
    "1024x640", "3072x1024", "3840x1280", "1792x1024", "3584x2048", "2560x1440", "816x816",
])
def test_sizes_gpt_image_2_accepts(size):
    assert validate_size(size, model="gpt-image-2") is None


@pytest.mark.parametrize(("size", "words"), [
    ("1000x1000", "divisible by 16"),
    ("100x100", "divisible by 16"),
    ("1792x936", "divisible by 16"),
    ("4096x1024", "longer edge must be at most 3840"),
    ("3840x1264", "3 times the short edge"),
    ("800x800", "at least 655,360"),
    ("3840x2176", "at most 8,294,400"),
    ("big", "WIDTHxHEIGHT"),
    ("1024x", "WIDTHxHEIGHT"),
    ("0x1024", "positive"),
])
def test_sizes_gpt_image_2_rejects_with_the_rule_broken(size, words):
    error = validate_size(size, model="gpt-image-2")
    assert error is not None and error.param == "size"
    assert words in error.message


def test_size_error_suggests_the_nearest_valid_size():
    assert "1008x1008" in validate_size("1000x1000", model="gpt-image-2").message


def test_experimental_above_2560x1440():
    assert not rules.is_experimental(2560, 1440)
    assert rules.is_experimental(2576, 1440)
    assert rules.is_experimental(3840, 2160)


def test_older_models_take_only_their_fixed_sizes():
    assert validate_size("1536x1024", model="gpt-image-1.5") is None
    assert validate_size("2048x2048", model="gpt-image-1.5") is not None


def test_a_full_valid_request_passes():
    assert validate_request({
        "model": "gpt-image-2", "prompt": "x", "n": 10, "size": "3840x2160", "quality": "high",
        "output_format": "webp", "output_compression": 0, "background": "opaque", "moderation": "low",
        "stream": True, "partial_images": 3, "user": "u-1",
    }, endpoint="generations") == []


@pytest.mark.parametrize(("request_fields", "param", "words"), [
    ({"prompt": "x" * 32_001}, "prompt", "maximum is 32,000"),
    ({"prompt": "   "}, "prompt", "must not be empty"),
    ({"n": 0}, "n", "between 1 and 10"),
    ({"n": 11}, "n", "between 1 and 10"),
    ({"n": "2"}, "n", "expected an integer, but got a string"),
    ({"n": True}, "n", "expected an integer, but got a boolean"),
    ({"quality": "ultra"}, "quality", "Supported values"),
    ({"output_format": "gif"}, "output_format", "Supported values"),
    ({"output_compression": 101, "output_format": "jpeg"}, "output_compression", "between 0 and 100"),
    ({"output_compression": 50}, "output_compression", "only to the jpeg and webp"),
    ({"background": "transparent", "model": "gpt-image-2.6-flare"}, "background", "not supported for this model"),
    ({"moderation": "high"}, "moderation", "Supported values"),
    ({"partial_images": 4}, "partial_images", "between 0 and 3"),
    ({"response_format": "b64_json"}, "response_format", "Unknown parameter"),
    ({"style": "vivid"}, "style", "Unknown parameter"),
    ({"stream": "yes"}, "stream", "expected a boolean, but got a string"),
])
def test_generation_rejections(request_fields, param, words):
    errors = _errors(**request_fields)
    assert param in errors
    assert words in errors[param].message


def test_prompt_of_exactly_32000_characters_is_fine():
    assert _errors(prompt="x" * 32_000) == {}


def test_missing_prompt_is_named():
    errors = validate_request({"model": "gpt-image-2"}, endpoint="generations")
    assert [(e.param, e.code) for e in errors] == [("prompt", "missing_required_parameter")]


def test_edits_reject_moderation_and_input_fidelity_for_gpt_image_2():
    errors = _errors(endpoint="edits", moderation="low", input_fidelity="high")
    assert errors["moderation"].code == "unknown_parameter"
    assert errors["input_fidelity"].code == "invalid_input_fidelity_model"


def test_transparent_background_works_where_the_catalogue_allows_it_but_never_with_jpeg():
    assert _errors(model="gpt-image-2.5-flare", background="transparent") == {}
    assert _errors(model="gpt-image-2", background="transparent") == {}  # a preview
    assert "jpeg" in _errors(model="gpt-image-2.5-flare", background="transparent", output_format="jpeg")[
        "background"].message


def _info(fmt="png", width=1024, height=1024, alpha=True, size=1000):
    return ImageInfo(format=fmt, width=width, height=height, has_alpha=alpha, byte_size=size)


def test_edit_inputs_accept_one_to_sixteen_images_and_a_matching_mask():
    assert validate_edit_inputs([_info()], _info()) == []
    assert validate_edit_inputs([_info("jpeg", alpha=False)] * 16, None) == []


@pytest.mark.parametrize(("images", "mask", "param", "words"), [
    ([], None, "image", "at least one"),
    ([_info()] * 17, None, "image", "At most 16"),
    ([_info(size=50 * 1024 * 1024)], None, "image", "under 50 MB"),
    ([_info(fmt=None)], None, "image", "not an image"),
    ([_info(fmt="gif")], None, "image", "use PNG, WEBP or JPEG"),
    ([_info()], _info(fmt="jpeg"), "mask", "must be a PNG"),
    ([_info()], _info(alpha=False), "mask", "alpha channel"),
    ([_info()], _info(width=512, height=512), "mask", "same size"),
    ([_info()], _info(size=60 * 1024 * 1024), "mask", "under 50 MB"),
])
def test_edit_input_rejections(images, mask, param, words):
    errors = validate_edit_inputs(images, mask)
    assert errors and errors[0].param == param
    assert words in errors[0].message
