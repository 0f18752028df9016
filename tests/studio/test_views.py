import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from PIL import Image as PILImage

from gallery.models import Image, InputImage
from studio import services
from studio.models import Job
from tests.factories import make_mask, make_png

pytestmark = pytest.mark.django_db

GENERATE = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low", "output_format": "png",
            "n": "1", "background": "auto", "moderation": "auto", "partial_images": "0"}


def _form(response):
    """The form the user just worked with."""
    return response.context["edit_form" if response.context.get("mode") == "edit" else "generate_form"]


def _errors(response) -> list[str]:
    """Every error of the form the response shows, field errors and the others."""
    return [error for errors in _form(response).errors.values() for error in errors]


def _field_error(response, field: str) -> str:
    """The errors attached to `field` (the template renders them beside it), checked to be on the page."""
    messages = _form(response).errors.get(field)
    assert messages, f"no error on {field}: {_errors(response)}"
    html = response.content.decode()
    for message in messages:
        assert escape(message) in html
    return " ".join(messages)


def _png_upload(name="input.png", data=None, content_type="image/png"):
    return SimpleUploadedFile(name, data if data is not None else make_png(), content_type=content_type)


def _edit_data(**overrides):
    data = {key: value for key, value in GENERATE.items() if key != "moderation"}
    data["size"] = "auto"
    data.update(overrides)
    return data


