"""The model picker (issue 11): the generate and edit forms offer the deployment's models, fit
their options to the chosen one (the catalogue's rules, each refusal next to its field), refit
them when another is picked (studio:options), and the live estimate uses its token rule."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from studio.forms import GenerateForm
from studio.models import Job
from tests.factories import make_png

pytestmark = pytest.mark.django_db

EVERY_ACTIVE = ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.6-flare",
                "gpt-image-2.6-sunburst"]
BASE = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low", "output_format": "png",
        "n": "1", "background": "auto", "moderation": "auto", "partial_images": "0"}


def _form(alice_space, **data: str) -> GenerateForm:
    return GenerateForm(data={**BASE, **data}, model="gpt-image-2", models=EVERY_ACTIVE, destinations=[alice_space])


def _options(html: str, name: str) -> list[str]:
    """The values a select of the page or fragment offers (enabled ones only)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no {name} select"
    return re.findall(r'<option value="([^"]*)"(?![^>]*disabled)', select.group(1))


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("in.png", make_png(), "image/png")


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    chosen = select and re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return chosen.group(1) if chosen else None


# -- the form, per model ----------------------------------------------------------------------


def test_the_picker_offers_the_deployments_models_starting_at_the_default(alice_client, settings):
    html = alice_client.get("/").content.decode()
    assert _options(html, "model") == EVERY_ACTIVE
    assert _selected(html, "model") == "gpt-image-2"
    settings.STUDIO_MODELS = ["gpt-image-2", "gpt-image-2.5-flare"]
    settings.STUDIO_MODEL = "gpt-image-2.5-flare"
    html = alice_client.get("/").content.decode()
    assert _options(html, "model") == ["gpt-image-2.5-flare", "gpt-image-2"]
    assert _selected(html, "model") == "gpt-image-2.5-flare"


@pytest.mark.parametrize(("model", "qualities", "formats", "complexity", "frames"), [
    ("gpt-image-2", ["auto", "low", "medium", "high"], ["png", "jpeg", "webp"], False, False),
    ("gpt-image-2.5-flare", ["auto", "low", "medium", "high", "xhigh", "max"], ["png", "jpeg", "webp"], False, False),
    ("gpt-image-2.6-sunburst", ["auto", "low", "medium", "high", "xhigh", "max"], ["png", "jpeg", "webp", "gif"],
     True, True),
])
def test_the_options_offered_follow_the_chosen_model(alice_space, model, qualities, formats, complexity, frames):
    form = GenerateForm(initial={"model": model}, model="gpt-image-2", models=EVERY_ACTIVE, destinations=[alice_space])
    html = str(form["quality"]) + str(form["output_format"])
    assert _options(html, "quality") == qualities
    assert _options(html, "output_format") == formats
    assert form.offers_complexity is complexity and form.offers_gif is frames


@pytest.mark.parametrize(("model", "fields", "field", "words"), [
    ("gpt-image-2", {"complexity": "low"}, "complexity", "complexity is not supported for gpt-image-2."),
    ("gpt-image-2", {"quality": "xhigh"}, "quality", "Invalid value 'xhigh' for quality for gpt-image-2."),
    ("gpt-image-2.5-flare", {"complexity": "high"}, "complexity", "not supported for gpt-image-2.5-flare"),
    ("gpt-image-2.5-flare", {"output_format": "gif"}, "output_format", "Invalid value 'gif' for output_format"),
    ("gpt-image-2.5-flare", {"background": "transparent", "output_format": "jpeg"}, "background",
     "needs the png or webp output format"),
    ("gpt-image-2", {"background": "transparent", "output_format": "jpeg"}, "background", "png or webp"),
    ("gpt-image-2.6-flare", {"background": "transparent"}, "background", "not supported for this model"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_count": "40"}, "frame_count",
     "frame_count must be between 2 and 16; got 40."),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_duration_ms": "5"}, "frame_duration_ms", "between 20"),
    ("gpt-image-2.6-flare", {"complexity": "extreme"}, "complexity", "Select a valid choice"),
    ("gpt-image-1", {}, "model", "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2."),
    ("dall-e-9", {}, "model", "dall-e-9 is not offered here; choose one of: gpt-image-2, gpt-image-2.5-flare"),
])
def test_what_the_model_lacks_is_refused_next_to_the_field(alice_space, model, fields, field, words):
    form = _form(alice_space, model=model, **fields)
    assert not form.is_valid()
    assert any(words in message for message in form.errors.get(field, [])), form.errors


