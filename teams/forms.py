from django import forms

from .models import Role


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name",
                           widget=forms.TextInput(attrs={"placeholder": "e.g. Brand studio"}))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "team-%s")
        super().__init__(*args, **kwargs)


class InvitationForm(forms.Form):
    invitee = forms.CharField(max_length=254, label="Username or e-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "invite-%s")
        super().__init__(*args, **kwargs)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class BudgetForm(forms.Form):
    """A team owner sets the team's monthly budget, or a member's inside the team; blank removes it."""

    member = forms.IntegerField(required=False, widget=forms.HiddenInput)  # a user id; empty: the whole team
    usd = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2,
                             label="Monthly budget (USD)", help_text="Leave empty for no budget.",
                             widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}))