def test_login_is_required_everywhere_but_login_and_healthz(client):
    for url in ["/", "/gallery/", "/gallery/1/", "/gallery/1/original/", "/jobs/1/", "/size-check/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_studio_page_says_it_runs_on_the_offline_emulator(alice_client):
    html = alice_client.get("/").content.decode()
    assert "Offline emulator" in html
    assert 'name="prompt"' in html and 'name="output_compression"' in html and 'name="image"' in html


def test_studio_page_says_when_it_is_live(alice_client, settings):
    settings.OPENAI_API_KEY = "sk-test-secret-key-1234"
    settings.STUDIO_PROVIDER = "openai"
    html = alice_client.get("/").content.decode()
    assert "Offline emulator" not in html and "Live" in html
    assert "sk-test-secret-key-1234" not in html


def test_generate_creates_a_job_and_returns_at_once(alice_client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post("/generate/", GENERATE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.created_by == alice and job.status == Job.Status.QUEUED
    assert job.request == {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024",
                           "quality": "low", "output_format": "png", "background": "auto", "moderation": "auto"}
    html = response.content.decode()
    assert 'hx-swap-oob="afterbegin:#jobs"' in html and f'id="job-{job.pk}"' in html
    assert 'value="a lighthouse at dusk"' in html or "a lighthouse at dusk</textarea>" in html  # values kept
    assert len(callbacks) == 1  # enqueued on commit


def test_generate_without_htmx_redirects_to_the_studio(alice_client):
    response = alice_client.post("/generate/", GENERATE)
    assert response.status_code == 302 and Job.objects.count() == 1


def test_custom_size_and_compression_reach_the_request(alice_client):
    alice_client.post("/generate/", {**GENERATE, "size": "custom", "width": "1536", "height": "864",
                                     "output_format": "webp", "output_compression": "60", "partial_images": "2"})
    job = Job.objects.get()
    assert job.request["size"] == "1536x864"
    assert job.request["output_compression"] == 60 and job.request["partial_images"] == 2


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"size": "custom", "width": "1000", "height": "1000"}, "size", "must be a multiple of 16"),
    ({"size": "custom", "width": "100", "height": "100"}, "size", "must be a multiple of 16"),
    ({"size": "custom", "width": "4000", "height": "1024"}, "size", "3840"),
    ({"size": "custom", "width": "", "height": ""}, "size", "Enter a width and a height"),
    ({"prompt": "x" * 32_001}, "prompt", "maximum is 32,000"),
    ({"prompt": ""}, "prompt", "Describe the image"),
    ({"n": "11"}, "n", "less than or equal to 10"),
    ({"background": "transparent", "output_format": "jpeg"}, "background", "png or webp"),
    ({"quality": "ultra"}, "quality", "valid choice"),
])
def test_generate_errors_appear_next_to_their_field_with_values_kept(alice_client, overrides, field, words):
    response = alice_client.post("/generate/", {**GENERATE, **overrides}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert words in _field_error(response, field)
    assert not Job.objects.exists()
    if overrides.get("width"):
        assert f'value="{overrides["width"]}"' in response.content.decode()


def test_a_bad_submit_without_htmx_shows_the_whole_page_with_errors(alice_client):
    response = alice_client.post("/generate/", {**GENERATE, "size": "custom", "width": "1000", "height": "1000"})
    assert response.status_code == 400
    assert "must be a multiple of 16" in _field_error(response, "size")


def test_edit_with_uploaded_images_and_mask(alice_client, alice):
    response = alice_client.post("/edit/", {
        **_edit_data(), "image": [_png_upload("a.png"), _png_upload("b.png", make_png(color=(0, 0, 0, 255)))],
        "mask": _png_upload("mask.png", make_mask()),
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, _errors(response)
    job = Job.objects.get()
    assert job.kind == Job.Kind.EDIT and "moderation" not in job.request
    assert [link.input_image.original_name for link in job.job_inputs.all()] == ["a.png", "b.png"]
    assert job.mask.role == InputImage.Role.MASK


def _assert_rejected(response, field, words):
    assert response.status_code == 200
    assert words in _field_error(response, field), _errors(response)
    assert not Job.objects.exists() and not InputImage.objects.exists()


def _bomb() -> bytes:
    """A tiny PNG that claims 60,000 × 60,000 pixels."""
    out = io.BytesIO()
    PILImage.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = (60_000).to_bytes(4, "big") * 2
    import zlib

    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize(("files", "field", "words"), [
    ({"image": []}, "image", "at least one"),
    ({"image": [_png_upload(f"{i}.png") for i in range(17)]}, "image", "At most 16"),
    ({"image": [_png_upload("notes.png", b"this is not an image at all")]}, "image", "not an image"),
    ({"image": [_png_upload("bomb.png", _bomb())]}, "image", "enormous"),
    ({"image": [_png_upload()], "mask": _png_upload("mask.jpg", None, "image/jpeg")}, "mask", None),
    ({"image": [_png_upload()], "mask": _png_upload("mask.png", make_png(mode="RGB"))}, "mask", "alpha"),
    ({"image": [_png_upload()], "mask": _png_upload("mask.png", make_mask(512, 512, hole=(0, 0, 10, 10)))},
     "mask", "same size"),
])
def test_bad_edit_inputs_are_refused_next_to_their_field_leaving_nothing(alice_client, files, field, words):
    if field == "mask" and words is None:
        jpeg = io.BytesIO()
        PILImage.new("RGB", (1024, 1024)).save(jpeg, "JPEG")
        files = {**files, "mask": _png_upload("mask.jpg", jpeg.getvalue(), "image/jpeg")}
        words = "must be a PNG"
    response = alice_client.post("/edit/", {**_edit_data(), **files}, HTTP_HX_REQUEST="true")
    _assert_rejected(response, field, words)


def test_an_upload_of_50_mb_or_more_is_refused(alice_client):
    picture = make_png()
    big = _png_upload("huge.png", picture + bytes(50 * 1024 * 1024 - len(picture)))
    response = alice_client.post("/edit/", {**_edit_data(), "image": [big]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "under 50 MB" in _field_error(response, "image")


def _finished_image(user, **request):
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": "a quiet harbour", "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png", **request})
    services.job_run(job_id=job.pk)
    return job.images.get()


def test_edit_from_the_gallery_uses_the_image_as_first_input(alice_client, alice):
    image = _finished_image(alice)
    page = alice_client.get(f"/?edit={image.pk}").content.decode()
    assert f'name="inputs" value="gallery:{image.pk}"' in page
    assert f'data-full="/gallery/{image.pk}/original/"' in page  # what the mask editor paints over
    alice_client.post("/edit/", {**_edit_data(), "inputs": [f"gallery:{image.pk}"]})
    job = Job.objects.filter(kind=Job.Kind.EDIT).get()
    assert job.job_inputs.get().input_image.source_image == image


def test_someone_elses_image_cannot_be_used_as_an_input(bob_client, alice):
    image = _finished_image(alice)
    assert bob_client.get(f"/?edit={image.pk}").status_code == 404
    assert bob_client.get(f"/?remix={image.pk}").status_code == 404
    response = bob_client.post("/edit/", {**_edit_data(), "inputs": [f"gallery:{image.pk}"]}, HTTP_HX_REQUEST="true")
    assert "no longer available" in _field_error(response, "image")
    assert f"gallery:{image.pk}" not in response.content.decode()  # nothing of it is shown
    assert not Job.objects.filter(kind=Job.Kind.EDIT).exists()


def test_inputs_are_sent_in_the_order_arranged_whatever_their_kind(alice_client, alice):
    first, second = _finished_image(alice), _finished_image(alice)
    response = alice_client.post("/edit/", {
        **_edit_data(), "image": [_png_upload("a.png"), _png_upload("b.png")],
        "inputs": ["upload:1", f"gallery:{second.pk}", "upload:0", f"gallery:{first.pk}"],
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, _errors(response)
    links = list(Job.objects.get(kind=Job.Kind.EDIT).job_inputs.select_related("input_image"))
    assert [(link.input_image.original_name, link.input_image.source_image) for link in links] == [
        ("b.png", None), (second.download_name, second), ("a.png", None), (first.download_name, first)]


def test_files_the_order_does_not_name_follow_and_malformed_entries_are_ignored(alice_client, alice):
    image = _finished_image(alice)
    alice_client.post("/edit/", {
        **_edit_data(), "image": [_png_upload("a.png"), _png_upload("b.png")],
        "inputs": ["upload:1", "upload:7", f"gallery:{image.pk}", f"gallery:{image.pk}", "gallery:x", "http:1"],
    })
    links = Job.objects.get(kind=Job.Kind.EDIT).job_inputs.select_related("input_image")
    assert [link.input_image.original_name for link in links] == ["b.png", image.download_name, "a.png"]


def test_an_image_trashed_since_it_was_chosen_is_named_and_dropped(alice_client, alice):
    from gallery.services import images_trash

    kept, trashed = _finished_image(alice), _finished_image(alice)
    images_trash(user=alice, images=[trashed])
    response = alice_client.post("/edit/", {**_edit_data(), "inputs": [f"gallery:{trashed.pk}", f"gallery:{kept.pk}"]},
                                 HTTP_HX_REQUEST="true")
    assert "1 of the chosen images is no longer available" in _field_error(response, "image")
    html = response.content.decode()
    assert f'value="gallery:{kept.pk}"' in html and f'value="gallery:{trashed.pk}"' not in html
    assert not Job.objects.filter(kind=Job.Kind.EDIT).exists()


def test_a_refused_edit_keeps_the_arranged_order_with_places_for_the_files(alice_client, alice):
    image = _finished_image(alice)
    response = alice_client.post("/edit/", {
        **_edit_data(prompt=""), "image": [_png_upload("a.png")], "inputs": ["upload:0", f"gallery:{image.pk}"],
    }, HTTP_HX_REQUEST="true")
    assert "Describe the image" in _field_error(response, "prompt")
    html = response.content.decode()
    # The browser puts its file back in the first place (static/js/edit-inputs.js).
    assert html.index('data-upload="0"') < html.index(f'value="gallery:{image.pk}"')
    assert "1 of 16" not in html and "2 of 16" in html


def test_remix_prefills_the_form_with_the_images_settings(alice_client, alice):
    image = _finished_image(alice, size="1536x864", quality="high")
    html = alice_client.get(f"/?remix={image.pk}").content.decode()
    assert "a quiet harbour</textarea>" in html
    assert '<option value="custom" selected>' in html and 'value="1536"' in html and 'value="864"' in html
    assert '<option value="high" selected>' in html


def test_a_failed_job_can_be_fixed_and_resubmitted_with_the_error_next_to_its_field(alice_client, alice):
    job = services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "a ship [[fault:moderation]]", "n": 2, "size": "2048x1152",
        "quality": "medium", "output_format": "webp", "output_compression": 70})
    services.job_run(job_id=job.pk)
    card = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "safety system" in card and f"?job={job.pk}" in card
    page = alice_client.get(f"/?job={job.pk}")
    assert "safety system" in " ".join(_form(page).non_field_errors())
    html = page.content.decode()
    assert "a ship [[fault:moderation]]</textarea>" in html and 'value="70"' in html
    assert '<option value="2048x1152" selected>' in html


def test_a_failed_edit_is_resubmitted_without_uploading_again(alice_client, alice):
    alice_client.post("/edit/", {**_edit_data(prompt="swap the sky [[fault:insufficient_quota]]"),
                                 "image": [_png_upload()], "mask": _png_upload("m.png", make_mask())})
    job = Job.objects.get()
    services.job_run(job_id=job.pk)
    page = alice_client.get(f"/?job={job.pk}").content.decode()
    input_id = job.job_inputs.get().input_image_id
    assert f'name="inputs" value="stored:{input_id}"' in page and f'name="mask_image" value="{job.mask_id}"' in page
    alice_client.post("/edit/", {**_edit_data(prompt="swap the sky"), "inputs": [f"stored:{input_id}"],
                                 "mask_image": job.mask_id})
    again = Job.objects.exclude(pk=job.pk).get()
    assert again.job_inputs.get().input_image_id == input_id and again.mask_id == job.mask_id
    assert InputImage.objects.count() == 2  # reused, not copied


def test_job_card_shows_progress_then_images(alice_client, alice):
    job = services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "a fox", "n": 1, "size": "1024x1024", "quality": "low"})
    queued = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Queued" in queued and f'name="live" value="{job.pk}"' in queued and "Cancel" in queued
    assert "hx-trigger" not in queued  # the page polls for it, not the card itself
    services.job_run(job_id=job.pk)
    done = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    image = Image.objects.get()
    assert "Succeeded" in done and 'name="live"' not in done
    assert f"/gallery/{image.pk}/thumbnail/" in done and "$0.0" in done


def _submit_fox(user, prompt="a fox"):
    return services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low"})


def _poll(client, *job_ids):
    return client.get("/jobs/live/", {"live": [str(pk) for pk in job_ids]}, HTTP_HX_REQUEST="true")


def _cards(html: str) -> dict[int, str]:
    """The job cards of a poll's answer, by id, each with its opening tag."""
    return {int(pk): tag for tag, pk in re.findall(r'(<article [^>]*id="job-(\d+)"[^>]*>)', html)}


def test_the_studio_page_has_one_poller_however_many_jobs_run(alice_client, alice):
    jobs = [_submit_fox(alice, f"fox {index}") for index in range(3)]
    html = alice_client.get("/").content.decode()
    assert html.count("hx-trigger=\"every") == 1
    poller = re.search(r'<div id="jobs-live"[^>]*>', html).group(0)
    assert 'hx-get="/jobs/live/"' in poller and 'hx-include="#jobs-live, #jobs [name=live]"' in poller
    assert 'hx-sync="this:drop"' in poller  # a tick while a poll is out is dropped, not queued
    assert sorted(int(pk) for pk in re.findall(r'name="live" value="(\d+)"', html)) == sorted(job.pk for job in jobs)
    assert "reload the page" in html  # without scripting: a <noscript> pointer to reloading


def test_the_studio_page_does_not_poll_when_no_job_is_active(alice_client, alice):
    services.job_run(job_id=_submit_fox(alice).pk)
    html = alice_client.get("/").content.decode()
    assert '<div id="jobs-live">' in html and "hx-trigger=\"every" not in html and 'name="live"' not in html


def test_a_poll_answers_with_the_cards_it_names_out_of_band(alice_client, alice):
    running, finished = _submit_fox(alice, "still running"), _submit_fox(alice, "about to end")
    other = _submit_fox(alice, "not on this page")
    services.job_run(job_id=finished.pk)
    response = _poll(alice_client, running.pk, finished.pk)
    assert response.status_code == 200
    html = response.content.decode()
    cards = _cards(html)
    assert set(cards) == {running.pk, finished.pk} and other.pk not in cards
    assert all('hx-swap-oob="true"' in tag for tag in cards.values())
    assert 'data-status="succeeded"' in cards[finished.pk]  # the final state swaps in
    image = Image.objects.get()
    assert f"/gallery/{image.pk}/thumbnail/" in html
    assert re.search(r'<div id="jobs-live" hx-get="/jobs/live/" hx-trigger="every 1s"', html)  # still polling


def test_the_poll_stops_once_the_last_job_ends(alice_client, alice):
    job = _submit_fox(alice)
    services.job_run(job_id=job.pk)
    html = _poll(alice_client, job.pk).content.decode()
    assert 'data-status="succeeded"' in _cards(html)[job.pk]
    assert '<div id="jobs-live">' in html and "hx-trigger" not in html


def test_a_poll_keeps_going_for_a_job_submitted_while_it_was_under_way(alice_client, alice):
    """A poll sent before a submit landed does not name the new card; it must not stop the polling."""
    ended = _submit_fox(alice, "ended")
    services.job_run(job_id=ended.pk)
    _submit_fox(alice, "just submitted")
    assert "hx-trigger=\"every 1s\"" in _poll(alice_client, ended.pk).content.decode()


def test_a_poll_leaves_out_jobs_the_user_may_not_see(alice_client, bob_client, alice, bob):
    alices = _submit_fox(alice, "alice's fox")
    bobs = _submit_fox(bob, "bob's fox")
    html = _poll(bob_client, alices.pk, bobs.pk, "x", "99999999999999999999999").content.decode()
    assert set(_cards(html)) == {bobs.pk} and "alice&#x27;s fox" not in html and "alice's fox" not in html
    assert _cards(_poll(bob_client, alices.pk).content.decode()) == {}


def test_a_poll_without_htmx_sends_the_browser_to_the_studio(alice_client, alice):
    response = alice_client.get("/jobs/live/", {"live": _submit_fox(alice).pk})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_submit_starts_the_poller_again(alice_client):
    html = alice_client.post("/generate/", GENERATE, HTTP_HX_REQUEST="true").content.decode()
    job = Job.objects.get()
    poller = re.search(r'<div id="jobs-live"[^>]*>', html).group(0)
    assert 'hx-swap-oob="true"' in poller and 'hx-trigger="every 1s"' in poller
    assert f'name="live" value="{job.pk}"' in html


def test_running_job_card_shows_elapsed_time_and_the_latest_partial(alice_client, alice):
    job = services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "a fox", "n": 1, "size": "1024x1024", "quality": "low", "partial_images": 2})
    job.status = Job.Status.RUNNING
    job.started_at = job.created_at
    job.progress = 47
    job.partials_received = 1
    from django.core.files.base import ContentFile

    job.preview.save("p.png", ContentFile(make_png()), save=False)
    job.save()
    card = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'value="47"' in card and "preview 1 of 2" in card and "Running" in card
    preview = alice_client.get(f"/jobs/{job.pk}/preview/")
    assert preview.status_code == 200 and b"".join(preview.streaming_content)[:4] == b"\x89PNG"


def test_cancel_from_the_card(alice_client, alice, bob_client):
    job = services.job_submit_generation(user=alice, request={"model": "gpt-image-2", "prompt": "a fox"})
    assert bob_client.post(f"/jobs/{job.pk}/cancel/").status_code == 404
    response = alice_client.post(f"/jobs/{job.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert "Cancelled" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_jobs_of_others_are_not_found(bob_client, alice):
    job = services.job_submit_generation(user=alice, request={"model": "gpt-image-2", "prompt": "a fox"})
    assert bob_client.get(f"/jobs/{job.pk}/").status_code == 404
    assert bob_client.get(f"/jobs/{job.pk}/preview/").status_code == 404
    assert bob_client.get(f"/?job={job.pk}").status_code == 404
    assert "a fox" not in bob_client.get("/").content.decode()


def test_size_check_explains_the_rule_or_shows_shape_and_cost(alice_client):
    bad = alice_client.get("/size-check/", {"size": "custom", "width": "1000", "height": "1000"}).content.decode()
    assert "Width and height must be a multiple of 16 (1000 and 1000 are not)." in bad
    assert 'data-width="1008" data-height="1008"' in bad and "Use nearest valid size: 1008×1008" in bad
    good = alice_client.get("/size-check/", {"size": "3840x2160", "quality": "high", "n": "2"}).content.decode()
    assert 'viewBox="0 0 3840 2160"' in good and "experimental" in good
    assert "26684" in good and "$0.8005" in good  # 2 × 13342 tokens at $30/M
    auto = alice_client.get("/size-check/", {"size": "auto", "n": "zero"}).content.decode()
    assert "Auto" in auto and "1756" in auto


def test_healthz_reports_database_worker_and_provider(client):
    from django.utils import timezone

    from studio.models import WorkerHeartbeat

    body = client.get("/healthz").json()
    assert body["database"] == "ok" and body["provider"] == "offline"
    assert body["worker"] == {"heartbeat_age_seconds": None, "alive": False}
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=timezone.now())
    assert client.get("/healthz").json()["worker"]["alive"] is True


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "down"


def test_transparent_background_is_offered_for_gpt_image_2_marked_preview(alice_client):
    html = alice_client.get("/").content.decode()
    assert re.search(r'<option value="transparent"(?![^>]*disabled)', html)
    assert "Transparent: a preview for gpt-image-2" in html


def test_transparent_background_is_shown_with_its_reason_where_the_model_lacks_it(alice_client, settings):
    settings.STUDIO_MODEL = "gpt-image-2.6-flare"
    html = alice_client.get("/").content.decode()
    assert re.search(r'<option value="transparent"[^>]*disabled', html)
    assert "Transparent background is not supported" in html


def test_a_kept_mask_the_user_may_not_use_is_explained_beside_the_mask(alice_client, bob_client, alice):
    alice_client.post("/edit/", {**_edit_data(), "image": [_png_upload()], "mask": _png_upload("m.png", make_mask())})
    mask_id = Job.objects.get().mask_id
    response = bob_client.post("/edit/", {**_edit_data(), "image": [_png_upload()], "mask_image": mask_id},
                               HTTP_HX_REQUEST="true")
    assert "no longer available" in _field_error(response, "mask")
    assert f"/gallery/inputs/{mask_id}/" not in response.content.decode()
    assert Job.objects.count() == 1


@pytest.mark.parametrize(("params", "said", "nearest"), [
    ({"width": "1000", "height": "1024"}, "Width must be a multiple of 16 (1000 is not).", "1008×1024"),
    ({"width": "1536", "height": "1030"}, "Height must be a multiple of 16 (1030 is not).", "1536×1024"),
    ({"width": "4096", "height": "2304"}, "The longer edge must be at most 3840 px.", "3840×2160"),
    ({"width": "512", "height": "512"}, "The image must have at least", "816×816"),
    ({"width": "3840", "height": "1008"}, "at most 3 times the short edge", None),
])
def test_size_check_says_the_rule_plainly_and_offers_the_nearest_valid_size(alice_client, params, said, nearest):
    html = alice_client.get("/size-check/", {"size": "custom", **params}).content.decode()
    assert said in html and "Invalid size" not in html
    assert (f"Use nearest valid size: {nearest}" in html) if nearest else ("nearest" not in html)