@pytest.mark.parametrize(("model", "fields", "sent"), [
    ("gpt-image-2.5-flare", {"quality": "xhigh"}, {"quality": "xhigh"}),
    ("gpt-image-2.5-sunburst", {"quality": "max", "background": "transparent"},
     {"quality": "max", "background": "transparent"}),
    ("gpt-image-2", {"background": "transparent", "output_format": "webp"}, {"background": "transparent"}),
    ("gpt-image-2.6-flare", {"complexity": "low"}, {"complexity": "low"}),
    # GIF: the frames go with it, the live previews (hidden meanwhile) do not.
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_count": "4", "frame_duration_ms": "120",
                             "partial_images": "2"},
     {"output_format": "gif", "frame_count": 4, "frame_duration_ms": 120}),
    # Frames filled in while another format is chosen stay out of the request.
    ("gpt-image-2.6-flare", {"output_format": "png", "frame_count": "4", "partial_images": "1"},
     {"output_format": "png", "partial_images": 1}),
])
def test_what_the_model_takes_is_accepted_and_sent(alice_space, model, fields, sent):
    form = _form(alice_space, model=model, **fields)
    assert form.is_valid(), form.errors
    assert form.api_request["model"] == model
    assert sent.items() <= form.api_request.items()
    if "frame_count" not in sent:
        assert "frame_count" not in form.api_request
    if fields.get("output_format") == "gif":
        assert "partial_images" not in form.api_request


def test_input_fidelity_is_refused_on_2x_edits_next_to_the_field(alice_client):
    data = {**BASE, "size": "auto", "model": "gpt-image-2.5-flare", "input_fidelity": "high"}
    response = alice_client.post("/edit/", {**data, "image": [_upload()]})
    assert response.status_code == 400 and not Job.objects.exists()
    form = response.context["edit_form"]
    assert "input_fidelity is not supported for gpt-image-2.5-flare" in form.errors["input_fidelity"][0]
    assert 'name="input_fidelity"' in response.content.decode()  # shown only with its error
    assert not form.offers_input_fidelity
    assert 'name="input_fidelity"' not in alice_client.get("/?mode=edit").content.decode()


# -- submit -------------------------------------------------------------------------------------


def test_the_job_is_created_with_the_chosen_model_and_its_card_shows_it(alice_client):
    data = {**BASE, "model": "gpt-image-2.6-flare", "quality": "xhigh", "complexity": "medium"}
    response = alice_client.post("/generate/", data, HTTP_HX_REQUEST="true")
    job = Job.objects.get()
    assert job.model == job.request["model"] == "gpt-image-2.6-flare"
    assert job.request["quality"] == "xhigh" and job.request["complexity"] == "medium"
    assert '<span class="job-model">gpt-image-2.6-flare</span>' in response.content.decode()
    assert _selected(response.content.decode(), "model") == "gpt-image-2.6-flare"  # the form keeps the choice


def test_an_edit_is_created_with_the_chosen_model(alice_client):
    data = {**BASE, "size": "auto", "model": "gpt-image-2.5-sunburst", "quality": "max"}
    data.pop("moderation")
    alice_client.post("/edit/", {**data, "image": [_upload()]})
    job = Job.objects.get()
    assert (job.kind, job.model, job.request["quality"]) == ("edit", "gpt-image-2.5-sunburst", "max")


def test_without_script_a_stale_option_is_refused_next_to_its_field_and_the_page_fits_the_model(alice_client):
    # The model was switched to gpt-image-2 with no script to refit the options: complexity stayed.
    response = alice_client.post("/generate/", {**BASE, "model": "gpt-image-2", "complexity": "low"})
    assert response.status_code == 400 and not Job.objects.exists()
    html = response.content.decode()
    assert escape("complexity is not supported for gpt-image-2.") in html
    assert 'name="complexity"' in html  # shown, so the error sits beside it
    assert "xhigh" not in _options(html, "quality")


def test_a_model_the_deployment_does_not_offer_is_refused(alice_client, settings):
    settings.STUDIO_MODELS = ["gpt-image-2"]
    response = alice_client.post("/generate/", {**BASE, "model": "gpt-image-2.5-flare"})
    assert response.status_code == 400 and not Job.objects.exists()
    assert "gpt-image-2.5-flare is not offered here; choose one of: gpt-image-2." in response.content.decode()


def test_remix_and_resubmit_keep_the_images_model(alice_client, alice):
    from tests.factories import generate_image

    image = generate_image(alice, model="gpt-image-2.5-flare", quality="xhigh")
    html = alice_client.get(f"/?remix={image.pk}").content.decode()
    assert _selected(html, "model") == "gpt-image-2.5-flare" and _selected(html, "quality") == "xhigh"
    html = alice_client.get(f"/?job={image.job_id}").content.decode()
    assert _selected(html, "model") == "gpt-image-2.5-flare"


# -- switching the model: the options fragment -----------------------------------------------


