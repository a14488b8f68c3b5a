from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opencall.accounts.names import clean_display_name


def _display_name(value: str) -> str:
    try:
        return clean_display_name(value)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc


class SignupForm(AllauthSignupForm):  # type: ignore[misc]
    display_name = forms.CharField(label=_("Display name"), max_length=80)

    def clean_display_name(self) -> str:
        return _display_name(self.cleaned_data["display_name"])

    def save(self, request: HttpRequest) -> Any:
        user = super().save(request)
        user.display_name = self.cleaned_data["display_name"]
        user.save(update_fields=["display_name"])
        return user


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    bio = forms.CharField(label=_("Bio"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    skills = forms.CharField(
        label=_("Skills"), max_length=600, required=False, help_text=_("Comma-separated, e.g. python, retail, design")
    )
    languages = forms.CharField(label=_("Languages"), max_length=200, required=False)
    timezone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        required=False,
        help_text=_("e.g. Europe/Berlin; empty for UTC"),
        widget=forms.TextInput(attrs={"list": "timezones", "autocomplete": "off"}),
    )

    def clean_display_name(self) -> str:
        return _display_name(self.cleaned_data["display_name"])

    def clean_timezone(self) -> str:
        import zoneinfo

        value: str = self.cleaned_data["timezone"].strip()
        if value and value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone."))
        return value

    def skill_list(self) -> list[str]:
        return [s for s in self.cleaned_data["skills"].split(",") if s.strip()]


class TokenForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=80)
