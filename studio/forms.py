"""The generate and edit forms. Every rule comes from ``imageapi.params``; the forms only
turn browser input into API parameters and put each error next to its field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from gallery.models import InputImage
from gallery.permissions import visible_images, visible_input_images
from imageapi import params as rules
from imageapi.catalogue import AUTO_QUALITY, MODELS, ModelEntry, entry_for
from imageapi.images import DecompressionBomb, inspect_image
from teams.ids import MAX_ID, parse_id
from teams.models import Space

from .services import Upload

CUSTOM_SIZE = "custom"
SIZE_CHOICES = [*rules.SIZE_PRESETS, (CUSTOM_SIZE, "Custom…")]
PRESET_SIZES = {value for value, _ in rules.SIZE_PRESETS}
INPUT_TOKEN = re.compile(r"(gallery|stored|upload):([0-9]{1,20})")


def plain_size_error(size: str, message: str) -> str:
    """A size rule broken, in plain words, for the studio's feedback beside the size fields (live
    and on submit): which side, without the API's "Invalid size '…'." preamble (the fields show
    the size already). The API's own messages (``imageapi.params.size_error``) stay as they are."""
    parsed = rules.parse_size(size)
    step = rules.SIZE_STEP
    if parsed and (parsed[0] % step or parsed[1] % step):
        sides = [name for name, value in zip(("Width", "Height"), parsed, strict=True) if value % step]
        subject = "Width and height" if len(sides) == 2 else sides[0]
        values = " and ".join(str(value) for value in parsed if value % step)
        return f"{subject} must be a multiple of {step} ({values} {'are' if len(sides) == 2 else 'is'} not)."
    return message.split(". ", 1)[1] if message.startswith("Invalid size '") and ". " in message else message


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.capitalize()) for value in values]


QUALITY_LABELS = {"xhigh": "Extra high"}
FORMAT_LABELS = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}


def _every(values: Any) -> frozenset[str]:
    return frozenset(value for group in values for value in group)


# Every value some catalogue model takes. A select shows the chosen model's values; any of these
# is let through to the model's own rule (``imageapi.params``), which refuses it with its reason.
KNOWN_QUALITIES = _every(entry.accepted_qualities for entry in MODELS)
KNOWN_FORMATS = _every(entry.output_formats for entry in MODELS)
KNOWN_COMPLEXITIES = _every(entry.complexity for entry in MODELS)


# The fields of the options fragment (templates/studio/_options.html) besides the model.
OPTION_FIELDS = frozenset({
    "size", "width", "height", "quality", "complexity", "output_format", "output_compression", "frame_count",
    "frame_duration_ms", "n", "partial_images", "moderation", "background", "input_fidelity",
})


