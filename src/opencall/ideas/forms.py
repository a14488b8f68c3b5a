"""HTML input shapes for ideas and teams. Forms parse and check types; actions own the rules."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from opencall.challenges.models import Challenge, CustomField, FieldKind
from opencall.core.money import minor_digits, to_minor
from opencall.ideas.actions import IdeaDraft
from opencall.ideas.files import ALLOWED
from opencall.ideas.models import Attachment, Idea, IdeaStatus

FIELD_PREFIX = "field_"
MAX_BUDGET_MAJOR = Decimal("1000000000000")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files; size and type are checked by the action."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _custom_field(field: CustomField) -> forms.Field:
    common: dict[str, Any] = {"label": field.label, "required": field.required, "help_text": field.help_text}
    if field.kind == FieldKind.NUMBER:
        return forms.DecimalField(max_digits=30, decimal_places=10, **common)
    if field.kind == FieldKind.CHOICE:
        choices = [("", _("Choose…"))] + [(c, c) for c in field.choices]
        return forms.ChoiceField(choices=choices, **common)
    if field.kind == FieldKind.URL:
        return forms.URLField(max_length=2000, assume_scheme="https", **common)
    return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), **common)


class IdeaForm(forms.Form):
    """Create or edit an idea, with the challenge's custom fields as `field_<key>`."""

    title = forms.CharField(label=_("Title"), max_length=160)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or two sentences shown in lists."),
    )
    body = forms.CharField(
        label=_("Description"),
        max_length=30000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: **bold**, _italic_, lists, links, tables."),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    requested_budget = forms.DecimalField(
        label=_("Requested budget"),
        required=False,
        min_value=0,
        max_value=MAX_BUDGET_MAJOR,
        max_digits=16,
        decimal_places=2,
    )
    confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_("Only your team, the organisers and the judges can see a confidential idea."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, help_text=_("PDF, images, Office documents, text or CSV.")
    )
    remove_attachments = forms.MultipleChoiceField(
        label=_("Remove attachments"), required=False, widget=forms.CheckboxSelectMultiple
    )
    accept_terms = forms.BooleanField(label=_("I accept the challenge's terms"), required=False)
    team_name = forms.CharField(
        label=_("Team name"),
        max_length=120,
        required=False,
        help_text=_("You start as a team of one; invite others from the team page once the idea is saved."),
    )

    def __init__(self, *args: Any, challenge: Challenge, idea: Idea | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.challenge = challenge
        self.idea = idea
        self.custom_fields: list[CustomField] = list(challenge.custom_fields.all())
        categories = [c.name for c in challenge.categories.all()]
        if categories:
            cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("No category"))] + [
                (c, c) for c in categories
            ]
        else:
            del self.fields["category"]
        # The number of decimals depends on the currency (none for JPY), so the field is built here.
        self.fields["requested_budget"] = forms.DecimalField(
            label=_("Requested budget"),
            required=False,
            min_value=0,
            max_value=MAX_BUDGET_MAJOR,
            max_digits=16,
            decimal_places=minor_digits(challenge.currency),
            help_text=_("In %(currency)s, e.g. 25000.") % {"currency": challenge.currency},
        )
        self.fields["attachments"].widget.attrs["accept"] = ",".join(sorted(ALLOWED))
        if not challenge.terms or (idea is not None and idea.terms_accepted_at is not None):
            del self.fields["accept_terms"]
        if idea is not None:
            del self.fields["team_name"]
        existing: Sequence[Attachment] = list(idea.attachments.all()) if idea is not None else []
        if existing:
            cast(forms.ChoiceField, self.fields["remove_attachments"]).choices = [(str(a.pk), a.name) for a in existing]
        else:
            del self.fields["remove_attachments"]
        self.marked_required = {"title", "summary"}
        for field in self.custom_fields:
            name = FIELD_PREFIX + field.key
            self.fields[name] = _custom_field(field)
            if field.required:
                self.marked_required.add(name)
            if idea is None or idea.status == IdeaStatus.DRAFT:
                # Drafts may be saved incomplete; the action enforces required answers on submit.
                self.fields[name].required = False
        if idea is not None and not self.is_bound:
            self.initial.update(self._initial_from(idea))

    def _initial_from(self, idea: Idea) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": idea.title,
            "summary": idea.summary,
            "body": idea.body,
            "category": idea.category.name if idea.category else "",
            "confidential": idea.confidential,
        }
        if idea.requested_budget_minor is not None:
            initial["requested_budget"] = Decimal(idea.requested_budget_minor).scaleb(
                -minor_digits(self.challenge.currency)
            )
        for answer in idea.answers.all():
            initial[FIELD_PREFIX + answer.field.key] = answer.value
        return initial

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[FIELD_PREFIX + f.key] for f in self.custom_fields]

    def core_bound_fields(self) -> list[forms.BoundField]:
        names = ["title", "summary", "body", "category", "requested_budget", "confidential", "team_name"]
        return [self[n] for n in names if n in self.fields]

    def draft(self) -> IdeaDraft:
        data = self.cleaned_data
        budget = data.get("requested_budget")
        answers: dict[str, str] = {}
        for field in self.custom_fields:
            value = data.get(FIELD_PREFIX + field.key)
            answers[field.key] = (
                "" if value is None else format(value, "f") if isinstance(value, Decimal) else str(value)
            )
        return IdeaDraft(
            title=data["title"],
            summary=data["summary"],
            body=data.get("body", ""),
            category=data.get("category", "") or "",
            requested_budget_minor=None if budget is None else to_minor(budget, self.challenge.currency),
            confidential=bool(data.get("confidential")),
            answers=answers,
        )

    def uploads(self) -> list[UploadedFile[Any]]:
        return list(self.cleaned_data.get("attachments") or [])

    def removed(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data.get("remove_attachments") or []]


class SubmitForm(forms.Form):
    accept_terms = forms.BooleanField(label=_("I accept the challenge's terms"), required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("", _("Choose…")),
            (IdeaStatus.SHORTLISTED, _("Shortlist")),
            (IdeaStatus.REJECTED, _("Reject")),
            (IdeaStatus.FUNDED, _("Fund")),
            (IdeaStatus.AWARDED, _("Award")),
            (IdeaStatus.SUBMITTED, _("Back to submitted")),
        ],
    )
    reason = forms.CharField(label=_("Note to the team"), max_length=300, required=False)


class IdeaFilterForm(forms.Form):
    SORTS = [("newest", _("Newest")), ("liked", _("Most liked")), ("discussed", _("Most discussed"))]

    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + [(s.value, s.label) for s in IdeaStatus if s not in (IdeaStatus.DRAFT,)],
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)

    def __init__(self, *args: Any, challenge: Challenge, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("All categories"))] + [
            (c.name, c.name) for c in challenge.categories.all()
        ]

    def value(self, name: str) -> str:
        """The cleaned value of one filter; an invalid filter is ignored, the others still apply."""
        self.is_valid()
        return str(self.cleaned_data.get(name) or "")


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)


class JoinRequestForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the team"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What would you bring to the team?"),
    )


class PositionForm(forms.Form):
    title = forms.CharField(label=_("Position title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    skills = forms.CharField(
        label=_("Wanted skills"),
        max_length=600,
        required=False,
        help_text=_("Comma-separated, e.g. python, logistics, design"),
    )

    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data.get("skills", "").split(",") if s.strip()]


class SkillFilterForm(forms.Form):
    skill = forms.CharField(label=_("Skill"), max_length=60, required=False)
