"""ISO 4217 currency codes and their minor-unit exponents, and exact text <-> minor-unit conversion.

The table is ISO 4217 list one (active codes) as of 2025, limited to codes with a numeric minor
unit: the "N.A." entries (precious metals XAU/XAG/XPT/XPD, XDR, XSU, XUA, the bond units XBA-XBD,
XTS for testing, XXX for "no currency") have no minor unit and so cannot be held as integers.
Withdrawn codes (ANG -> XCG, HRK -> EUR, SLL -> SLE, ZWL -> ZWG, VEF, MRO, STD, BYR, CUC, ...)
are not accepted. ISO's exponent is used even where daily practice differs (HUF, IDR, TWD: 2).

Complexity: lookups O(1); ``to_minor_units`` / ``format_minor_units`` O(digits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from opencall.engines.ledger.errors import InvalidAmount, UnknownCurrency

_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC "
    "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

ISO_4217: Mapping[str, int] = MappingProxyType(
    {
        code: exponent
        for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
        for code in codes.split()
    }
)
"""Alphabetic code -> minor-unit exponent (USD 2: one dollar is 100 minor units; JPY 0; KWD 3)."""


def is_currency(code: object) -> bool:
    """True for an ISO 4217 alphabetic code in the table (upper case, exactly as ISO writes it)."""
    return isinstance(code, str) and code in ISO_4217


def minor_units(code: str) -> int:
    """The exponent of ``code``: how many decimal places its minor unit has."""
    if not is_currency(code):
        raise UnknownCurrency(code)
    return ISO_4217[code]


_AMOUNT = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))?$")


def to_minor_units(text: str, currency: str) -> int:
    """Parse a plain decimal ("1234.50", "-3", "0.125") into integer minor units, exactly.

    Refuses more decimals than the currency has (no silent rounding), exponents, separators and
    anything else that is not ``-?digits[.digits]``.
    """
    exponent = minor_units(currency)
    match = _AMOUNT.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidAmount(f"{text!r} is not a plain decimal amount")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(fraction.rstrip("0")) > exponent:
        raise InvalidAmount(f"{text!r} has more decimals than {currency} allows ({exponent})")
    fraction = fraction[:exponent].ljust(exponent, "0")
    value = int(whole + fraction)
    return -value if sign else value


def format_minor_units(amount: int, currency: str) -> str:
    """The plain decimal text of ``amount`` minor units ("1234.50" for 123450 USD); inverse of parsing."""
    exponent = minor_units(currency)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(f"{amount!r} is not an integer number of minor units")
    digits = str(abs(amount)).rjust(exponent + 1, "0")
    text = f"{digits[:-exponent]}.{digits[-exponent:]}" if exponent else digits
    return f"-{text}" if amount < 0 else text
