"""HTML input shapes for comments, reports and moderation. Actions own the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opencall.core.schemas import MAX_ID


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write something first.")},
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with it?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("A reason is required.")},
    )


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("hide", _("Hide the content")), ("dismiss", _("Dismiss the report"))]
    )
    resolution = forms.CharField(label=_("Reason shown to the author"), max_length=300, required=False)


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this account blocked?"), max_length=300, error_messages={"required": _("A reason is required.")}
    )


class ModerationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("open", _("Open reports")), ("hidden", _("Content hidden")), ("dismissed", _("Dismissed"))],
    )
