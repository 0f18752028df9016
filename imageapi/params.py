"""The Images API's parameter rules: the one place that knows what a request may say.

The studio's forms, the HTTP client and the offline emulator all validate through this
module, so the three cannot drift apart. What differs between models comes from their
entries in ``imageapi.catalogue``. Plain Python: no Django, no HTTP.
The contract is ``shared/reference/gpt-image-2.md`` and ``models.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .catalogue import DEFAULT_MODEL, MODELS, ModelEntry, default_entry, entry_for

Endpoint = Literal["generations", "edits"]

# Snapshot names resolve to the alias they pin; the studio records both.
MODEL_SNAPSHOTS = {entry.id: entry.snapshots[0] for entry in MODELS if entry.snapshots}
GPT_IMAGE_2_MODELS = frozenset(default_entry().ids)
KNOWN_MODELS = frozenset(model_id for entry in MODELS for model_id in entry.ids)

PROMPT_MAX_CHARS = 32_000
N_MIN, N_MAX = 1, 10
PARTIAL_IMAGES_MAX = 3
COMPRESSION_MIN, COMPRESSION_MAX = 0, 100

# The default model's (gpt-image-2's) values; other models' come from their catalogue entry.
QUALITIES = ("auto", "low", "medium", "high")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
TRANSPARENT_FORMATS = frozenset({"png", "webp"})
COMPRESSIBLE_FORMATS = frozenset({"jpeg", "webp"})
BACKGROUNDS = ("auto", "opaque", "transparent")
MODERATIONS = ("auto", "low")
INPUT_FIDELITIES = ("high", "low")

# Custom sizes (gpt-image-2 only).
SIZE_STEP = 16
MAX_EDGE = 3840
MAX_RATIO = 3
MIN_PIXELS = 655_360
MAX_PIXELS = 8_294_400
EXPERIMENTAL_ABOVE = 2560 * 1440
AUTO_SIZE = "auto"
# (value, label) in the order the studio offers them.
SIZE_PRESETS: tuple[tuple[str, str], ...] = (
    ("auto", "Auto"),
    ("1024x1024", "Square 1024×1024"),
    ("1024x1536", "Portrait 1024×1536"),
    ("1536x1024", "Landscape 1536×1024"),
    ("2048x2048", "2K square 2048×2048"),
    ("2048x1152", "2K wide 2048×1152"),
    ("3840x2160", "4K landscape 3840×2160"),
    ("2160x3840", "4K portrait 2160×3840"),
)
# Older GPT image models accept only these.
LEGACY_SIZES = frozenset({"auto", "1024x1024", "1536x1024", "1024x1536"})
# What `auto` means for the emulator and for estimates made before a call.
AUTO_SIZE_ESTIMATE = (1024, 1024)
AUTO_QUALITY_ESTIMATE = "medium"

# Edit inputs.
EDIT_IMAGES_MIN, EDIT_IMAGES_MAX = 1, 16
INPUT_FORMATS = frozenset({"png", "webp", "jpeg"})
# A file part's declared type must be one of these, whatever its bytes are (as OpenAI does).
INPUT_CONTENT_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_INPUT_BYTES = 50 * 1024 * 1024  # "each < 50 MB"
MAX_MASK_BYTES = MAX_INPUT_BYTES

TRANSPARENT_UNSUPPORTED = "Transparent background is not supported for this model."

# Fields newer than OpenAI's published spec: 2.6's complexity and GIF frames, and
# safety_identifier (the guide asks for it; the spec has it for other endpoints only).
NEWER_FIELDS = frozenset({"complexity", "frame_count", "frame_duration_ms", "safety_identifier"})
GENERATION_FIELDS = frozenset({
    "model", "prompt", "n", "size", "quality", "output_format", "output_compression",
    "background", "moderation", "stream", "partial_images", "user", *NEWER_FIELDS,
})
EDIT_FIELDS = frozenset({
    "model", "prompt", "n", "size", "quality", "output_format", "output_compression",
    "background", "stream", "partial_images", "user", "input_fidelity", *NEWER_FIELDS,
})


@dataclass(frozen=True)
class ParamError:
    """One rejected parameter: `param` is the API's field name, as in the error body."""

    param: str
    message: str
    code: str = "invalid_value"