def test_switching_keeps_what_the_new_model_takes_and_resets_the_rest(alice_client):
    current = {"form": "gen", "size": "2048x1152", "n": "3", "quality": "xhigh", "output_format": "gif",
               "complexity": "low", "frame_count": "5", "background": "opaque", "partial_images": "1"}
    html = alice_client.get("/options/", {**current, "model": "gpt-image-2"}).content.decode()
    assert html.lstrip().startswith('<div class="options" id="gen-options">')
    assert _selected(html, "model") == "gpt-image-2"
    assert _selected(html, "size") == "2048x1152" and 'name="n" value="3"' in html
    assert _selected(html, "background") == "opaque" and _selected(html, "partial_images") == "1"
    assert _selected(html, "quality") == "auto" and _selected(html, "output_format") == "png"  # reset
    assert 'name="complexity"' not in html and 'name="frame_count"' not in html
    assert _options(html, "quality") == ["auto", "low", "medium", "high"]

    html = alice_client.get("/options/", {**current, "model": "gpt-image-2.6-flare"}).content.decode()
    assert _selected(html, "quality") == "xhigh" and _selected(html, "output_format") == "gif"
    assert _selected(html, "complexity") == "low" and 'name="frame_count" value="5"' in html
    assert re.search(r'<option value="transparent"[^>]*disabled', html)


def test_transparency_is_labelled_preview_where_the_catalogue_says_so(alice_client):
    preview = alice_client.get("/options/", {"form": "gen", "model": "gpt-image-2"}).content.decode()
    assert '<option value="transparent">Transparent (preview)</option>' in preview
    full = alice_client.get("/options/", {"form": "gen", "model": "gpt-image-2.5-flare"}).content.decode()
    assert '<option value="transparent">Transparent</option>' in full


def test_switching_drops_a_transparent_background_the_model_lacks(alice_client):
    html = alice_client.get("/options/", {"form": "gen", "model": "gpt-image-2.6-sunburst",
                                          "background": "transparent"}).content.decode()
    assert _selected(html, "background") == "auto"
    html = alice_client.get("/options/", {"form": "gen", "model": "gpt-image-2.5-flare",
                                          "background": "transparent"}).content.decode()
    assert _selected(html, "background") == "transparent"


def test_the_edit_forms_options_are_refitted_with_its_own_ids(alice_client):
    html = alice_client.get("/options/", {"form": "edit", "model": "gpt-image-2.5-flare"}).content.decode()
    assert 'id="edit-options"' in html and 'id="edit-quality"' in html and 'name="moderation"' not in html
    assert "max" in _options(html, "quality")


def test_an_unknown_or_unoffered_model_refits_to_the_default(alice_client, settings):
    settings.STUDIO_MODELS = ["gpt-image-2"]
    html = alice_client.get("/options/", {"form": "gen", "model": "gpt-image-2.6-flare",
                                          "quality": "max"}).content.decode()
    assert _options(html, "model") == ["gpt-image-2"] and _selected(html, "quality") == "auto"


def test_the_options_endpoint_needs_a_login(client):
    response = client.get("/options/", {"form": "gen", "model": "gpt-image-2.5-flare"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- the live estimate ----------------------------------------------------------------------


def test_the_estimate_uses_the_chosen_models_token_rule(alice_client):
    html = alice_client.get("/size-check/", {"model": "gpt-image-2.5-flare", "size": "1024x1024",
                                             "quality": "xhigh"}).content.decode()
    assert "3122 output tokens" in html and "$0.0937" in html and "gpt-image-2.5-flare" in html
    assert "approximate" not in html
    medium = alice_client.get("/size-check/", {"model": "gpt-image-2.5-flare", "size": "1024x1024",
                                               "quality": "medium"}).content.decode()
    assert "439 output tokens" in medium  # 2.5's grid, not gpt-image-2's (1756)


def test_an_approximate_rule_says_so_with_its_reason(alice_client):
    html = alice_client.get("/size-check/", {"model": "gpt-image-2.6-flare", "size": "1024x1024",
                                             "quality": "low"}).content.decode()
    assert "824 output tokens" in html  # 196 at 2.5's rule, × 4.2 as measured
    tag = re.search(r'<span class="tag tag-warn" title="([^"]*)" data-approximate>approximate</span>', html)
    assert tag and "OpenAI publishes no formula for 2.6" in tag.group(1)


def test_a_gif_estimate_says_how_its_frames_are_counted(alice_client):
    html = alice_client.get("/size-check/", {"model": "gpt-image-2.6-flare", "size": "1024x1024", "quality": "low",
                                             "output_format": "gif", "frame_count": "16",
                                             "partial_images": "3"}).content.decode()
    # The reference has no per-frame rule: the same tokens as one image, and no live previews.
    assert "824 output tokens" in html
    assert "no published rule says how its frames count" in html


def test_the_estimate_of_a_model_not_offered_is_the_defaults(alice_client, settings):
    settings.STUDIO_MODELS = ["gpt-image-2"]
    html = alice_client.get("/size-check/", {"model": "gpt-image-2.5-flare", "size": "1024x1024",
                                             "quality": "medium"}).content.decode()
    assert "1756 output tokens" in html and "with gpt-image-2" in html
