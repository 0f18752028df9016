"""The spend pages and the CSV ledger: one's own, a team's for its owners, everything for staff
(anyone else gets a 404); the header's figure, the 80% warning and what job cards say a job cost."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.models import Job
from teams.services import budget_set
from tests.factories import JobFactory, make_user

pytestmark = pytest.mark.django_db


def _job(user, *, cost: str | None = "0.01", reserved: str = "0.02", **fields):
    fields.setdefault("created_at", timezone.now())
    return JobFactory(created_by=user, cost_usd=None if cost is None else Decimal(cost),
                      reserved_usd=Decimal(reserved), **fields)


@pytest.fixture
def staff(db):
    user = make_user("stella")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# -- who sees what ----------------------------------------------------------------------------------


def test_a_user_sees_their_own_spend_and_nobody_elses(alice_client, alice, bob, team):
    _job(alice, cost="0.25", prompt="alice in her space")
    _job(alice, cost="0.50", space=team, prompt="alice in the team")
    _job(bob, cost="7.00", space=team, prompt="bob in the team")

    response = alice_client.get(reverse("studio:spend"))

    assert response.status_code == 200
    assert response.context["totals"].spent == Decimal("0.75")
    content = response.content.decode()
    assert "alice in the team" in content and "bob in the team" not in content
    rows = _rows(alice_client.get(reverse("studio:spend_csv")))
    assert {row["prompt"] for row in rows} == {"alice in her space", "alice in the team"}


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_a_teams_spend_is_for_its_owners_a_member_gets_a_404(north, who):
    client = north.client(getattr(north, who))
    assert client.get(reverse("studio:spend_team", args=[north.space.pk])).status_code == 404
    assert client.get(reverse("studio:spend_team_csv", args=[north.space.pk])).status_code == 404


def test_an_outsider_and_an_unknown_or_personal_space_get_a_404(north, outsider, alice_space, staff):
    client = Client()
    client.force_login(outsider)
    assert client.get(reverse("studio:spend_team", args=[north.space.pk])).status_code == 404
    assert staff.get(reverse("studio:spend_team", args=[alice_space.pk])).status_code == 404
    assert staff.get(reverse("studio:spend_team", args=[987654])).status_code == 404
    assert staff.get("/spend/team/not-a-number/").status_code == 404


def test_the_owner_sees_the_teams_spend_by_member(north):
    _job(north.owner, cost="0.30", space=north.space)
    _job(north.editor, cost="0.20", space=north.space)
    _job(north.editor, cost="5.00")  # in edith's own space: not the team's

    response = north.client(north.owner).get(reverse("studio:spend_team", args=[north.space.pk]))

    assert response.status_code == 200
    assert reverse("teams:detail", args=[north.space.pk]) in response.content.decode()
    assert response.context["totals"].spent == Decimal("0.50")
    by_member = dict(response.context["groups"])["By member"]
    assert [(row.label, row.totals.spent) for row in by_member] == [("owen", Decimal("0.30")),
                                                                    ("edith", Decimal("0.20"))]
    rows = _rows(north.client(north.owner).get(reverse("studio:spend_team_csv", args=[north.space.pk])))
    assert sorted(row["user"] for row in rows) == ["edith", "owen"]


def test_everything_is_for_staff_only(alice_client, staff, alice, bob):
    _job(alice, cost="0.10")
    _job(bob, cost="0.20")
    assert alice_client.get(reverse("studio:spend_all")).status_code == 404
    assert alice_client.get(reverse("studio:spend_all_csv")).status_code == 404

    response = staff.get(reverse("studio:spend_all"))
    assert response.status_code == 200
    assert response.context["totals"].spent == Decimal("0.30")
    assert len(_rows(staff.get(reverse("studio:spend_all_csv")))) == 2


def test_staff_may_open_any_teams_spend(staff, north):
    response = staff.get(reverse("studio:spend_team", args=[north.space.pk]))
    assert response.status_code == 200
    # No link back to a team page staff cannot open (they are not in the team).
    assert reverse("teams:detail", args=[north.space.pk]) not in response.content.decode()


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("studio:spend"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.get(reverse("studio:spend_all_csv")).status_code == 302


def test_the_team_page_links_its_owners_to_the_teams_spend(north):
    url = reverse("studio:spend_team", args=[north.space.pk])
    assert url in north.client(north.owner).get(reverse("teams:detail", args=[north.space.pk])).content.decode()
    assert url not in north.client(north.editor).get(reverse("teams:detail", args=[north.space.pk])).content.decode()


# -- the period and filters, in the URL --------------------------------------------------------------


def test_a_month_in_the_url_chooses_the_period(alice_client, alice):
    _job(alice, cost="0.40", created_at=datetime(2026, 2, 14, 12, tzinfo=UTC))
    _job(alice, cost="0.10", created_at=datetime(2026, 3, 14, 12, tzinfo=UTC))

    response = alice_client.get(reverse("studio:spend"), {"month": "2026-02"})

    assert response.context["totals"].spent == Decimal("0.40")
    assert "February 2026" in response.content.decode()
    rows = _rows(alice_client.get(reverse("studio:spend_csv"), {"month": "2026-02"}))
    assert [row["actual_usd"] for row in rows] == ["0.40000000"]


def test_a_range_and_a_model_filter(alice_client, alice):
    _job(alice, cost="0.40", created_at=datetime(2026, 2, 27, 12, tzinfo=UTC))
    _job(alice, cost="0.20", created_at=datetime(2026, 3, 2, 12, tzinfo=UTC), model="gpt-image-1")
    _job(alice, cost="0.10", created_at=datetime(2026, 3, 2, 13, tzinfo=UTC))
    _job(alice, cost="0.80", created_at=datetime(2026, 3, 3, 0, tzinfo=UTC))

    response = alice_client.get(reverse("studio:spend"), {"since": "2026-02-27", "until": "2026-03-02"})
    assert response.context["totals"].spent == Decimal("0.70")
    response = alice_client.get(reverse("studio:spend"), {"since": "2026-02-27", "until": "2026-03-02",
                                                          "model": "gpt-image-1"})
    assert response.context["totals"].spent == Decimal("0.20")
    assert "model=gpt-image-1" in response.context["query"]


def test_the_owner_filters_the_team_by_member(north):
    _job(north.owner, cost="0.30", space=north.space)
    _job(north.editor, cost="0.20", space=north.space)
    client = north.client(north.owner)
    response = client.get(reverse("studio:spend_team", args=[north.space.pk]), {"member": "edith"})
    assert response.context["totals"].spent == Decimal("0.20")


def test_a_bad_period_is_said_next_to_its_field_and_the_csv_refuses_it(alice_client):
    response = alice_client.get(reverse("studio:spend"), {"month": "2026-13"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"month": ["Enter a month as YYYY-MM, for example 2026-03."]}
    response = alice_client.get(reverse("studio:spend"), {"since": "2026-03-05", "until": "2026-03-01"})
    assert "until" in response.context["form"].errors
    response = alice_client.get(reverse("studio:spend"), {"since": "2026-03-05"})
    assert response.context["form"].errors == {"until": ["Enter both ends of the range, or choose a month instead."]}
    assert alice_client.get(reverse("studio:spend_csv"), {"month": "March"}).status_code == 400


def test_a_member_not_in_the_list_is_refused(north):
    response = north.client(north.owner).get(reverse("studio:spend_team", args=[north.space.pk]),
                                             {"member": "mallory"})
    assert "member" in response.context["form"].errors


# -- the page ------------------------------------------------------------------------------------------


def test_the_page_shows_estimate_beside_actual_and_says_what_is_unknown(alice_client, alice):
    _job(alice, cost="0.0123", reserved="0.0500", prompt="billed one")
    _job(alice, cost=None, reserved="0.2500", status=Job.Status.CANCELLED, started_at=timezone.now(),
         prompt="cut short")
    _job(alice, cost=None, reserved="0.0700", status=Job.Status.SUCCEEDED, prompt="unpriced", price_unknown=True)

    content = alice_client.get(reverse("studio:spend")).content.decode()

    assert "$0.0123" in content and "$0.05" in content
    assert "may have been billed (up to $0.25)" in content
    assert "price unknown" in content
    assert "1 job ran at an unknown price" in content


def test_the_chart_is_an_svg_hidden_from_screen_readers_beside_its_table(alice_client, alice):
    _job(alice, cost="0.30")
    content = alice_client.get(reverse("studio:spend")).content.decode()
    assert '<svg viewBox="0 0 ' in content and 'aria-hidden="true"' in content
    assert content.count('class="spend-chart-bar"') == 1
    assert "<caption" in content and 'style="' not in content  # the CSP forbids inline styles
    assert content.count('aria-labelledby="group-1-heading"') == 2  # the section, and its scrolling table


def test_the_page_costs_the_same_queries_for_3_jobs_as_for_30(alice_client, alice, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(reverse("studio:spend")).status_code == 200
        return len(captured)

    for _ in range(3):
        _job(alice)
    few = queries()
    for _ in range(27):
        _job(alice)
    assert queries() == few


def test_the_csv_is_streamed_as_an_attachment(alice_client, alice):
    _job(alice)
    response = alice_client.get(reverse("studio:spend_csv"), {"month": "2026-03"})
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="spend-mine-20260301-20260331.csv"'


# -- the header, the 80% warning, the job cards ----------------------------------------------------------


def test_the_header_shows_this_months_spend_and_what_is_left_of_the_tightest_budget(alice_client, alice, team):
    _job(alice, cost="1.25")
    _job(alice, cost="0.75", space=team)
    _job(alice, cost="9.00", created_at=timezone.now() - timedelta(days=70))  # an earlier month
    budget_set(user=alice, usd=Decimal("10"))
    budget_set(space=team, usd=Decimal("3"))

    content = alice_client.get(reverse("gallery:index")).content.decode()

    assert "data-spend-header" in content
    assert "$2.00<" in content and "$2.25 left" in content
    assert "Left in the budget of “Harbour Studio”: $2.25." in content


def test_the_header_without_a_budget_shows_the_spend_alone(alice_client, alice):
    _job(alice, cost="1.25")
    content = alice_client.get(reverse("studio:home")).content.decode()
    assert "$1.25<" in content and " left<" not in content


def test_at_80_percent_the_studio_warns_beside_the_form(alice_client, alice):
    budget_set(user=alice, usd=Decimal("10"))
    _job(alice, cost="7.90")
    assert "data-budget-notice" not in alice_client.get(reverse("studio:home")).content.decode()
    _job(alice, cost="0.10")
    content = alice_client.get(reverse("studio:home")).content.decode()
    assert "Your monthly budget is 80% used this month: $2.00 left of $10.00." in content


def test_a_used_up_budget_is_said_before_submitting(alice_client, alice):
    budget_set(user=alice, usd=Decimal("1"))
    _job(alice, cost="1.00")
    content = alice_client.get(reverse("studio:home")).content.decode()
    assert "Your monthly budget of $1.00 is used up this month" in content
    assert "spend-badge-out" in content


def test_a_team_budget_warns_its_writers_not_its_viewers(north):
    budget_set(space=north.space, usd=Decimal("1"))
    _job(north.owner, cost="0.95", space=north.space)
    assert "data-budget-notice" in north.client(north.editor).get(reverse("studio:home")).content.decode()
    assert "data-budget-notice" not in north.client(north.viewer).get(reverse("studio:home")).content.decode()


def test_job_cards_say_what_a_failed_or_cancelled_job_cost(alice_client, alice):
    billed = _job(alice, cost="0.0400", status=Job.Status.FAILED, error_message="The server broke.")
    lost = _job(alice, cost=None, reserved="0.2500", status=Job.Status.CANCELLED, started_at=timezone.now())
    refused = _job(alice, cost=None, status=Job.Status.FAILED, error_message="Blocked.")
    unpriced = _job(alice, cost=None, status=Job.Status.SUCCEEDED, price_unknown=True)
    unpriced_failure = _job(alice, cost=None, reserved="0", status=Job.Status.FAILED, price_unknown=True,
                            usage={"output_tokens": 100, "total_tokens": 100}, error_message="The server broke.")

    def card(job) -> str:
        return alice_client.get(reverse("studio:job_card", args=[job.pk])).content.decode()

    assert "Cost: $0.04" in card(billed)
    assert "may have been billed (up to $0.25)" in card(lost)
    assert "Cost: nothing billed" in card(refused)
    assert "price unknown" in card(unpriced) and "$None" not in card(unpriced)
    assert "Cost: <span" in card(unpriced_failure) and "price unknown" in card(unpriced_failure)


# -- the admin ----------------------------------------------------------------------------------------


def test_the_job_admin_totals_the_jobs_its_filters_keep(admin_client, alice, bob):
    _job(alice, cost="0.30")
    _job(bob, cost="0.20", model="gpt-image-1")
    _job(bob, cost=None, reserved="0.50", status=Job.Status.FAILED, interrupted=1)

    response = admin_client.get(reverse("admin:studio_job_changelist"))
    assert response.status_code == 200
    spend = response.context["spend"]
    assert (spend["totals"].jobs, spend["totals"].spent, spend["totals"].uncertain) == (
        3, Decimal("1.00"), Decimal("0.50"))
    by_member = dict(spend["groups"])["Member"]
    assert [(row.label, row.totals.spent) for row in by_member] == [("bob", Decimal("0.70")),
                                                                    ("alice", Decimal("0.30"))]
    assert "data-spend-summary" in response.content.decode()

    filtered = admin_client.get(reverse("admin:studio_job_changelist"), {"status__exact": "failed"})
    assert filtered.context["spend"]["totals"].spent == Decimal("0.50")
    searched = admin_client.get(reverse("admin:studio_job_changelist"), {"q": "alice"})
    assert searched.context["spend"]["totals"].spent == Decimal("0.30")


def test_the_spend_pages_show_this_months_budgets_they_are_about(north, alice_client, alice):
    budget_set(space=north.space, usd=Decimal("10"))
    budget_set(space=north.space, user=north.editor, usd=Decimal("1"))
    _job(north.editor, cost="0.90", space=north.space)
    budget_set(user=alice, usd=Decimal("5"))

    team_page = north.client(north.owner).get(reverse("studio:spend_team", args=[north.space.pk]))
    used = {state.budget.scope_label: (state.used, state.warning) for state in team_page.context["budgets"]}
    assert used == {"edith in Studio North": (Decimal("0.90"), True),
                    "the team “Studio North”": (Decimal("0.90"), False)}
    assert "90%" in team_page.content.decode()
    own = alice_client.get(reverse("studio:spend"))
    assert [state.budget.scope_label for state in own.context["budgets"]] == ["alice (all spaces)"]


def test_the_header_reads_every_budget_in_one_query(alice, team, bob_team, django_assert_num_queries):
    from studio import spending

    budget_set(user=alice, usd=Decimal("10"))
    budget_set(space=team, usd=Decimal("3"))
    budget_set(space=team, user=alice, usd=Decimal("2"))
    _job(alice, cost="0.50", space=team)
    _job(alice, cost="0.25")
    with django_assert_num_queries(2):  # the budgets, then what each used
        states = spending.budget_states(user=alice)
    assert {state.budget.scope: state.used for state in states} == {
        "user": Decimal("0.75"), "team": Decimal("0.50"), "member": Decimal("0.50")}
    assert [state.budget.scope for state in states] == ["member", "team", "user"]  # the tightest first


def test_the_budget_admin_lists_what_each_used(admin_client, alice, team):
    budget_set(user=alice, usd=Decimal("10"))
    budget_set(space=team, usd=Decimal("3"))
    _job(alice, cost="0.50", space=team)
    content = admin_client.get(reverse("admin:teams_budget_changelist")).content.decode()
    assert "2.50" in content and "9.50" in content


@pytest.mark.django_db(transaction=True)
def test_the_csv_streams_after_the_view_returned_outside_any_transaction(alice, monkeypatch):
    """As in production: the rows are read while the response is sent, in autocommit (on
    PostgreSQL through a server-side cursor), a chunk at a time."""
    from studio import ledger

    monkeypatch.setattr(ledger, "CSV_CHUNK", 2)
    for index in range(5):
        _job(alice, prompt=f"job {index}")
    client = Client()
    client.force_login(alice)
    response = client.get(reverse("studio:spend_csv"))
    assert sorted(row["prompt"] for row in _rows(response)) == [f"job {index}" for index in range(5)]


def test_a_month_runs_by_the_budget_time_zone_on_the_page_and_in_the_csv(settings, alice_client, alice):
    settings.STUDIO_BUDGET_TIMEZONE = "Pacific/Auckland"
    # 11:30 UTC on 31 March is already 00:30 on 1 April in Auckland (UTC+13 until April's DST end).
    _job(alice, cost="0.60", created_at=datetime(2026, 3, 31, 11, 30, tzinfo=UTC), prompt="april in auckland")
    _job(alice, cost="0.20", created_at=datetime(2026, 3, 31, 10, 30, tzinfo=UTC), prompt="march in auckland")

    april = alice_client.get(reverse("studio:spend"), {"month": "2026-04"})
    assert april.context["totals"].spent == Decimal("0.60")
    assert [(row.key.day, row.totals.spent) for row in april.context["over_time"] if row.totals.jobs] == [
        (1, Decimal("0.60"))]
    assert "Pacific/Auckland" in april.content.decode()
    rows = _rows(alice_client.get(reverse("studio:spend_csv"), {"month": "2026-03"}))
    assert [row["prompt"] for row in rows] == ["march in auckland"]
    assert rows[0]["created_at"] == "2026-03-31T23:30:00+13:00"


def test_the_jobs_are_paged_and_the_pages_keep_the_period(alice_client, alice, monkeypatch):
    monkeypatch.setattr("studio.spend_views.LEDGER_PAGE", 2)
    for day in (10, 11, 12):
        _job(alice, cost="0.10", created_at=datetime(2026, 2, day, 12, tzinfo=UTC))

    first = alice_client.get(reverse("studio:spend"), {"month": "2026-02"}).content.decode()
    assert "Page 1 of 2" in first and 'href="?month=2026-02&amp;page=2" rel="next"' in first
    second = alice_client.get(reverse("studio:spend"), {"month": "2026-02", "page": "2"})
    assert len(second.context["page"].object_list) == 1
    assert 'href="?month=2026-02&amp;page=1" rel="prev"' in second.content.decode()