@dataclass(frozen=True)
class ImageInfo:
    """What the rules need to know of an uploaded image (see ``imageapi.images``)."""

    format: str | None  # "png", "jpeg", "webp", … or None when the bytes are no image
    width: int
    height: int
    has_alpha: bool
    byte_size: int


def resolve_snapshot(model: str) -> str:
    return MODEL_SNAPSHOTS.get(model, model)


def is_gpt_image_2(model: str) -> bool:
    return model in GPT_IMAGE_2_MODELS


def model_entry(model: str) -> ModelEntry:
    """The catalogue entry whose rules apply to ``model``. A model the catalogue lacks (a
    gateway's, or the next one) is judged by the default model's rules; whether it exists
    is the API's to say."""
    return entry_for(model) or default_entry()


def shut_down_error(model: str) -> ParamError | None:
    entry = entry_for(model)
    if entry is None or not entry.is_shut_down:
        return None
    return ParamError("model", entry.shutdown_message(model), "model_shut_down")


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x1024"`` → ``(1536, 1024)``; ``None`` for ``auto`` or anything malformed."""
    width, sep, height = size.strip().lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    return int(width), int(height)


def size_error(width: int, height: int) -> str | None:
    """The first gpt-image-2 size rule that ``width``×``height`` breaks, in plain words."""
    if width <= 0 or height <= 0:
        return "Width and height must be positive."
    if width % SIZE_STEP or height % SIZE_STEP:
        return (
            f"Invalid size '{width}x{height}'. Width and height must both be divisible by "
            f"{SIZE_STEP}{_nearest_hint(width, height)}."
        )
    if max(width, height) > MAX_EDGE:
        return f"Invalid size '{width}x{height}'. The longer edge must be at most {MAX_EDGE} px."
    if max(width, height) > MAX_RATIO * min(width, height):
        return (
            f"Invalid size '{width}x{height}'. The long edge may be at most "
            f"{MAX_RATIO} times the short edge (3:1)."
        )
    pixels = width * height
    if pixels < MIN_PIXELS:
        return (
            f"Invalid size '{width}x{height}'. The image must have at least {MIN_PIXELS:,} "
            f"pixels (for example 1024x640); this one has {pixels:,}."
        )
    if pixels > MAX_PIXELS:
        return (
            f"Invalid size '{width}x{height}'. The image may have at most {MAX_PIXELS:,} "
            f"pixels (3840x2160); this one has {pixels:,}."
        )
    return None


def _nearest_hint(width: int, height: int) -> str:
    w, h = _round16(width), _round16(height)
    if w and h and size_error(w, h) is None:
        return f" (the nearest valid size is {w}x{h})"
    return ""


