"""Spaces: every user has a personal one, and a team is a shared one with roles."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"  # members, roles, delete anything
    EDITOR = "editor", "Editor"  # generate into the team, organise, delete own images
    VIEWER = "viewer", "Viewer"  # browse, download


class Space(models.Model):
    """Where images, collections and tags live: a user's personal space or a team."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal"
        TEAM = "team", "Team"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    # The personal space's owner; team spaces have members instead.
    owner = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="personal_space")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="team_spaces")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="personal", owner__isnull=False) | models.Q(kind="team", owner__isnull=True),
                name="personal_space_has_owner_team_has_none",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_team(self) -> bool:
        return self.kind == self.Kind.TEAM


class Membership(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["space", "user__username"]
        constraints = [models.UniqueConstraint(fields=["space", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.space} ({self.role})"


class Invitation(models.Model):
    """An expiring, single-use link that makes its holder a member of a team."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invitee = models.CharField(max_length=254, help_text="The username or e-mail address invited.")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.EDITOR)
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.invitee} to {self.space}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class Preference(models.Model):
    """What the studio remembers for a user: where new images go."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_preference")
    destination = models.ForeignKey(Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.user} → {self.destination}"


class Budget(models.Model):
    """A monthly cap in USD on what jobs may cost: a team's (``space``), a user's across all their
    spaces (``user``), or a member's inside a team (both). The jobs reserve against it; the
    ledger is on the jobs (``studio.spending``)."""

    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.CASCADE, related_name="budgets",
                              limit_choices_to={"kind": Space.Kind.TEAM})
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="budgets")
    monthly_usd = models.DecimalField(max_digits=12, decimal_places=2, help_text="USD per calendar month.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["space__name", "user__username"]
        constraints = [
            models.CheckConstraint(condition=models.Q(space__isnull=False) | models.Q(user__isnull=False),
                                   name="budget_has_a_scope"),
            models.CheckConstraint(condition=models.Q(monthly_usd__gte=0), name="budget_not_negative"),
            models.UniqueConstraint(fields=["space"], condition=models.Q(user__isnull=True),
                                    name="one_budget_per_team"),
            models.UniqueConstraint(fields=["user"], condition=models.Q(space__isnull=True),
                                    name="one_budget_per_user"),
            models.UniqueConstraint(fields=["space", "user"], condition=models.Q(space__isnull=False,
                                                                                user__isnull=False),
                                    name="one_budget_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label}: ${self.monthly_usd}/month"

    def clean(self) -> None:
        if self.space_id is None and self.user_id is None:
            raise ValidationError("A budget needs a team, a user, or both.")
        if self.space_id is not None and not self.space.is_team:
            raise ValidationError({"space": "Budgets are set on teams; a personal space is covered by its "
                                            "owner's budget."})
        if (self.space_id is not None and self.user_id is not None
                and not Membership.objects.filter(space_id=self.space_id, user_id=self.user_id).exists()):
            raise ValidationError({"user": f"{self.user} is not a member of {self.space}."})

    @property
    def scope(self) -> str:
        if self.space_id and self.user_id:
            return "member"
        return "team" if self.space_id else "user"

    @property
    def scope_label(self) -> str:
        if self.scope == "member":
            return f"{self.user} in {self.space}"
        if self.scope == "team":
            return f"the team “{self.space}”"
        return f"{self.user} (all spaces)"