class CatalogueChoiceField(forms.ChoiceField):
    """A select of the chosen model's values (``choices``, set by the form) that accepts every
    value in ``known``: whether the model takes it is the catalogue's rule, said next to the field."""

    def __init__(self, *, known: frozenset[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.known = known

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.known


def _format_label(value: str, entry: ModelEntry) -> str:
    label = FORMAT_LABELS.get(value, value.upper())
    return f"{label} (preview)" if value == "gif" and entry.gif is not None and entry.gif.preview else label


def offered_models(default: str, models: Sequence[str] = ()) -> list[str]:
    """The models a deployment offers, the default first (it is always offered)."""
    return list(dict.fromkeys([default, *models]))


class SelectWithDisabled(forms.Select):
    """A select whose options in ``disabled_values`` are shown but cannot be picked."""

    disabled_values: frozenset[str] | set[str] = frozenset()

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(item, initial) for item in files]


def new_submit_key() -> str:
    return uuid.uuid4().hex


class ImageOptionsForm(forms.Form):
    """What generations and edits share. Field names are the API's parameter names."""

    endpoint: rules.Endpoint = "generations"
    id_prefix = "options"  # of the controls' ids

    # The choices are the models the deployment offers (set per form); the catalogue says why any other is refused.
    model = forms.CharField(required=False, label="Model", widget=forms.Select)
    prompt = forms.CharField(
        error_messages={"required": "Describe the image you want."},
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": rules.PROMPT_MAX_CHARS,
                                     "placeholder": "Describe the image…"}),
        strip=False,
    )
    size = forms.ChoiceField(choices=SIZE_CHOICES, initial="1024x1024")
    # min matches the step, or browsers would count valid values from 1 (1, 17, 33…) and refuse 1536.
    width = forms.IntegerField(required=False, min_value=rules.SIZE_STEP, initial=1536, label="Width (px)",
                               widget=forms.NumberInput(attrs={"step": rules.SIZE_STEP}))
    height = forms.IntegerField(required=False, min_value=rules.SIZE_STEP, initial=1024, label="Height (px)",
                                widget=forms.NumberInput(attrs={"step": rules.SIZE_STEP}))
    quality = CatalogueChoiceField(known=KNOWN_QUALITIES, initial="auto")
    output_format = CatalogueChoiceField(known=KNOWN_FORMATS, initial="png", label="Format")
    complexity = CatalogueChoiceField(known=KNOWN_COMPLEXITIES, required=False)
    # GIF output only; the range is the model's rule (no Django bounds, so the rule's words are shown).
    frame_count = forms.IntegerField(required=False, label="Frames")
    frame_duration_ms = forms.IntegerField(required=False, label="Frame duration (ms)")
    output_compression = forms.IntegerField(
        min_value=rules.COMPRESSION_MIN, max_value=rules.COMPRESSION_MAX, initial=100, required=False,
        label="Compression", widget=forms.NumberInput(attrs={"type": "range", "step": 1}),
    )
    n = forms.IntegerField(min_value=rules.N_MIN, max_value=rules.N_MAX, initial=1, label="Images")
    background = forms.ChoiceField(choices=_choices(rules.BACKGROUNDS), initial="auto",
                                   widget=SelectWithDisabled)
    partial_images = forms.TypedChoiceField(
        choices=[(0, "Off"), (1, "1 preview"), (2, "2 previews"), (3, "3 previews")],
        coerce=int, initial=2, label="Live previews",
    )

    space = forms.TypedChoiceField(coerce=parse_id, required=False, label="Save to",
                                   help_text="Where the new images go.")
    # One-time key: the same form posted twice (double click, retry after a blip) makes one job.
    submit_key = forms.RegexField(regex=r"^[0-9a-f]{32}$", required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, model: str, destinations: list[Space], models: Sequence[str] = (),
                 **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")  # both forms share the studio page
        super().__init__(*args, **kwargs)
        for name in ("width", "height"):
            self.fields[name].described_by = "size-feedback"
        self.fields["submit_key"].initial = new_submit_key()
        # ``model`` is the deployment's default; ``models`` what it offers besides.
        self.default_model = model
        self.offered_models = offered_models(model, models)
        self.fields["model"].initial = model
        self.fields["model"].widget.choices = [(offered, offered) for offered in self.offered_models]
        # Only spaces the user may generate into are offered, or accepted.
        self.destinations = {space.pk: space for space in destinations}
        self.fields["space"].choices = [(space.pk, space.name) for space in destinations]
        for name in ("size", "quality", "output_format", "background", "partial_images"):
            self.fields[name].required = False  # an omitted option means the API's default
        self.chosen_model = self._chosen_model()
        self.entry = rules.model_entry(self.chosen_model)
        self._fit_options(self.entry)

    def _chosen_model(self) -> str:
        """The model whose options are shown: the one chosen, if offered, else the default."""
        chosen = self.data.get(self.add_prefix("model")) if self.is_bound else self.initial.get("model")
        return chosen if chosen in self.offered_models else self.default_model

    def _fit_options(self, entry: ModelEntry) -> None:
        """Each option offers what the chosen model takes (its catalogue entry)."""
        model = self.chosen_model
        if entry.notes:
            self.fields["model"].help_text = entry.notes
        self.fields["quality"].choices = [(value, QUALITY_LABELS.get(value, value.capitalize()))
                                          for value in (AUTO_QUALITY, *entry.qualities)]
        self.fields["output_format"].choices = [(value, _format_label(value, entry)) for value in entry.output_formats]
        default = f"Default ({entry.complexity_default})" if entry.complexity_default else "Default"
        self.fields["complexity"].choices = [("", default), *_choices(entry.complexity)]
        if entry.gif is not None:
            gif = entry.gif
            for name, low, high, initial in (
                ("frame_count", gif.frame_count_min, gif.frame_count_max, gif.frame_count_default),
                ("frame_duration_ms", gif.frame_duration_ms_min, gif.frame_duration_ms_max,
                 gif.frame_duration_ms_default),
            ):
                self.fields[name].initial = initial
                self.fields[name].widget.attrs.update(min=low, max=high)
            self.fields["frame_count"].help_text = f"{gif.frame_count_min}–{gif.frame_count_max} frames."
            self.fields["frame_duration_ms"].help_text = f"At least {gif.frame_duration_ms_min} ms per frame."
        if not entry.allows_transparency:
            # Shown, with the reason, but not choosable; a request that sends it still gets the reason.
            self.fields["background"].widget.disabled_values = {"transparent"}
            self.fields["background"].help_text = f"Transparent: {rules.TRANSPARENT_UNSUPPORTED}"
        elif entry.transparency == "preview":
            self.fields["background"].choices = [(value, f"{label} (preview)" if value == "transparent" else label)
                                                 for value, label in _choices(rules.BACKGROUNDS)]
            self.fields["background"].help_text = f"Transparent: a preview for {model}; needs PNG or WebP."
        else:
            self.fields["background"].help_text = "Transparent needs PNG or WebP."

    @property
    def offers_complexity(self) -> bool:
        return bool(self.entry.complexity)

    @property
    def offers_gif(self) -> bool:
        return self.entry.gif is not None

    def clean_model(self) -> str:
        model = self.cleaned_data.get("model") or self.default_model
        if model not in self.offered_models:
            entry = entry_for(model)
            if entry is not None and entry.is_shut_down:
                raise forms.ValidationError(entry.shutdown_message(model))
            raise forms.ValidationError(f"{model} is not offered here; choose one of: "
                                        f"{', '.join(self.offered_models)}.")
        return model

    def clean_prompt(self) -> str:
        return self.cleaned_data["prompt"]  # length and emptiness are the rules' to judge

    @property
    def destination(self) -> Space:
        """The space chosen, or the first offered (the personal space) when none was sent."""
        chosen = self.cleaned_data.get("space")
        return self.destinations.get(chosen) or next(iter(self.destinations.values()))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        size = cleaned.get("size") or "auto"
        custom = size == CUSTOM_SIZE
        if custom:
            width, height = cleaned.get("width"), cleaned.get("height")
            if not width or not height:
                self.add_error("size", "Enter a width and a height for a custom size.")
                self._outline_custom_size()
                return cleaned
            size = f"{width}x{height}"
        self.api_request = self._api_request(cleaned, size)
        for error in rules.validate_request(self.api_request, endpoint=self.endpoint):
            message = plain_size_error(size, error.message) if error.param == "size" else error.message
            self.add_error(error.param if error.param in self.fields else None, message)
        if custom and self.has_error("size"):
            self._outline_custom_size()
        return cleaned

    def _outline_custom_size(self) -> None:
        """A custom size's error sits under the size group; mark width and height invalid too, so
        the fields typed into are outlined and announced (as the live feedback does)."""
        for name in ("width", "height"):
            self.fields[name].widget.attrs["aria-invalid"] = "true"

    def _api_request(self, cleaned: dict[str, Any], size: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": cleaned.get("model") or self.default_model,
            "prompt": cleaned["prompt"],
            "n": cleaned["n"],
            "size": size,
            "quality": cleaned.get("quality") or "auto",
            "output_format": cleaned.get("output_format") or "png",
            "background": cleaned.get("background") or "auto",
        }
        if cleaned.get("complexity"):  # sent as chosen: a model without it refuses it, next to the field
            request["complexity"] = cleaned["complexity"]
        if request["output_format"] in rules.COMPRESSIBLE_FORMATS and cleaned.get("output_compression") is not None:
            request["output_compression"] = cleaned["output_compression"]
        if request["output_format"] == "gif":
            # Frames only with GIF (the fields stay filled in while another format is chosen); a GIF
            # has no live previews, so that option, hidden meanwhile, is not sent either.
            for name in ("frame_count", "frame_duration_ms"):
                if cleaned.get(name) is not None:
                    request[name] = cleaned[name]
        elif cleaned.get("partial_images"):
            request["partial_images"] = cleaned["partial_images"]
        return request

    @classmethod
    def initial_for_model(cls, values: Mapping[str, str], *, model: str) -> dict[str, Any]:
        """Option values carried over to ``model`` (the picker switched): those the model takes
        are kept, the others left out, so they start again from their defaults."""
        entry = rules.model_entry(model)
        takes: dict[str, Any] = {
            "quality": entry.accepted_qualities, "output_format": entry.output_formats,
            "complexity": entry.complexity, "background": rules.BACKGROUNDS,
            "input_fidelity": rules.INPUT_FIDELITIES if entry.input_fidelity else (),
        }
        initial: dict[str, Any] = {"model": model}
        for name, value in values.items():
            if name not in cls.base_fields or name not in OPTION_FIELDS:
                continue
            if name in takes and value not in takes[name]:
                continue
            if name in ("frame_count", "frame_duration_ms") and entry.gif is None:
                continue
            initial[name] = value
        if initial.get("background") == "transparent" and not entry.allows_transparency:
            del initial["background"]
        return initial

    @classmethod
    def initial_from_request(cls, request: dict[str, Any]) -> dict[str, Any]:
        """Form values that reproduce an earlier request (remix, fix and resubmit)."""
        initial = {name: value for name, value in request.items() if name in cls.base_fields}
        size = request.get("size", "auto")
        if size not in PRESET_SIZES and (parsed := rules.parse_size(size)):
            initial.update(size=CUSTOM_SIZE, width=parsed[0], height=parsed[1])
        initial.setdefault("partial_images", 0)
        return initial


class GenerateForm(ImageOptionsForm):
    endpoint = "generations"
    id_prefix = "gen"

    moderation = forms.ChoiceField(choices=_choices(rules.MODERATIONS), initial="auto", required=False)

    def _api_request(self, cleaned: dict[str, Any], size: str) -> dict[str, Any]:
        return {**super()._api_request(cleaned, size), "moderation": cleaned.get("moderation") or "auto"}


@dataclass(frozen=True)
class InputItem:
    """One input of an edit as the form lists it: a gallery image, an input kept from an earlier
    edit, or (``file_index`` set) the k-th file of the upload field, which only the browser holds."""

    token: str
    name: str = ""
    thumbnail_url: str = ""
    full_url: str = ""
    file_index: int | None = None


class InputTokensField(forms.Field):
    """The edit's inputs in the order the user arranged them, one hidden value each:
    ``gallery:<image>``, ``stored:<input image>`` or ``upload:<k>`` (the k-th uploaded file).
    Values of another shape are dropped, as are repeats."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[tuple[str, int]]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        tokens: list[tuple[str, int]] = []
        for text in values:
            match = INPUT_TOKEN.fullmatch(str(text).strip())
            # Gallery images and stored inputs are ids; an upload's number is its place among the files.
            number = int(match[2]) if match and match[1] == "upload" else parse_id(match and match[2])
            if match and number is not None and number <= MAX_ID and (token := (match[1], number)) not in tokens:
                tokens.append(token)
        return tokens[: rules.EDIT_IMAGES_MAX * 2]  # room for every kind, and no more


class EditForm(ImageOptionsForm):
    endpoint = "edits"
    id_prefix = "edit"
    max_inputs = rules.EDIT_IMAGES_MAX
    blank_input_item = InputItem(token="")  # the markup the browser copies for a file it adds

    image = MultipleImageField(
        required=False, label="Input images",
        help_text="1–16 PNG, WebP or JPEG images under 50 MB. The mask applies to the first.",
        widget=MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/webp", "multiple": True}),
    )
    mask = forms.FileField(
        required=False,
        help_text="Optional PNG with transparency, the size of the first image: "
                  "transparent pixels mark where to edit.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
    )
    # Gallery images ("Edit", "Continue from here", "Pick from gallery"), the kept inputs of an
    # earlier edit (fix and resubmit without uploading again) and uploads, in the user's order.
    inputs = InputTokensField(required=False)
    # The kept mask of an earlier edit.
    mask_image = forms.TypedChoiceField(coerce=parse_id, required=False, empty_value=None, widget=forms.HiddenInput)
    # Only models that take it show it (none of the current ones: 2.x always uses high fidelity).
    input_fidelity = CatalogueChoiceField(known=frozenset(rules.INPUT_FIDELITIES), required=False,
                                          choices=[("", "Default"), *_choices(rules.INPUT_FIDELITIES)])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["size"].initial = "auto"
        self.fields["mask"].optional_mark = True
        self.tokens = self._tokens()
        self.gallery_images = {image.pk: image for image in visible_images(user).filter(
            pk__in=[pk for kind, pk in self.tokens if kind == "gallery"])}
        self.stored_inputs = {item.pk: item for item in visible_input_images(user).filter(
            pk__in=[pk for kind, pk in self.tokens if kind == "stored"], role=InputImage.Role.IMAGE)}
        self.stored_masks = list(visible_input_images(user).filter(
            pk__in=self._mask_ids(), role=InputImage.Role.MASK))
        # Any id is a valid choice: one the user may not use gets its reason beside the mask field.
        self.fields["mask_image"].choices = [("", ""), *((pk, str(pk)) for pk in self._mask_ids())]
        self.uploads: list[Upload] = []
        self.mask_upload: Upload | None = None

    @property
    def offers_input_fidelity(self) -> bool:
        return self.entry.input_fidelity

    def _api_request(self, cleaned: dict[str, Any], size: str) -> dict[str, Any]:
        request = super()._api_request(cleaned, size)
        if cleaned.get("input_fidelity"):  # sent as chosen: a model without it refuses it, next to the field
            request["input_fidelity"] = cleaned["input_fidelity"]
        return request

    def _tokens(self) -> list[tuple[str, int]]:
        raw = self.data.getlist("inputs") if self.is_bound else self.initial.get("inputs") or []
        return self.fields["inputs"].to_python(raw)

    def _mask_ids(self) -> list[int]:
        value = self.data.get("mask_image") if self.is_bound else self.initial.get("mask_image")
        number = parse_id(str(value or ""))
        return [number] if number is not None else []

    @property
    def unavailable_inputs(self) -> int:
        """Listed inputs the user may no longer use (moved to the trash, or no longer shared)."""
        known = {"gallery": self.gallery_images, "stored": self.stored_inputs}
        return sum(1 for kind, pk in self.tokens if kind in known and pk not in known[kind])

    @property
    def input_items(self) -> list[InputItem]:
        """The inputs to show, in order; uploads appear as places the browser fills with its files."""
        items = []
        for kind, pk in self.tokens:
            if kind == "gallery" and (image := self.gallery_images.get(pk)):
                items.append(InputItem(
                    token=f"gallery:{pk}", name=image.prompt[:80] or image.download_name,
                    thumbnail_url=reverse("gallery:thumbnail", args=[pk]),
                    full_url=reverse("gallery:original", args=[pk])))
            elif kind == "stored" and (stored := self.stored_inputs.get(pk)):
                url = reverse("gallery:input_file", args=[pk])
                items.append(InputItem(token=f"stored:{pk}", name=stored.original_name or f"Input {pk}",
                                       thumbnail_url=url, full_url=url))
            elif kind == "upload" and self.is_bound:
                items.append(InputItem(token=f"upload:{pk}", file_index=pk))
        return items

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        files: list[Upload] = []
        for uploaded in cleaned.get("image") or []:
            upload = _read_uploaded_file(uploaded)
            if isinstance(upload, str):
                self.add_error("image", upload)
                return cleaned
            files.append(upload)
        if missing := self.unavailable_inputs:
            self.add_error("image", f"{missing} of the chosen images {'is' if missing == 1 else 'are'} no longer "
                                    "available to you (moved to the trash or no longer shared) and left out.")
        uploads = self._ordered_uploads(files)
        mask = next((_read_stored(item) for item in self.stored_masks
                     if item.pk == cleaned.get("mask_image")), None)
        if cleaned.get("mask_image") and mask is None and not cleaned.get("mask"):
            self.add_error("mask", "The earlier edit's mask is no longer available to you: paint or upload one, "
                                   "or edit without.")
        if cleaned.get("mask"):
            mask = _read_uploaded_file(cleaned["mask"])
            if isinstance(mask, str):
                self.add_error("mask", mask)
                return cleaned
        for error in rules.validate_edit_inputs([u.info for u in uploads], mask.info if mask else None,
                                                output_format=cleaned.get("output_format") or "png"):
            self.add_error(error.param, error.message)
        self.uploads, self.mask_upload = uploads, mask
        return cleaned

    def _ordered_uploads(self, files: list[Upload]) -> list[Upload]:
        """Every input in the order listed; files the list does not name follow, as chosen."""
        ordered: list[Upload] = []
        placed: set[int] = set()
        for kind, pk in self.tokens:
            if kind == "gallery" and (image := self.gallery_images.get(pk)):
                ordered.append(_read_source(image))
            elif kind == "stored" and (stored := self.stored_inputs.get(pk)):
                ordered.append(_read_stored(stored))
            elif kind == "upload" and pk < len(files):
                ordered.append(files[pk])
                placed.add(pk)
        return ordered + [upload for index, upload in enumerate(files) if index not in placed]


def _read_uploaded_file(uploaded: UploadedFile) -> Upload | str:
    """The upload's bytes and what they are, or the reason they cannot be used."""
    name = uploaded.name or "upload"
    if uploaded.size is not None and uploaded.size >= rules.MAX_INPUT_BYTES:
        size_mb = uploaded.size / (1024 * 1024)
        return f"“{name}” is {size_mb:.1f} MB; each file must be under 50 MB."
    # Never read whole: a 48 MB upload stays in its temporary file, inspected and stored in chunks.
    try:
        info = inspect_image(uploaded)
    except DecompressionBomb:
        return f"“{name}” claims an enormous number of pixels and was refused as unsafe."
    if info.format is None:
        return f"“{name}” is not an image that can be read (PNG, WebP or JPEG)."
    return Upload(data=uploaded, info=info, name=name)


def _read_source(image: Any) -> Upload:
    handle = image.file.open("rb")  # stays open until the job's input is stored from it
    return Upload(data=handle, info=inspect_image(handle), name=image.download_name, source_image=image)


def _read_stored(input_image: InputImage) -> Upload:
    with input_image.file.open("rb") as handle:
        info = inspect_image(handle)  # reused as stored: only what it is, not its bytes, is needed
    return Upload(data=b"", info=info, name=input_image.original_name, stored=input_image)
