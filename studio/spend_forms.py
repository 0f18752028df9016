"""The spend pages' filters (the studio's other forms are in ``forms.py``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from .ledger import Period
from .spending import budget_zone


class SpendFilterForm(forms.Form):
    """The spend page's filters, all in the URL: a month, or a from–to range of days (in the
    budget time zone), and optionally one member, model or space."""

    MAX_DAYS = 5 * 366  # a range longer than this is refused: its ledger would be unbounded

    month = forms.CharField(required=False, label="Month",
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    member = forms.ChoiceField(required=False, label="Member")
    model = forms.ChoiceField(required=False, label="Model")
    space = forms.TypedChoiceField(required=False, label="Space", coerce=int, empty_value=None)

    def __init__(self, *args: Any, members: list[str] | None = None, models: list[str] | None = None,
                 spaces: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:  # the month shown is the one the page shows
            self.initial.setdefault("month", f"{_today():%Y-%m}")
        for name, values in (("member", members), ("model", models)):
            if values is None:
                del self.fields[name]
            else:
                self.fields[name].choices = [("", "Everyone" if name == "member" else "All models"),
                                             *((value, value) for value in values)]
        if spaces is None:
            del self.fields["space"]
        else:
            self.fields["space"].choices = [("", "All spaces"), *spaces]

    def clean_month(self) -> date | None:
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
            raise forms.ValidationError("Enter a month as YYYY-MM, for example 2026-03.")
        return date(int(match[1]), int(match[2]), 1)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if (since is None) != (until is None) and not self.has_error("since") and not self.has_error("until"):
            missing = "until" if since else "since"
            self.add_error(missing, "Enter both ends of the range, or choose a month instead.")
        elif since and until:
            if until < since:
                self.add_error("until", "The end of the range comes before its start.")
            elif (until - since).days >= self.MAX_DAYS:
                self.add_error("until", "Choose a range of at most five years.")
        return cleaned

    def period(self) -> Period:
        """The period chosen, or this month when none is (or the choice is invalid)."""
        cleaned = self.cleaned_data if self.is_valid() else {}
        if cleaned.get("since") and cleaned.get("until"):
            return Period.days(cleaned["since"], cleaned["until"])
        if cleaned.get("month"):
            return Period.month_of(cleaned["month"])
        return Period.month_of(_today())

    def filters(self) -> dict[str, Any]:
        """The member, model and space chosen (each empty when none is)."""
        cleaned = self.cleaned_data if self.is_valid() else {}
        return {name: cleaned.get(name) or None for name in ("member", "model", "space") if name in self.fields}


def _today() -> date:
    return timezone.localtime(timezone=budget_zone()).date()
