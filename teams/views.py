from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent

from . import services
from .activity import IMAGE_REF, openable_objects
from .forms import BudgetForm, InvitationForm, RoleForm, TeamForm
from .models import Budget, Invitation, Membership, Space
from .permissions import Action, can, get_space_for, get_visible_space
from .selectors import teams_of


@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Team “{team.name}” created. Invite people from its page.")
        return redirect("teams:detail", pk=team.pk)
    teams = teams_of(user=request.user).prefetch_related("memberships")
    roles = dict(Membership.objects.filter(user=request.user).values_list("space_id", "role"))
    return render(request, "teams/list.html", {"teams": teams, "roles": roles, "form": form})


@require_GET
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_visible_space(request.user, pk)
    if not team.is_team:
        return redirect("teams:list")
    may_manage = can(request.user, Action.MANAGE, team)
    context = {
        "team": team,
        "memberships": team.memberships.select_related("user").order_by("user__username"),
        "may_manage": may_manage,
        "my_membership": team.memberships.filter(user=request.user).first(),
        "invitations": team.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                               expires_at__gt=timezone.now()) if may_manage else [],
        "invite_form": InvitationForm(),
        "role_choices": RoleForm.base_fields["role"].choices,
    }
    if may_manage:
        budgets = {budget.user_id: budget.monthly_usd for budget in Budget.objects.filter(space=team)}
        context["team_budget"] = budgets.get(None)
        context["member_budgets"] = [(membership, budgets.get(membership.user_id))
                                     for membership in context["memberships"]]
    return render(request, "teams/detail.html", context)


@require_POST
def budget(request: HttpRequest, pk: int) -> HttpResponse:
    """Owners set the team's monthly budget, or a member's inside the team."""
    team = _managed_team(request, pk)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a budget of zero or more US dollars, with at most two decimals, "
                                "or leave it empty for none.")
        return redirect("teams:detail", pk=team.pk)
    member = None
    if form.cleaned_data["member"] is not None:
        member = get_object_or_404(Membership, space=team, user_id=form.cleaned_data["member"]).user
    usd = form.cleaned_data["usd"]
    try:
        services.budget_set(space=team, user=member, usd=usd)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("teams:detail", pk=team.pk)
    whose = f"{member.get_username()}’s budget in “{team.name}”" if member else f"The budget of “{team.name}”"
    messages.success(request, f"{whose} is now ${usd:.2f} a month." if usd is not None else f"{whose} is removed.")
    return redirect("teams:detail", pk=team.pk)


def _managed_team(request: HttpRequest, pk: int) -> Space:
    return get_space_for(request.user, pk, Action.MANAGE)


@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    team = _managed_team(request, pk)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                space=team, invited_by=request.user, invitee=form.cleaned_data["invitee"],
                role=form.cleaned_data["role"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            link = request.build_absolute_uri(reverse("teams:accept", args=[invitation.token]))
            messages.success(request, f"Send this link to {invitation.invitee}; it works once, for 7 days: {link} "
                                      "(it stays under Pending invitations, to copy, until it is used or revoked).")
            if services.user_by_username_or_email(invitation.invitee) is None:
                # Studio has no sign-up: someone without an account cannot use the link yet.
                messages.warning(request, f"No account has the username or e-mail “{invitation.invitee}” yet. "
                                          "They need one first: ask an admin to create it with that e-mail "
                                          "address, then they log in and open the link.")
    else:
        messages.error(request, "Enter a username or e-mail address and a role.")
    return redirect("teams:detail", pk=team.pk)


@require_POST
def invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    team = _managed_team(request, pk)
    services.invitation_revoke(invitation=get_object_or_404(Invitation, pk=invitation_pk, space=team))
    messages.success(request, "Invitation revoked.")
    return redirect("teams:detail", pk=team.pk)


@require_POST
def member_role(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    team = _managed_team(request, pk)
    membership = get_object_or_404(Membership, pk=membership_pk, space=team)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("teams:detail", pk=team.pk)


@require_POST
def member_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """Owners remove anyone; any member may remove themselves (leave)."""
    team = get_visible_space(request.user, pk)
    membership = get_object_or_404(Membership, pk=membership_pk, space=team)
    leaving = membership.user_id == request.user.pk
    if not leaving:
        team = _managed_team(request, pk)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("teams:detail", pk=team.pk)
    if leaving:
        messages.success(request, f"You left “{team.name}”.")
        return redirect("teams:list")
    messages.success(request, f"{membership.user.get_username()} no longer has access to “{team.name}”.")
    return redirect("teams:detail", pk=team.pk)


@require_GET
def activity(request: HttpRequest, pk: int) -> HttpResponse:
    team = _managed_team(request, pk)
    events = AuditEvent.objects.filter(space=team).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # Each entry links to what it names, as far as the reader may still see it (not once trashed).
    events = list(page.object_list)
    openable = openable_objects(user=request.user, events=events)
    images = {pk for kind, pk in openable if kind == "image"}
    collections = {str(pk) for kind, pk in openable if kind == "collection"}
    for event in events:
        event.parts = _linked_summary(event, images, collections)
    return render(request, "teams/activity.html", {"team": team, "page": page})


def _linked_summary(event: AuditEvent, images: set[int], collections: set[str]) -> list[tuple[str, str | None]]:
    """The summary in pieces, each with the link of what it names (None for plain text)."""
    if event.object_type == "collection" and event.object_id in collections:
        return [(event.summary, f"{reverse('gallery:index')}?collection={event.object_id}")]
    parts, last = [], 0
    for match in IMAGE_REF.finditer(event.summary):
        pk = int(match.group(1))
        parts.append((event.summary[last:match.start()], None))
        parts.append((match.group(0), reverse("gallery:detail", args=[pk]) if pk in images else None))
        last = match.end()
    parts.append((event.summary[last:], None))
    return [part for part in parts if part[0]]


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.objects.select_related("space", "invited_by").filter(token=token).first()
    if request.method == "POST" and invitation is not None:
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Welcome to “{membership.space.name}” ({membership.role}).")
            return redirect("teams:detail", pk=membership.space_id)
    usable = invitation is not None and invitation.is_usable and services.invitation_is_for(invitation, request.user)
    return render(request, "teams/accept.html", {"invitation": invitation, "usable": usable},
                  status=200 if invitation is not None else 404)
