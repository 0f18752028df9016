"""``manage.py budget set (--team NAME | --user USERNAME) [--member USERNAME] --usd AMOUNT|none``
and ``manage.py budget show``: monthly USD budgets, for operators."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio import spending
from teams.models import Budget, Space
from teams.services import budget_set


class Command(BaseCommand):
    help = "Set or show the monthly USD budgets of teams, users and members of teams."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        set_parser = actions.add_parser("set", help="Set (or remove with --usd none) a budget.")
        scope = set_parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--team", help="The team's name.")
        scope.add_argument("--user", help="A username: their budget across all their spaces.")
        set_parser.add_argument("--member", help="With --team: this member's budget inside the team.")
        set_parser.add_argument("--usd", required=True, help="USD per month, or 'none' to remove the budget.")
        actions.add_parser("show", help="List every budget with this month's use.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "show":
            self._show()
        else:
            self._set(team=options["team"], user=options["user"], member=options["member"], usd=options["usd"])

    def _set(self, *, team: str | None, user: str | None, member: str | None, usd: str) -> None:
        if member and not team:
            raise CommandError("--member needs --team.")
        amount = _usd(usd)
        space = _team(team) if team else None
        person = _user(member or user) if (member or user) else None
        try:
            budget = budget_set(space=space, user=person, usd=amount)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if budget is None:
            self.stdout.write("Budget removed.")
        else:
            self.stdout.write(f"Budget set: {budget}.")

    def _show(self) -> None:
        budgets = Budget.objects.select_related("space", "user")
        if not budgets:
            self.stdout.write("No budgets.")
            return
        start, _ = spending.month_bounds()
        self.stdout.write(f"Month from {start:%Y-%m-%d %H:%M %Z}:")
        for budget in budgets:
            state = spending.budget_state(budget=budget)
            flag = " USED UP" if state.exhausted else (" WARNING" if state.warning else "")
            self.stdout.write(f"{budget.scope_label}: ${state.used:.2f} of ${budget.monthly_usd:.2f} used, "
                              f"${max(state.left, Decimal(0)):.2f} left{flag}")


def _usd(raw: str) -> Decimal | None:
    if raw.strip().lower() == "none":
        return None
    try:
        amount = Decimal(raw.strip().lstrip("$"))
    except InvalidOperation:
        raise CommandError(f"--usd {raw!r} is not an amount (use e.g. 25 or 12.50, or none).") from None
    if not amount.is_finite() or amount < 0:
        raise CommandError(f"--usd {raw!r} must be zero or more.")
    return amount.quantize(Decimal("0.01"))


def _team(name: str) -> Space:
    try:
        return Space.objects.get(kind=Space.Kind.TEAM, name=name)
    except Space.DoesNotExist:
        raise CommandError(f"No team is named {name!r}.") from None
    except Space.MultipleObjectsReturned:
        raise CommandError(f"Several teams are named {name!r}; set it in the admin.") from None


def _user(username: str) -> Any:
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user is named {username!r}.") from None
