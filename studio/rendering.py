"""How every form field is drawn: Django's form field templates (``{{ field.as_field_group }}``)
with the project's ``templates/forms/field.html``, so labels, help and errors come from one place.

Forms stay free of presentation code: a form names its id prefix (``auto_id``, e.g. "gen-%s", as
both studio forms share a page) and a field may carry three plain attributes the template reads:
``hide_label`` (the label is for screen readers only), ``optional_mark`` (says "optional" in the
label) and ``described_by`` (the id, without the form's prefix, of another element describing the
control, such as live feedback).
"""

from __future__ import annotations

from typing import Any

from django.forms import FileInput, NumberInput
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting


class FieldGroupBoundField(BoundField):
    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if isinstance(widget, NumberInput) and widget.input_type == "number":
            # Phone keyboards with digits (and a decimal point for amounts).
            decimal = getattr(self.field, "decimal_places", None) is not None
            attrs.setdefault("inputmode", "decimal" if decimal else "numeric")
        if isinstance(widget, FileInput) and self.auto_id and not widget.allow_multiple_selected:
            attrs.setdefault("data-preview", f"{self.auto_id}-previews")  # where studio.js shows the file
        return attrs

    @property
    def aria_describedby(self) -> str | None:
        ids = [super().aria_describedby or ""]
        if (extra := getattr(self.field, "described_by", None)) and self.form.auto_id:
            ids.append(str(self.form.auto_id) % extra)
        return " ".join(part for part in ids if part) or None


class FormRenderer(TemplatesSetting):
    """Templates from the project's engine (so templates/forms/field.html is found)."""

    field_template_name = "forms/field.html"
    bound_field_class = FieldGroupBoundField
