"""The admin keeps history as it happened (issue 14): images and jobs are read-only where they record
what was asked, what it cost and which files came back; neither can be added by hand; the space
filter tells personal spaces apart; the lists stay light."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from gallery.models import Image
from studio import services
from studio.models import Job
from teams.services import team_create


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def image(alice):
    job = services.job_submit_generation(user=alice, request={
        "model": "gpt-image-2", "prompt": "A lighthouse in fog", "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png"})
    services.job_run(job_id=job.pk)
    return job.images.get()


def test_images_and_jobs_cannot_be_added_by_hand(staff_client, image):
    assert staff_client.get("/admin/gallery/image/add/").status_code == 403
    assert staff_client.get("/admin/studio/job/add/").status_code == 403
    for listing in ("/admin/gallery/image/", "/admin/studio/job/"):
        html = staff_client.get(listing).content.decode()
        assert "Add image" not in html and "Add job" not in html
        assert f"{listing}add/" not in html


def test_an_images_history_is_shown_not_editable(staff_client, image):
    page = staff_client.get(f"/admin/gallery/image/{image.pk}/change/")
    form = page.context["adminform"].form
    assert set(form.fields) == {"deleted_at", "deleted_by"}  # the trash, nothing of its history
    html = page.content.decode()
    assert "A lighthouse in fog" in html and str(image.output_tokens) in html
    staff_client.post(f"/admin/gallery/image/{image.pk}/change/", {
        "prompt": "rewritten", "cost_usd": "0", "deleted_at_0": "", "deleted_at_1": "", "deleted_by": "",
        "imageinput_set-TOTAL_FORMS": "0", "imageinput_set-INITIAL_FORMS": "0"})
    image.refresh_from_db()
    assert image.prompt == "A lighthouse in fog" and image.cost_usd > 0


def test_a_job_is_view_only(staff_client, image):
    job = image.job
    page = staff_client.get(f"/admin/studio/job/{job.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "A lighthouse in fog" in html and 'name="_save"' not in html
    assert staff_client.post(f"/admin/studio/job/{job.pk}/change/", {"prompt": "rewritten"}).status_code == 403
    assert Job.objects.get(pk=job.pk).prompt == "A lighthouse in fog"


def test_the_space_filter_says_whose_personal_space(staff_client, image, alice, bob):
    team_create(user=bob, name="North")
    services.job_submit_generation(user=bob, request={
        "model": "gpt-image-2", "prompt": "x", "n": 1, "size": "1024x1024", "quality": "low"})
    for listing in ("/admin/gallery/image/", "/admin/studio/job/"):
        html = staff_client.get(listing).content.decode()
        assert "Personal: alice" in html and "Personal: bob" in html and "Team: North" in html
    filtered = staff_client.get("/admin/gallery/image/", {"space": image.space_id})
    assert list(filtered.context["cl"].result_list) == [image]
    assert list(staff_client.get("/admin/studio/job/", {"space": "999999"}).context["cl"].result_list) == []


def test_the_image_list_loads_thumbnails_lazily(staff_client, image):
    html = staff_client.get("/admin/gallery/image/").content.decode()
    assert f'src="/admin/gallery/image/{image.pk}/thumbnail/" alt="" width="96" height="96" loading="lazy"' in html
    preview = staff_client.get(f"/admin/gallery/image/{image.pk}/thumbnail/")
    picture = PILImage.open(io.BytesIO(preview.content))
    assert preview["Content-Type"] == "image/webp" and max(picture.size) == 192  # sharp at 96 px on 2x screens
    assert Image.objects.count() == 1
