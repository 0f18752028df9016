import pytest

from studio import services
from studio.selectors import recent_prompts

pytestmark = pytest.mark.django_db


def _job(user, prompt, **request):
    return services.job_submit_generation(user=user, request={"model": "gpt-image-2", "prompt": prompt, **request})


def test_prompt_history_lists_each_prompt_once_newest_first(alice, bob):
    _job(alice, "a red fox in snow")
    _job(alice, "a lighthouse at dusk")
    latest = _job(alice, "a red fox in snow", quality="high")
    _job(bob, "bob's secret prompt")
    history = recent_prompts(user=alice)
    assert [item.prompt for item in history] == ["a red fox in snow", "a lighthouse at dusk"]
    assert history[0].times == 2 and history[0].job_id == latest.pk


def test_prompt_history_search_needs_every_word(alice):
    _job(alice, "a red fox in snow")
    _job(alice, "a red barn")
    assert [item.prompt for item in recent_prompts(user=alice, query="RED fox")] == ["a red fox in snow"]
    assert recent_prompts(user=alice, query="owl") == []


def test_prompts_page_searches_live_and_reuses_a_job(alice_client, alice, bob_client):
    job = _job(alice, "a teal bicycle, studio light", size="1536x1024")
    page = alice_client.get("/prompts/").content.decode()
    assert "a teal bicycle, studio light" in page and f"/?job={job.pk}" in page
    partial = alice_client.get("/prompts/", {"q": "bicycle"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "a teal bicycle" in partial
    assert "a teal bicycle" not in bob_client.get("/prompts/").content.decode()
    reused = alice_client.get(f"/?job={job.pk}")
    assert reused.context["generate_form"]["prompt"].value() == "a teal bicycle, studio light"
    assert reused.context["generate_form"]["size"].value() == "1536x1024"
