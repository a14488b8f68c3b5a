"""HTML input shapes for challenges. They parse; the actions validate and decide."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opencall.challenges.models import ChallengeRole, FieldKind, Visibility
from opencall.challenges.phases import LABELS, ORDER, PhaseKind
from opencall.core.images import BoundedImageField
from opencall.core.money import CURRENCIES, minor_digits, to_minor

MAX_COVER_BYTES = 2 * 1024 * 1024


def split_list(value: str) -> list[str]:
    """ "a, b,,c " → ["a", "b", "c"] (order kept, blanks dropped)."""
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


class ChallengeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search challenges")}),
    )
    phase = forms.ChoiceField(label=_("Phase"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(
        self,
        *args: Any,
        organisations: Sequence[tuple[str, str]] = (),
        categories: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        phase_field: Any = self.fields["phase"]
        phase_field.choices = [
            ("", _("Any phase")),
            *[(k.value, LABELS[k]) for k in (*ORDER, PhaseKind.CLOSED)],
        ]
        org_field: Any = self.fields["organisation"]
        org_field.choices = [("", _("Any organisation")), *organisations]
        cat_field: Any = self.fields["category"]
        cat_field.choices = [("", _("Any category")), *[(c, c) for c in categories]]

    def filters(self) -> dict[str, str]:
        """The search arguments; invalid choices are dropped rather than failing the page."""
        if not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        return {
            "text": (data.get("q") or "").strip(),
            "phase": data.get("phase") or "",
            "organisation": data.get("organisation") or "",
            "category": data.get("category") or "",
        }


class ChallengeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=300,
        help_text=_("One or two sentences shown on cards and in search."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=20000,
        required=False,
        help_text=_("Markdown. Headings, lists, links and tables are kept; HTML is not."),
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    terms = forms.CharField(
        label=_("Terms entrants accept"),
        max_length=20000,
        required=False,
        help_text=_("IP / NDA text. Markdown."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    budget = forms.DecimalField(
        label=_("Budget"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal("1000000000000"),
        decimal_places=2,
        max_digits=15,
        help_text=_("Optional, in the currency below (e.g. 25000.00)."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="EUR")
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices, initial=Visibility.PUBLIC)
    categories = forms.CharField(
        label=_("Categories"),
        max_length=1000,
        required=False,
        help_text=_("Comma-separated, e.g. AI, IoT, Logistics"),
    )
    sponsors = forms.CharField(
        label=_("Co-sponsoring organisations"),
        max_length=1000,
        required=False,
        help_text=_("Organisation slugs, comma-separated."),
    )
    invited_emails = forms.CharField(
        label=_("Invited people"),
        max_length=5000,
        required=False,
        help_text=_("Invite-only challenges: email addresses, comma-separated."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    invited_organisations = forms.CharField(
        label=_("Invited organisations"),
        max_length=1000,
        required=False,
        help_text=_("Invite-only challenges: organisation slugs, comma-separated."),
    )

    cover_image = BoundedImageField(
        label=_("Cover image"),
        required=False,
        help_text=_("Optional. PNG, JPEG or WebP, at most 2 MB; 1200 x 400 looks best."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        budget = data.get("budget")
        currency = data.get("currency") or "EUR"
        if budget is not None:
            digits = minor_digits(currency)
            if budget != budget.quantize(Decimal(1).scaleb(-digits)):
                self.add_error(
                    "budget",
                    _("%(cur)s takes %(n)s decimal places.") % {"cur": currency, "n": digits},
                )
        return data

    def budget_minor(self) -> int | None:
        budget = self.cleaned_data.get("budget")
        return None if budget is None else to_minor(budget, self.cleaned_data["currency"])

    def category_list(self) -> list[str]:
        return split_list(self.cleaned_data.get("categories", ""))

    def sponsor_slugs(self) -> list[str]:
        return split_list(self.cleaned_data.get("sponsors", ""))

    def invited_org_slugs(self) -> list[str]:
        return split_list(self.cleaned_data.get("invited_organisations", ""))

    def invited_email_list(self) -> list[str]:
        return [e.lower() for e in split_list(self.cleaned_data.get("invited_emails", ""))]

    def clean_invited_emails(self) -> str:
        value: str = self.cleaned_data.get("invited_emails", "")
        validator = forms.EmailField()
        bad = []
        for email in split_list(value):
            try:
                validator.clean(email)
            except forms.ValidationError:
                bad.append(email)
        if bad:
            raise forms.ValidationError(_("Not an email address: %(list)s") % {"list": ", ".join(bad)})
        return value


class CustomFieldForm(forms.Form):
    # Guidance for these columns sits in the fieldset's introduction, not per row.
    key = forms.SlugField(label=_("Key"), max_length=40)
    label = forms.CharField(label=_("Label"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices, initial=FieldKind.TEXT)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(label=_("Choices"), max_length=1000, required=False)
    help_text = forms.CharField(label=_("Hint"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == FieldKind.CHOICE and not split_list(data.get("choices", "")):
            self.add_error("choices", _("A choice field needs at least one option."))
        return data


CustomFieldFormSet = forms.formset_factory(CustomFieldForm, extra=1, can_delete=True, max_num=20, validate_max=True)


class PhasePlanForm(forms.Form):
    """One row per phase kind: a box to include it, and optional start and end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in ORDER:
            self.fields[f"{kind}_on"] = forms.BooleanField(label=LABELS[kind], required=False)
            self.fields[f"{kind}_start"] = forms.DateTimeField(
                label=_("%(phase)s starts") % {"phase": LABELS[kind]},
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            )
            self.fields[f"{kind}_end"] = forms.DateTimeField(
                label=_("%(phase)s ends") % {"phase": LABELS[kind]},
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "label": LABELS[kind],
                "on": self[f"{kind}_on"],
                "start": self[f"{kind}_start"],
                "end": self[f"{kind}_end"],
            }
            for kind in ORDER
        ]

    def plan(self) -> list[tuple[str, Any, Any]]:
        return [
            (
                kind.value,
                self.cleaned_data.get(f"{kind}_start"),
                self.cleaned_data.get(f"{kind}_end"),
            )
            for kind in ORDER
            if self.cleaned_data.get(f"{kind}_on")
        ]


class RoleForm(forms.Form):
    email = forms.EmailField(label=_("Email of the person"))
    kind = forms.ChoiceField(label=_("Role"), choices=ChallengeRole.Kind.choices)


class CoverForm(forms.Form):
    cover_image = BoundedImageField(
        label=_("Cover image"),
        help_text=_("PNG, JPEG or WebP, at most 2 MB; 1200 x 400 looks best."),
    )
