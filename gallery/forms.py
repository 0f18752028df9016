"""Gallery forms: the filters of a gallery view, and every POST the gallery takes (organising,
bulk actions, share links). Ids are parsed by ``teams.ids``: a malformed one is a form error,
which the views answer like an id nobody may see (a 404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from imageapi.catalogue import MODELS
from teams.ids import IdField, IdListField, parse_id
from teams.permissions import User, visible_spaces

from .permissions import visible_collections

# Every quality and format a catalogue model has (retired ones included: their images stay).
IMAGE_QUALITIES = tuple(dict.fromkeys(quality for entry in MODELS for quality in entry.qualities))
IMAGE_FORMATS = tuple(dict.fromkeys(fmt for entry in MODELS for fmt in entry.output_formats))


class GalleryFilterForm(forms.Form):
    """What a gallery view can be narrowed to. Everything lives in the URL, so a view can be
    bookmarked and shared with the team; values that do not parse are ignored."""

    q = forms.CharField(required=False, max_length=200, label="Search prompts",
                        widget=forms.SearchInput(attrs={"placeholder": "Search prompts…"}))
    space = forms.TypedChoiceField(coerce=parse_id, required=False, empty_value=None, label="Space")
    creator = forms.TypedChoiceField(coerce=parse_id, required=False, empty_value=None, label="Created by")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    size = forms.CharField(required=False, max_length=16,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. 1024x1024"}))
    quality = forms.ChoiceField(required=False,
                                choices=[("", "Any quality"), *((q, q) for q in IMAGE_QUALITIES)])
    model = forms.CharField(required=False, max_length=64,
                            widget=forms.TextInput(attrs={"placeholder": "e.g. gpt-image-2"}))
    format = forms.ChoiceField(required=False, choices=[("", "Any format"), *((f, f.upper()) for f in IMAGE_FORMATS)])
    favourite = forms.BooleanField(required=False, label="Favourites only")
    collection = forms.TypedChoiceField(coerce=parse_id, required=False, empty_value=None)
    tag = forms.CharField(required=False, max_length=50)
    # Bounded like the model's column, so an absurd value is a form error, not a database one.
    cost_min = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=8, label="Cost from $",
                                  widget=forms.NumberInput(attrs={"step": "any"}))
    cost_max = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=8, label="Cost to $",
                                  widget=forms.NumberInput(attrs={"step": "any"}))
    sort = forms.ChoiceField(required=False, choices=[("newest", "Newest"), ("oldest", "Oldest"),
                                                       ("cost", "Most expensive")])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "f-%s")
        super().__init__(*args, **kwargs)
        for name in ("q", "space", "quality", "format"):
            self.fields[name].hide_label = True  # the bar's controls say what they are
        spaces = list(visible_spaces(user).order_by("kind", "name"))
        self.fields["space"].choices = [("", "All spaces"), *((s.pk, s.name) for s in spaces)]
        collections = visible_collections(user).select_related("space").order_by("name")
        self.fields["collection"].choices = [("", "Any collection"), *((c.pk, c.name) for c in collections)]
        # The people of the user's spaces (not a scan of their images, which grows with the gallery).
        creators = get_user_model().objects.filter(
            Q(pk=user.pk) | Q(memberships__space__in=[s for s in spaces if s.is_team])).distinct().order_by("username")
        self.fields["creator"].choices = [("", "Anyone"), *((u.pk, u.get_username()) for u in creators)]

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (invalid ones are dropped, not fatal)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items()
                if name not in self.errors and value is not None and value != "" and value is not False}


# -- organising -------------------------------------------------------------------------------


class NextForm(forms.Form):
    """Where a POST returns to (the views keep only a path on this site)."""

    next = forms.CharField(required=False, max_length=2000)



class FavouriteForm(forms.Form):
    favourite = forms.CharField(required=False)  # "1" marks a favourite; anything else unmarks

    @property
    def is_favourite(self) -> bool:
        return self.cleaned_data.get("favourite") == "1"


def tag_names(text: str) -> list[str]:
    """The names of a comma-separated list, as typed (``services.tags_add`` normalises them)."""
    return text.split(",")


class TagAddForm(forms.Form):
    tags = forms.CharField(required=False, max_length=1000, strip=False)

    @property
    def names(self) -> list[str]:
        return tag_names(self.cleaned_data.get("tags", ""))


class TagRemoveForm(forms.Form):
    tag = forms.CharField(required=False, max_length=200, strip=False)


class CollectionForm(forms.Form):
    space = IdField()
    name = forms.CharField(max_length=100, error_messages={"required": "Give the collection a name."})


BULK_LIMIT = 500  # images one bulk action may name


class BulkForm(forms.Form):
    """One action on the selected images (``image``, repeated)."""

    action = forms.ChoiceField(choices=[(name, name) for name in (
        "zip", "collect", "uncollect", "tag", "trash", "restore", "purge")])
    image = IdListField(limit=BULK_LIMIT)
    collection = IdField(required=False)
    tags = forms.CharField(required=False, max_length=1000, strip=False)

    @property
    def tag_names(self) -> list[str]:
        return tag_names(self.cleaned_data.get("tags", ""))


# -- share links ------------------------------------------------------------------------------

SHARE_DAYS_DEFAULT = 7
SHARE_DURATIONS = [(1, "For 1 day"), (7, "For 7 days"), (30, "For 30 days"), (90, "For 90 days")]


class ShareLinkForm(forms.Form):
    """A share link to one image or one collection. Any whole number of days is taken (the
    service keeps it between a day and a year); the page offers the usual ones."""

    image = IdField(required=False, widget=forms.HiddenInput)
    collection = IdField(required=False, widget=forms.HiddenInput)
    days = forms.CharField(required=False, initial=SHARE_DAYS_DEFAULT, label="Link valid for",
                           widget=forms.Select(choices=SHARE_DURATIONS))
    show_prompt = forms.BooleanField(required=False, label="Show prompts")

    def clean_days(self) -> int:
        try:
            return int(self.cleaned_data.get("days") or SHARE_DAYS_DEFAULT)
        except ValueError:
            return SHARE_DAYS_DEFAULT

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("image") and not cleaned.get("collection"):
            raise forms.ValidationError("Choose an image or a collection to share.")
        return cleaned
