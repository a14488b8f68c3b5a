"""An allocation's stored per-idea explanation as a sentence for people: money formatted, translatable.

The engine's own `reason` is plain English with raw numbers (``3333.333333``, ``60000.0``); it stays in
the stored run for the record and the API, and is shown as it is only for rules this module does not know.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opencall.core.money import format_money, minor_digits


def _money(whole_units: object, currency: str) -> str:
    """Engine amounts are in whole currency units (floats); shown rounded to the currency's minor unit."""
    unit = 10 ** minor_digits(currency)
    return format_money(round(float(whole_units) * unit), currency)  # type: ignore[arg-type]


def describe(explanation: Mapping[str, object], *, cost_minor: int | None, currency: str) -> str:
    if explanation.get("phase") != "equal-shares":
        return str(explanation.get("reason", ""))
    rnd = explanation.get("round")
    if explanation.get("funded"):
        supporters = int(explanation.get("supporters", 0))  # type: ignore[call-overload]
        payments = explanation.get("payments")
        amounts = [float(a) for a in payments.values()] if isinstance(payments, Mapping) else []
        text = ngettext(
            "Funded in round %(round)s of Equal Shares: its %(n)d supporter paid for it",
            "Funded in round %(round)s of Equal Shares: its %(n)d supporters shared the cost",
            supporters,
        ) % {"round": rnd, "n": supporters}
        if amounts and supporters > 1:
            low, high = min(amounts), max(amounts)
            if _money(low, currency) == _money(high, currency):
                text += _(", %(amount)s each") % {"amount": _money(high, currency)}
            else:
                text += _(", from %(low)s to %(high)s each") % {
                    "low": _money(low, currency),
                    "high": _money(high, currency),
                }
        return text + "."
    shortfall = explanation.get("shortfall")
    if shortfall is None or cost_minor is None:
        return str(explanation.get("reason", ""))
    cost = cost_minor / 10 ** minor_digits(currency)
    return _(
        "Not funded: in round %(round)s its supporters had %(left)s left, %(short)s short of its cost of %(cost)s."
    ) % {
        "round": rnd,
        "left": _money(cost - float(shortfall), currency),  # type: ignore[arg-type]
        "short": _money(shortfall, currency),
        "cost": format_money(cost_minor, currency),
    }
