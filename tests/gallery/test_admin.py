import pytest

from gallery.models import Image
from tests.factories import generate_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_admin_lists_images_with_thumbnails_filters_and_search(staff_client, alice):
    image = generate_image(alice, prompt="a lighthouse in fog")
    generate_image(alice, prompt="a red bicycle")
    listing = staff_client.get("/admin/gallery/image/", {"q": "lighthouse", "model": "gpt-image-2"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [image]
    assert f"/admin/gallery/image/{image.pk}/thumbnail/" in listing.content.decode()
    thumb = staff_client.get(f"/admin/gallery/image/{image.pk}/thumbnail/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert staff_client.get(f"/admin/gallery/image/{image.pk}/change/").status_code == 200


def test_admin_lists_jobs_by_status_user_and_model(staff_client, alice, bob):
    generate_image(alice)
    generate_image(bob)
    listing = staff_client.get("/admin/studio/job/", {"status__exact": "succeeded", "created_by__id__exact": alice.pk,
                                                      "model": "gpt-image-2"})
    assert listing.status_code == 200 and len(listing.context["cl"].result_list) == 1
    assert staff_client.get("/admin/auth/user/").status_code == 200


def test_the_admin_thumbnail_is_for_staff_only(alice_client, alice):
    image = generate_image(alice)
    response = alice_client.get(f"/admin/gallery/image/{image.pk}/thumbnail/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_list_says_price_unknown_never_zero(staff_client, alice):
    priced = generate_image(alice, prompt="a priced harbour")
    unpriced = generate_image(alice, prompt="an unpriced harbour")
    Image.objects.filter(pk=unpriced.pk).update(price_unknown=True, cost_usd=0)

    listing = staff_client.get("/admin/gallery/image/").content.decode()
    assert listing.count('<td class="field-cost">price unknown</td>') == 1
    assert f'<td class="field-cost">{priced.cost_usd:.5f}</td>' in listing
    flagged = staff_client.get("/admin/gallery/image/", {"price_unknown__exact": "1"})
    assert [image.pk for image in flagged.context["cl"].result_list] == [unpriced.pk]
