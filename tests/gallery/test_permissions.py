"""Two users, each in their own space: nothing of one is reachable by the other, by any path."""

import pytest

from gallery import permissions
from studio import permissions as job_permissions
from tests.factories import generate_edit, generate_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_work(alice):
    return {"image": generate_image(alice), "edit": generate_edit(alice)}


@pytest.fixture
def bobs_work(bob):
    return {"image": generate_image(bob, prompt="bob's secret"), "edit": generate_edit(bob, prompt="bob's edit")}


def _paths(work):
    edit = work["edit"]
    input_id = edit.image_inputs.get().input_image_id
    return [
        f"/gallery/{work['image'].pk}/", f"/gallery/{work['image'].pk}/original/",
        f"/gallery/{work['image'].pk}/original/?download=1", f"/gallery/{work['image'].pk}/thumbnail/",
        f"/gallery/{edit.pk}/", f"/gallery/inputs/{input_id}/", f"/gallery/inputs/{edit.mask_id}/",
        f"/jobs/{work['image'].job_id}/", f"/jobs/{work['image'].job_id}/preview/",
        f"/?remix={work['image'].pk}", f"/?edit={work['image'].pk}", f"/?job={edit.job_id}",
    ]


@pytest.mark.parametrize("direction", ["alice sees bob", "bob sees alice"])
def test_nothing_of_the_other_user_is_reachable(direction, alices_work, bobs_work, alice_client, bob_client):
    viewer, theirs, mine = (
        (alice_client, bobs_work, alices_work) if direction == "alice sees bob" else
        (bob_client, alices_work, bobs_work))
    for path in _paths(theirs):
        assert viewer.get(path).status_code == 404, path
    for path in _paths(mine):
        if not path.endswith("/preview/"):  # finished jobs keep no preview
            assert viewer.get(path).status_code == 200, path
    grid = viewer.get("/gallery/")
    assert {image.pk for image in grid.context["page"].images} == {mine["image"].pk, mine["edit"].pk}
    assert viewer.post(f"/jobs/{theirs['image'].job_id}/cancel/").status_code == 404


def test_the_helper_answers_for_every_kind_of_object(alice, bob, alices_work):
    assert set(permissions.visible_images(bob)) == set()
    assert set(permissions.visible_images(alice)) == {alices_work["image"], alices_work["edit"]}
    assert permissions.visible_input_images(bob).count() == 0
    assert permissions.visible_input_images(alice).count() == 2  # the input and the mask
    assert job_permissions.visible_jobs(bob).count() == 0
    assert not job_permissions.can_change_job(bob, alices_work["image"].job)
    assert job_permissions.can_change_job(alice, alices_work["image"].job)


def test_anonymous_users_see_nothing(alices_work):
    from django.contrib.auth.models import AnonymousUser

    assert permissions.visible_images(AnonymousUser()).count() == 0
    assert job_permissions.visible_jobs(AnonymousUser()).count() == 0