def _round16(value: int) -> int:
    return max(SIZE_STEP, (value + SIZE_STEP // 2) // SIZE_STEP * SIZE_STEP)


def is_experimental(width: int, height: int) -> bool:
    return width * height > EXPERIMENTAL_ABOVE


def validate_size(size: str, *, model: str) -> ParamError | None:
    if size == AUTO_SIZE:
        return None
    entry = model_entry(model)
    if not entry.custom_sizes:
        if size in entry.fixed_sizes:
            return None
        allowed = ", ".join((AUTO_SIZE, *entry.fixed_sizes))
        return ParamError("size", f"Invalid size '{size}'. {model} supports: {allowed}.")
    parsed = parse_size(size)
    if parsed is None:
        return ParamError(
            "size", f"Invalid size '{size}'. Use 'auto' or WIDTHxHEIGHT, for example 1536x1024."
        )
    message = size_error(*parsed)
    return ParamError("size", message) if message else None


def output_dimensions(size: str, *, fallback: tuple[int, int] = AUTO_SIZE_ESTIMATE) -> tuple[int, int]:
    """Width and height an image of ``size`` has; ``auto`` resolves to ``fallback``."""
    return parse_size(size) or fallback


# The JSON type of every field, checked before its value (as the API does): ``nullable``
# fields may be sent as null, meaning "the default", as OpenAI's spec allows.
@dataclass(frozen=True)
class FieldType:
    kind: Literal["string", "integer", "boolean"]
    nullable: bool = True


FIELD_TYPES: dict[str, FieldType] = {
    "model": FieldType("string"),
    "prompt": FieldType("string", nullable=False),
    "n": FieldType("integer"),
    "size": FieldType("string"),
    "quality": FieldType("string"),
    "output_format": FieldType("string"),
    "output_compression": FieldType("integer"),
    "background": FieldType("string"),
    "moderation": FieldType("string"),
    "stream": FieldType("boolean"),
    "partial_images": FieldType("integer"),
    "user": FieldType("string", nullable=False),
    "input_fidelity": FieldType("string"),
    "complexity": FieldType("string"),
    "frame_count": FieldType("integer"),
    "frame_duration_ms": FieldType("integer"),
    "safety_identifier": FieldType("string"),
}
_KIND_WORDS = {"string": "a string", "integer": "an integer", "boolean": "a boolean"}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,18}")


def json_type_words(value: Any) -> str:
    """How the API names a JSON value's type in its messages ("an integer", "an array"…)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Sequence):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _type_error(name: str, expected: str, value: Any) -> ParamError:
    return ParamError(
        name, f"Invalid type for '{name}': expected {expected}, but got {json_type_words(value)} instead.",
        "invalid_type",
    )


def type_error(name: str, value: Any) -> ParamError | None:
    """The error for a value of the wrong JSON type for field ``name``; ``None`` if the type
    is right (or the field is unknown: that is reported as an unknown parameter)."""
    spec = FIELD_TYPES.get(name)
    if spec is None:
        return None
    expected = _KIND_WORDS[spec.kind]
    if value is None:
        return None if spec.nullable else _type_error(name, expected, value)
    if spec.kind == "string":
        if not isinstance(value, str):
            return _type_error(name, expected, value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes allow
            return ParamError(name, f"Invalid value for '{name}': the string is not valid Unicode.",
                              "invalid_value")
        return None
    is_bool = isinstance(value, bool)  # a bool is an int to Python, never to JSON
    if spec.kind == "boolean":
        ok = is_bool
    else:  # JSON has one number type: 2.0 is an integer (as JSON Schema says), 2.5 is not
        ok = not is_bool and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    return None if ok else _type_error(name, expected, value)


def from_form_text(name: str, text: str) -> tuple[Any, ParamError | None]:
    """A multipart/form field's typed value: form fields are always text, so integers and
    booleans are read from it; on failure the raw text and the type error."""
    spec = FIELD_TYPES.get(name)
    if spec is None or spec.kind == "string":
        return text, None
    stripped = text.strip()
    if spec.kind == "integer":
        if _INTEGER_TEXT.fullmatch(stripped):
            return int(stripped), None
        return text, ParamError(
            name, f"Invalid type for '{name}': expected an integer, but got '{text[:40]}' instead.",
            "invalid_type")
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true", None
    return text, ParamError(
        name, f"Invalid type for '{name}': expected a boolean, but got '{text[:40]}' instead.", "invalid_type")


def typed_fields(params: Mapping[str, Any], *, endpoint: Endpoint) -> tuple[dict[str, Any], list[ParamError]]:
    """The known, non-null fields of ``params`` whose type is right (integers as ``int``),
    and an error for every other field (unknown, or of the wrong type). Values are judged
    only after this."""
    allowed = GENERATION_FIELDS if endpoint == "generations" else EDIT_FIELDS
    typed: dict[str, Any] = {}
    errors: list[ParamError] = []
    for name, value in params.items():
        if name not in allowed:
            errors.append(ParamError(name, f"Unknown parameter: '{name}'.", "unknown_parameter"))
        elif (error := type_error(name, value)) is not None:
            errors.append(error)
        elif value is not None:
            typed[name] = int(value) if FIELD_TYPES[name].kind == "integer" else value
    return typed, errors


def validate_request(params: Mapping[str, Any], *, endpoint: Endpoint) -> list[ParamError]:
    """Every rule broken by the non-file fields of a generation or edit request.

    ``params`` holds API field names with Python values as JSON decodes them; each field's
    type is checked before its value. An empty list means the request is valid.
    """
    params, errors = typed_fields(params, endpoint=endpoint)
    type_failed = {error.param for error in errors}

    model = params.get("model", DEFAULT_MODEL)
    if model == "":
        errors.append(ParamError("model", "Invalid value for 'model': it must not be empty.", "empty_string"))
        model = DEFAULT_MODEL
    elif "model" in type_failed:
        model = DEFAULT_MODEL
    if (shut_down := shut_down_error(model)) is not None:
        return [shut_down]  # nothing else matters: the model takes no requests
    entry = model_entry(model)

    prompt = params.get("prompt")
    if prompt is None:
        if "prompt" not in type_failed:
            errors.append(ParamError("prompt", "Missing required parameter: 'prompt'.",
                                     "missing_required_parameter"))
    elif not prompt.strip():
        errors.append(ParamError("prompt", "The prompt must not be empty.", "empty_string"))
    elif len(prompt) > PROMPT_MAX_CHARS:
        errors.append(ParamError(
            "prompt",
            f"The prompt is {len(prompt):,} characters long; the maximum is {PROMPT_MAX_CHARS:,}.",
            "string_above_max_length",
        ))

    _check_int(errors, params, "n", N_MIN, N_MAX)
    _check_choice(errors, params, "quality", entry.accepted_qualities, model=model)
    _check_choice(errors, params, "output_format", entry.output_formats, model=model)
    _check_choice(errors, params, "background", BACKGROUNDS)
    _check_choice(errors, params, "moderation", MODERATIONS)
    _check_int(errors, params, "partial_images", 0, PARTIAL_IMAGES_MAX)
    _check_model_has(errors, params, "complexity", bool(entry.complexity), model)
    _check_choice(errors, params, "complexity", entry.complexity, model=model)

    size = params.get("size")
    if size is not None and (error := validate_size(size, model=model)) is not None:
        errors.append(error)

    output_format = params.get("output_format", "png")
    compression_ok = _check_int(errors, params, "output_compression", COMPRESSION_MIN, COMPRESSION_MAX)
    if compression_ok and output_format not in COMPRESSIBLE_FORMATS and params["output_compression"] != 100:
        errors.append(ParamError(
            "output_compression", "output_compression applies only to the jpeg and webp output formats.",
        ))

    if params.get("background") == "transparent":
        if not entry.allows_transparency:
            errors.append(ParamError("background", TRANSPARENT_UNSUPPORTED, "unsupported_value"))
        elif output_format not in TRANSPARENT_FORMATS:
            errors.append(ParamError(
                "background",
                f"A transparent background needs the png or webp output format; {output_format} has no "
                "alpha channel for it.",
                "unsupported_value",
            ))

    _check_gif(errors, params, entry, output_format)

    if "input_fidelity" in params:
        if not entry.input_fidelity:
            errors.append(ParamError(
                "input_fidelity",
                f"input_fidelity is not supported for {model}: it always uses high fidelity.",
                "invalid_input_fidelity_model",
            ))
        else:
            _check_choice(errors, params, "input_fidelity", INPUT_FIDELITIES)
    return errors


def _check_model_has(errors: list[ParamError], params: Mapping[str, Any], name: str, has: bool,
                     model: str) -> bool:
    if name in params and not has:
        errors.append(ParamError(name, f"{name} is not supported for {model}.", "unsupported_parameter"))
        return False
    return True


def _check_gif(errors: list[ParamError], params: Mapping[str, Any], entry: ModelEntry,
               output_format: str) -> None:
    """GIF output's own rules: frames only with gif; no stream or partial images."""
    gif = entry.gif
    if output_format != "gif" or gif is None:
        for name in ("frame_count", "frame_duration_ms"):
            if name in params:
                errors.append(ParamError(name, f"{name} applies only to the gif output format.",
                                         "unsupported_parameter"))
        return
    _check_int(errors, params, "frame_count", gif.frame_count_min, gif.frame_count_max)
    _check_int(errors, params, "frame_duration_ms", gif.frame_duration_ms_min, gif.frame_duration_ms_max)
    if params.get("stream"):
        errors.append(ParamError("stream", "GIF output cannot be streamed.", "unsupported_value"))
    if params.get("partial_images"):
        errors.append(ParamError("partial_images", "GIF output has no partial images.", "unsupported_value"))
    # output_compression: refused by the jpeg/webp-only rule already.


def _check_int(errors: list[ParamError], params: Mapping[str, Any], name: str, low: int, high: int) -> bool:
    """``params`` are typed already (see ``typed_fields``): only the range is judged here."""
    if name not in params:
        return False
    value = params[name]
    if not low <= value <= high:
        shown = value if abs(value) < 10**12 else f"{str(value)[:12]}…"
        errors.append(ParamError(name, f"{name} must be between {low} and {high}; got {shown}.",
                                 "integer_out_of_range"))
        return False
    return True


def _check_choice(errors: list[ParamError], params: Mapping[str, Any], name: str, choices: Sequence[str],
                  *, model: str | None = None) -> None:
    value = params.get(name)
    if value is not None and choices and value not in choices:
        options = ", ".join(f"'{choice}'" for choice in choices)
        which = f" for {model}" if model else ""
        errors.append(ParamError(
            name, f"Invalid value '{value[:80]}' for {name}{which}. Supported values are: {options}."))


def validate_content_type(param: str, content_type: str | None) -> ParamError | None:
    """A file part must declare an image type OpenAI takes, even when its bytes are an image:
    ``application/octet-stream`` (what an SDK sends for bare bytes) is refused."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in INPUT_CONTENT_TYPES:
        return None
    supported = ", ".join(f"'{kind}'" for kind in INPUT_CONTENT_TYPES)
    return ParamError(
        param, f"Invalid file '{param}': unsupported mimetype ('{declared or 'none'}'). "
        f"Supported file formats are {supported}.", "unsupported_file_mimetype")


def validate_edit_inputs(images: Sequence[ImageInfo], mask: ImageInfo | None, *,
                         output_format: str = "png") -> list[ParamError]:
    """The rules for an edit's files: 1–16 images of png/webp/jpeg under 50 MB, and a mask
    that is a PNG with an alpha channel of the same size as the first image (and no mask
    for GIF output)."""
    errors: list[ParamError] = []
    if mask is not None and output_format == "gif":
        errors.append(ParamError("mask", "GIF output does not support a mask.", "unsupported_parameter"))
    if len(images) < EDIT_IMAGES_MIN:
        errors.append(ParamError("image", "Add at least one input image.", "missing_required_parameter"))
    elif len(images) > EDIT_IMAGES_MAX:
        errors.append(ParamError(
            "image", f"At most {EDIT_IMAGES_MAX} input images are allowed; got {len(images)}.",
            "too_many_images",
        ))
    for position, info in enumerate(images, start=1):
        label = f"Image {position}" if len(images) > 1 else "The image"
        if info.byte_size >= MAX_INPUT_BYTES:
            errors.append(ParamError("image", f"{label} is {_mb(info.byte_size)}; each must be under 50 MB.",
                                     "file_too_large"))
        elif info.format is None:
            errors.append(ParamError("image", f"{label} is not an image that can be read.", "invalid_image"))
        elif info.format not in INPUT_FORMATS:
            errors.append(ParamError(
                "image", f"{label} is {info.format.upper()}; use PNG, WEBP or JPEG.", "invalid_image_format",
            ))
    if mask is None:
        return errors
    if mask.byte_size >= MAX_MASK_BYTES:
        errors.append(ParamError("mask", f"The mask is {_mb(mask.byte_size)}; it must be under 50 MB.",
                                 "file_too_large"))
    elif mask.format != "png":
        kind = mask.format.upper() if mask.format else "not an image"
        errors.append(ParamError("mask", f"The mask must be a PNG file; this one is {kind}.", "invalid_mask_format"))
    elif not mask.has_alpha:
        errors.append(ParamError(
            "mask",
            "The mask must have an alpha channel: transparent pixels mark where to edit.",
            "invalid_mask_alpha",
        ))
    elif images and images[0].format in INPUT_FORMATS and (mask.width, mask.height) != (
        images[0].width, images[0].height,
    ):
        errors.append(ParamError(
            "mask",
            f"The mask is {mask.width}x{mask.height} but the first image is "
            f"{images[0].width}x{images[0].height}; they must be the same size.",
            "invalid_mask_size",
        ))
    return errors


def _mb(byte_size: int) -> str:
    return f"{math.ceil(byte_size / (1024 * 1024) * 10) / 10:.1f} MB"
