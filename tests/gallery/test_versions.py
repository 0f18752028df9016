"""Versions: an image's version tree (what it was edited from, what was edited from it) and the compare
view, shown only through visible_images: another user's or a trashed image is never in the tree, and no
link or id of it is on the page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery.selectors import version_tree
from studio import services
from tests.factories import generate_image, make_png

pytestmark = pytest.mark.django_db


def make_version(user, *sources, prompt="make it dusk"):
    """An edit of the gallery images ``sources`` (as the Edit button starts one), run by the emulator."""
    from imageapi.images import inspect_image

    data = make_png()
    job = services.job_submit_edit(
        user=user, request={"model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "auto", "quality": "low"},
        images=[services.Upload(data=data, info=inspect_image(data), name="source.png", source_image=source)
                for source in sources],
        mask=None,
    )
    services.job_run(job_id=job.pk)
    return job.images.get()


def make_chain(user, length: int) -> list:
    """An original and ``length - 1`` edits, each of the one before."""
    chain = [generate_image(user)]
    for _ in range(length - 1):
        chain.append(make_version(user, chain[-1]))
    return chain


def pks(images) -> list[int]:
    return [image.pk for image in images]


def descendants(tree) -> list[tuple[int, list]]:
    """The descendants as (pk, children) pairs, recursively."""
    def walk(nodes):
        return [(node.image.pk, walk(node.children)) for node in nodes]
    return walk(tree.descendants)


def versions_section(html: str) -> str:
    return re.search(r'<section class="meta-section" id="versions".*?</section>', html, re.S).group(0)


def assert_not_linked(html: str, pk: int) -> None:
    for trace in (f"/gallery/{pk}/", f"edit={pk}\"", f"a={pk}&", f"b={pk}\"", f"Image {pk}<", f"image {pk})",
                  f"Image {pk}:"):
        assert trace not in html, trace
    assert not re.search(rf"\b{pk}\b", versions_section(html))


# -- the tree ----------------------------------------------------------------------------------------


def test_a_chain_from_each_end_and_the_middle(alice):
    original, edit, edit_of_edit = make_chain(alice, 3)

    tree = version_tree(user=alice, image=edit_of_edit)
    assert [pks(level) for level in tree.ancestors] == [[original.pk], [edit.pk]]
    assert tree.descendants == []

    tree = version_tree(user=alice, image=edit)
    assert [pks(level) for level in tree.ancestors] == [[original.pk]]
    assert descendants(tree) == [(edit_of_edit.pk, [])]

    tree = version_tree(user=alice, image=original)
    assert tree.ancestors == []
    assert descendants(tree) == [(edit.pk, [(edit_of_edit.pk, [])])]
    assert pks(tree.others) == [edit.pk, edit_of_edit.pk]


def test_a_branch_and_an_edit_of_two_images(alice):
    original = generate_image(alice)
    left, right = make_version(alice, original, prompt="left"), make_version(alice, original, prompt="right")
    other = generate_image(alice, prompt="a lighthouse")
    merged = make_version(alice, left, other, prompt="both")

    tree = version_tree(user=alice, image=original)
    assert descendants(tree) == [(left.pk, [(merged.pk, [])]), (right.pk, [])]

    tree = version_tree(user=alice, image=right)
    assert [pks(level) for level in tree.ancestors] == [[original.pk]]
    assert tree.descendants == []  # a sibling is not an ancestor nor a descendant

    tree = version_tree(user=alice, image=merged)
    assert [pks(level) for level in tree.ancestors] == [[original.pk], [left.pk, other.pk]]


def test_an_image_without_versions(alice, alice_image):
    tree = version_tree(user=alice, image=alice_image)
    assert not tree
    assert tree.others == []


def test_other_users_images_are_not_in_the_tree(alice, bob):
    bobs = generate_image(bob, prompt="bob's harbour")
    alices_edit_of_bobs = make_version(alice, bobs)  # lineage alice may not follow
    alices = generate_image(alice)
    bobs_edit_of_alices = make_version(bob, alices)

    assert version_tree(user=alice, image=alices_edit_of_bobs).ancestors == []
    assert version_tree(user=alice, image=alices).descendants == []
    assert pks(version_tree(user=bob, image=bobs).others) == []  # bob does not see alice's edit either
    assert pks(version_tree(user=bob, image=bobs_edit_of_alices).others) == []


def test_trashed_images_are_not_in_the_tree_and_end_the_walk(alice):
    from gallery.services import images_trash

    original, edit, edit_of_edit, last = make_chain(alice, 4)
    images_trash(user=alice, images=[last])
    assert descendants(version_tree(user=alice, image=original)) == [(edit.pk, [(edit_of_edit.pk, [])])]

    images_trash(user=alice, images=[edit])
    assert version_tree(user=alice, image=edit_of_edit).ancestors == []
    assert version_tree(user=alice, image=original).descendants == []


def test_the_number_of_queries_does_not_grow_with_the_lineage(alice, alice_client):
    short, long = make_chain(alice, 2), make_chain(alice, 6)

    def count(image, read):
        with CaptureQueriesContext(connection) as captured:
            read(image)
        return len(captured)

    def tree(image):
        version_tree(user=alice, image=image)

    def page(image):
        assert alice_client.get(f"/gallery/{image.pk}/").status_code == 200

    for read in (tree, page):
        assert count(short[-1], read) == count(long[-1], read)  # all ancestors
        assert count(short[0], read) == count(long[0], read)  # all descendants
        assert count(short[-1], read) == count(long[2], read)  # both (edits both: the page reads their inputs)
    assert count(long[2], tree) == 2


def test_the_descendants_are_bounded(alice, monkeypatch):
    monkeypatch.setattr("gallery.selectors.VERSION_DESCENDANTS", 3)
    original = generate_image(alice)
    edits = [make_version(alice, original, prompt=f"edit {n}") for n in range(5)]
    assert pks(version_tree(user=alice, image=original).others) == pks(edits[:3])


# -- the image page ----------------------------------------------------------------------------------


def test_the_image_page_shows_the_tree_with_links(alice, alice_client):
    original, edit, edit_of_edit = make_chain(alice, 3)
    html = alice_client.get(f"/gallery/{edit.pk}/").content.decode()
    section = versions_section(html)
    assert section.index(f"/gallery/{original.pk}/thumbnail/") < section.index(f"/gallery/{edit.pk}/thumbnail/") \
        < section.index(f"/gallery/{edit_of_edit.pk}/thumbnail/")  # ancestors above, descendants below
    assert 'class="version-card is-current"' in section
    for version in (original, edit, edit_of_edit):
        assert f'href="/?edit={version.pk}"' in section
    for other in (original, edit_of_edit):
        assert f'href="/gallery/{other.pk}/"' in section
        assert f'href="/gallery/compare/?a={edit.pk}&amp;b={other.pk}"' in section
    assert f'href="/gallery/compare/?a={edit.pk}"' in section


def test_the_image_page_without_versions(alice_client, alice_image):
    html = alice_client.get(f"/gallery/{alice_image.pk}/").content.decode()
    assert "No other versions yet" in versions_section(html)


def test_the_image_page_leaks_no_invisible_version(alice, bob, alice_client):
    from gallery.services import images_trash

    bobs = generate_image(bob, prompt="bob's harbour")
    edit = make_version(alice, bobs)
    bobs_edit = make_version(bob, edit)
    trashed = make_version(alice, edit)
    images_trash(user=alice, images=[trashed])
    kept = make_version(alice, edit)

    html = alice_client.get(f"/gallery/{edit.pk}/").content.decode()
    assert f'href="/gallery/{kept.pk}/"' in versions_section(html)
    for hidden in (bobs, bobs_edit, trashed):
        assert_not_linked(html, hidden.pk)


# -- compare -----------------------------------------------------------------------------------------


def test_compare_two_visible_versions(alice, alice_client):
    original, edit = make_chain(alice, 2)
    response = alice_client.get("/gallery/compare/", {"a": original.pk, "b": edit.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="/gallery/{original.pk}/original/"' in html
    assert f'src="/gallery/{edit.pk}/original/"' in html
    assert 'type="range"' in html and "compare.js" in html
    assert 'data-mode="side"' in html  # without the script: side by side
    assert ' style="' not in html  # the CSP allows no inline style


def test_compare_with_a_alone_offers_the_versions(alice, alice_client):
    original, edit, edit_of_edit = make_chain(alice, 3)
    html = alice_client.get("/gallery/compare/", {"a": edit.pk}).content.decode()
    for other in (original, edit_of_edit):
        assert f'href="/gallery/compare/?a={edit.pk}&amp;b={other.pk}"' in html
        assert f'src="/gallery/{other.pk}/thumbnail/"' in html


def test_compare_never_shows_what_the_user_may_not_see(alice, bob, alice_client):
    from gallery.services import images_trash

    mine, bobs, trashed = generate_image(alice), generate_image(bob), generate_image(alice)
    images_trash(user=alice, images=[trashed])
    edit_of_bobs = make_version(alice, bobs)
    for a, b in ((mine.pk, bobs.pk), (bobs.pk, mine.pk), (mine.pk, trashed.pk), (trashed.pk, mine.pk),
                 (mine.pk, 999999), (999999, mine.pk), (mine.pk, "x"), (mine.pk, ""), (mine.pk, "-1")):
        assert alice_client.get("/gallery/compare/", {"a": a, "b": b}).status_code == 404, (a, b)
    for a in (bobs.pk, trashed.pk, "", "nope"):
        assert alice_client.get("/gallery/compare/", {"a": a}).status_code == 404
    assert alice_client.get("/gallery/compare/").status_code == 404
    html = alice_client.get("/gallery/compare/", {"a": edit_of_bobs.pk}).content.decode()
    assert f"/gallery/{bobs.pk}/" not in html and f"b={bobs.pk}" not in html
    assert "no other versions you can see" in html


def test_compare_asks_to_log_in(client, alice):
    original = generate_image(alice)
    response = client.get("/gallery/compare/", {"a": original.pk, "b": original.pk})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
