"""Money is integer minor units plus an ISO 4217 code."""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK"}
CURRENCIES = ["EUR", "USD", "GBP", "CNY", "JPY", "CHF", "PLN", "SEK"]


def minor_digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def format_money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    digits = minor_digits(currency)
    value = Decimal(amount_minor).scaleb(-digits)
    return f"{value:,.{digits}f} {currency.upper()}"


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    return int((Decimal(str(amount)).scaleb(minor_digits(currency))).to_integral_value())
