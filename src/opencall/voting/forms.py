"""HTML input shapes for live votes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from opencall.core.web import parse_id
from opencall.ideas.models import Idea


class IdeaChoicesField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Refuses values that are no possible id before they reach the query (a number past the key
    column's range makes SQLite raise OverflowError and PostgreSQL a DataError)."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, (list, tuple)) else ():
            if parse_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super().clean(value)


class LiveVoteForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160, initial=_("Audience vote"))
    finalists = IdeaChoicesField(
        label=_("Finalists"), queryset=Idea.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    duration_seconds = forms.IntegerField(label=_("Voting time (seconds)"), min_value=10, max_value=86400, initial=180)
    sign_in_required = forms.BooleanField(
        label=_("Only signed-in members may vote"),
        required=False,
        help_text=_(
            "Signed in: one vote per account. Otherwise anyone with the link votes without an account, "
            "one vote per browser, capped per network: a determined person can still add a few votes."
        ),
    )

    def __init__(self, *args: Any, candidates: QuerySet[Idea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["finalists"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = candidates


class ExtendForm(forms.Form):
    seconds = forms.IntegerField(label=_("Extra seconds"), min_value=1, max_value=3600, initial=60)


class RewardUploadForm(forms.Form):
    codes = forms.CharField(
        label=_("Reward codes, one a line"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000 * 66
    )


class RewardGenerateForm(forms.Form):
    count = forms.IntegerField(label=_("Generate this many codes"), min_value=1, max_value=100_000, initial=100)


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Code to redeem"), max_length=64)


class StopForm(forms.Form):
    """The confirmation step of "Stop voting and count": the action ends voting for everyone."""

    confirm = forms.ChoiceField(
        choices=[("stop", _("Stop voting now"))],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Voting is still open: confirm below to stop it and count the votes."),
            "invalid_choice": _("Voting is still open: confirm below to stop it and count the votes."),
        },
    )
