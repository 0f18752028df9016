"""Every form field is drawn by {{ field.as_field_group }} through templates/forms/field.html
(studio.rendering): its label names its control, and its help, its errors and any live feedback
are tied to it for screen readers."""

from __future__ import annotations

import os
import re

import pytest

from gallery.forms import GalleryFilterForm
from studio.forms import EditForm, GenerateForm
from teams.services import personal_space

pytestmark = pytest.mark.django_db


def _control(html: str, control_id: str) -> str:
    match = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{control_id}"[^>]*>', html)
    assert match, f"no control with id {control_id}"
    return match.group(0)


def test_a_field_with_an_error_points_at_it_and_at_its_help(alice):
    space = personal_space(user=alice)
    form = GenerateForm(data={"prompt": "", "space": str(space.pk)}, model="gpt-image-2", destinations=[space])
    assert not form.is_valid()
    html = form["prompt"].as_field_group()
    assert '<label for="gen-prompt">Prompt</label>' in html
    control = _control(html, "gen-prompt")
    assert 'aria-invalid="true"' in control and 'aria-describedby="gen-prompt_error"' in control
    assert '<div class="error" id="gen-prompt_error"><p>Describe the image you want.</p></div>' in html
    space_html = form["space"].as_field_group()
    assert 'aria-describedby="gen-space_helptext"' in _control(space_html, "gen-space")
    assert 'id="gen-space_helptext">Where the new images go.</p>' in space_html


def test_the_two_studio_forms_never_share_an_id_and_sizes_point_at_their_feedback(alice):
    space = personal_space(user=alice)
    generate = GenerateForm(model="gpt-image-2", destinations=[space])
    edit = EditForm(model="gpt-image-2", destinations=[space], user=alice)
    assert 'aria-describedby="gen-size-feedback"' in _control(generate["width"].as_field_group(), "gen-width")
    assert 'aria-describedby="edit-size-feedback"' in _control(edit["height"].as_field_group(), "edit-height")
    mask = edit["mask"].as_field_group()
    assert 'Mask <span class="optional">optional</span>' in mask
    assert 'data-preview="edit-mask-previews"' in _control(mask, "edit-mask")
    assert '<ul class="file-previews" id="edit-mask-previews" hidden></ul>' in mask


def test_the_gallery_bar_hides_labels_only_from_sight(alice):
    form = GalleryFilterForm(user=alice)
    search = form["q"].as_field_group()
    assert '<label for="f-q" class="visually-hidden">Search prompts</label>' in search
    assert 'type="search"' in _control(search, "f-q")
    assert 'inputmode="decimal"' in _control(form["cost_min"].as_field_group(), "f-cost_min")
    favourite = form["favourite"].as_field_group()
    assert 'class="field field-check field-favourite"' in favourite and 'type="checkbox"' in favourite


def test_unit_tests_run_with_djangos_async_safety_check_on():
    # Only the browser fixture may turn it off, and only while the browser is open.
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
