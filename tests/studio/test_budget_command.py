"""Budgets set by operators (manage.py budget), by team owners (the team page) and in the admin."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from teams.models import Budget

pytestmark = pytest.mark.django_db


def _budget(*args):
    out = StringIO()
    call_command("budget", *args, stdout=out)
    return out.getvalue()


def test_budget_set_and_show(alice, bob, team):
    assert "Budget set" in _budget("set", "--team", "Harbour Studio", "--usd", "25")
    _budget("set", "--team", "Harbour Studio", "--member", "bob", "--usd", "5.5")
    _budget("set", "--user", "alice", "--usd", "$10")
    assert {(b.space_id, b.user_id, b.monthly_usd) for b in Budget.objects.all()} == {
        (team.pk, None, Decimal("25.00")), (team.pk, bob.pk, Decimal("5.50")), (None, alice.pk, Decimal("10.00"))}
    shown = _budget("show")
    assert "the team “Harbour Studio”: $0.00 of $25.00 used, $25.00 left" in shown
    assert "bob in Harbour Studio: $0.00 of $5.50 used" in shown
    assert "Budget removed." in _budget("set", "--user", "alice", "--usd", "none")
    assert Budget.objects.count() == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--team", "Nowhere", "--usd", "5"], "No team is named 'Nowhere'"),
    (["--user", "nobody", "--usd", "5"], "No user is named 'nobody'"),
    (["--user", "alice", "--usd", "lots"], "is not an amount"),
    (["--user", "alice", "--usd", "-3"], "must be zero or more"),
    (["--user", "alice", "--member", "bob", "--usd", "3"], "--member needs --team"),
])
def test_budget_set_refuses_bad_input(alice, bob, team, args, message):
    with pytest.raises(CommandError, match=message):
        _budget("set", *args)
    assert not Budget.objects.exists()


def test_a_team_owner_sets_the_team_and_member_budgets_on_the_team_page(alice_client, alice, bob, team):
    url = reverse("teams:budget", args=[team.pk])
    alice_client.post(url, {"usd": "40"})
    alice_client.post(url, {"usd": "7.25", "member": bob.pk})
    assert Budget.objects.get(space=team, user=None).monthly_usd == Decimal("40.00")
    assert Budget.objects.get(space=team, user=bob).monthly_usd == Decimal("7.25")
    page = alice_client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert 'value="40.00"' in page and 'value="7.25"' in page
    alice_client.post(url, {"usd": ""})
    assert not Budget.objects.filter(space=team, user=None).exists()


def test_a_member_who_is_not_an_owner_cannot_set_budgets(bob_client, team):
    response = bob_client.post(reverse("teams:budget", args=[team.pk]), {"usd": "1000"})
    assert response.status_code in (403, 404)
    assert not Budget.objects.exists()


def test_staff_see_budgets_with_this_months_use_in_the_admin(admin_client, alice):
    Budget.objects.create(user=alice, monthly_usd=Decimal("3"))
    page = admin_client.get(reverse("admin:teams_budget_changelist")).content.decode()
    assert "Used this month" in page and "3.00" in page
