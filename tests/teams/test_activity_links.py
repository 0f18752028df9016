"""The team's activity links to what each entry names, while the reader may still see it, and counts
in plain words ("1 image", "2 images") (issue 14)."""

from __future__ import annotations

from gallery.services import images_trash
from studio import services
from teams.services import team_create


def _generate(user, team, n: int):
    job = services.job_submit_generation(user=user, space=team, request={
        "model": "gpt-image-2", "prompt": "A harbour", "n": n, "size": "1024x1024", "quality": "low",
        "output_format": "png"})
    services.job_run(job_id=job.pk)
    return list(job.images.order_by("pk"))


def test_entries_link_the_images_they_name_and_count_in_words(alice_client, alice):
    team = team_create(user=alice, name="Harbour")
    (one,) = _generate(alice, team, 1)
    two, three = _generate(alice, team, 2)
    html = alice_client.get(f"/teams/{team.pk}/activity/").content.decode()
    assert "generated 1 image: " in html and "generated 2 images: " in html and "image(s)" not in html
    for image in (one, two, three):
        assert f'<a href="/gallery/{image.pk}/">#{image.pk}</a>' in html

    images_trash(user=alice, images=[one])
    html = alice_client.get(f"/teams/{team.pk}/activity/").content.decode()
    assert f'<a href="/gallery/{one.pk}/">' not in html and f"#{one.pk}" in html  # named, no longer linked
    assert f'<a href="/gallery/{two.pk}/">#{two.pk}</a>' in html
