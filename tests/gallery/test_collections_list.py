"""Collections (issue 14): a new one is confirmed and opens on an empty state that says how to add
images; the list shows each collection's cover and count of images."""

from __future__ import annotations

from gallery.services import collection_add, images_trash
from studio import services
from teams.services import personal_space


def _image(user, prompt):
    job = services.job_submit_generation(user=user, request={
        "model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "quality": "low",
        "output_format": "png"})
    services.job_run(job_id=job.pk)
    return job.images.get()


def test_a_new_collection_is_confirmed_and_says_how_to_add_images(alice_client, alice):
    space = personal_space(user=alice)
    _image(alice, "A fox")
    page = alice_client.post("/gallery/collections/new/", {"space": space.pk, "name": "Moodboard"}, follow=True)
    html = page.content.decode()
    assert "Collection “Moodboard” created." in html
    assert "This collection is empty" in html and "Add to collection" in html
    assert "Nothing matches" not in html


def test_the_list_shows_a_cover_and_a_count(alice_client, alice):
    space = personal_space(user=alice)
    alice_client.post("/gallery/collections/new/", {"space": space.pk, "name": "Moodboard"})
    alice_client.post("/gallery/collections/new/", {"space": space.pk, "name": "Untouched"})
    first, second, trashed = _image(alice, "A fox"), _image(alice, "A heron"), _image(alice, "A crow")
    from gallery.models import Collection

    board = Collection.objects.get(name="Moodboard")
    collection_add(user=alice, collection=board, images=[first])
    collection_add(user=alice, collection=board, images=[second, trashed])
    images_trash(user=alice, images=[trashed])
    html = alice_client.get("/gallery/collections/").content.decode()
    assert "2 images" in html and "Empty" in html
    assert f'class="collection-cover" src="/gallery/{second.pk}/thumbnail/"' in html  # the one added last
    assert f"/gallery/{trashed.pk}/thumbnail/" not in html
