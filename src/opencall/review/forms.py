from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opencall.review.actions import CriterionSpec
from opencall.review.models import PairwiseSettings


class RubricForm(forms.Form):
    name = forms.CharField(label=_("Rubric name"), max_length=120)
    criteria = forms.CharField(
        label=_("Criteria"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line: label | weight | lowest | highest | guidance, e.g. "
                    "“Impact | 2 | 1 | 5 | How many customers would notice?”"))

    def clean_criteria(self) -> list[CriterionSpec]:
        specs: list[CriterionSpec] = []
        for n, line in enumerate(self.cleaned_data["criteria"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            try:
                weight = int(parts[1]) if len(parts) > 1 and parts[1] else 1
                lo = int(parts[2]) if len(parts) > 2 and parts[2] else 1
                hi = int(parts[3]) if len(parts) > 3 and parts[3] else 5
            except ValueError as exc:
                raise forms.ValidationError(_("Line %(n)s: weight and scale must be whole numbers."),
                                            params={"n": n}) from exc
            specs.append(CriterionSpec(parts[0], weight, lo, hi, parts[4] if len(parts) > 4 else ""))
        if not specs:
            raise forms.ValidationError(_("Give at least one criterion."))
        return specs


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Round name"), max_length=120, initial=_("Shortlist"))
    rubric = forms.TypedChoiceField(label=_("Rubric"), coerce=int)
    judges_per_idea = forms.IntegerField(label=_("Judges per idea"), min_value=1, max_value=20, initial=3)
    max_load = forms.IntegerField(label=_("Most ideas per judge"), min_value=1, max_value=1000, initial=10)
    blind = forms.BooleanField(label=_("Blind: judges do not see team names"), required=False)
    fair = forms.BooleanField(label=_("Fair: serve the worst-served idea first"), required=False)
    crowd_weight = forms.IntegerField(label=_("Crowd weight in the combined ranking (%)"), min_value=0,
                                      max_value=100, initial=20)

    def __init__(self, *args: object, rubrics: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["rubric"].choices = rubrics  # type: ignore[attr-defined]


class PairwiseSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Crowd compares ideas two at a time in the community phase"),
                                 required=False)
    focus = forms.ChoiceField(
        label=_("Adaptive pairs aim at"), choices=PairwiseSettings.Focus.choices, initial=PairwiseSettings.Focus.TOP,
        help_text=_("The top: which ideas belong among the best few. The whole ranking: every idea's place, "
                    "with half of the pairs drawn at random so the whole scale stays connected."))
    top_k = forms.IntegerField(label=_("Focus on the top"), min_value=1, max_value=1000, initial=10,
                               help_text=_("How many ideas count as the top (used when aiming at the top)."))


class AddAssignmentForm(forms.Form):
    judge = forms.TypedChoiceField(label=_("Judge"), coerce=int)
    idea = forms.TypedChoiceField(label=_("Idea"), coerce=int)

    def __init__(self, *args: object, judges: list[tuple[int, str]], ideas: list[tuple[int, str]],
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["judge"].choices = judges  # type: ignore[attr-defined]
        self.fields["idea"].choices = ideas  # type: ignore[attr-defined]


class ConflictForm(forms.Form):
    reason = forms.CharField(label=_("Why you should not review this idea"), max_length=300)
