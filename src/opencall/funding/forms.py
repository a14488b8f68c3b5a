from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opencall.engines.budgeting.registry import RULES
from opencall.funding.models import BallotKind

RULE_LABELS = {
    "mes": _("Method of Equal Shares, completed by Add1U (recommended)"),
    "mes-greedy": _("Method of Equal Shares, completed greedily"),
    "mes-approval": _("Method of Equal Shares, approval utilities"),
    "greedy": _("Greedy by votes (what most cities do)"),
    "greedy-cost": _("Greedy by votes per cost"),
    "phragmen": _("Sequential Phragmén"),
    "maximin-support": _("Maximin support"),
}


def rule_choices() -> list[tuple[str, str]]:
    return [(name, str(RULE_LABELS.get(name, name))) for name in RULES]


class FundingSettingsForm(forms.Form):
    ballot_kind = forms.ChoiceField(label=_("Ballot"), choices=BallotKind.choices)
    max_choices = forms.IntegerField(label=_("Most ideas a person may approve"), min_value=1, max_value=100,
                                     initial=5)
    total_points = forms.IntegerField(label=_("Points each person spreads"), min_value=1, max_value=1000,
                                      initial=10)
    default_rule = forms.ChoiceField(label=_("Rule"), choices=rule_choices)


class RunForm(forms.Form):
    rule = forms.ChoiceField(label=_("Rule"), choices=rule_choices)
