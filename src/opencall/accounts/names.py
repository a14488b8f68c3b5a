"""Display names: one rule for the sign-up form, the profile form, the API and the action.

A name is shown beside ideas, comments and votes, so it must read as what it is: characters that
reorder the text around them (U+202E, right-to-left override, shows the letters after it reversed) or
that are invisible (zero-width joiners, BOM) would let one person pass for another.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

MAX_LENGTH = 80

# Control (Cc), format (Cf: bidi embeddings/overrides/isolates, zero-width marks, BOM…), surrogates
# (Cs), private use (Co), unassigned (Cn), and line/paragraph separators (Zl, Zp).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Not format characters to Unicode, yet they draw nothing: Hangul and Braille blanks, and the filler
# marks that some fonts render as empty space.
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f", "\u180e"}


def clean_display_name(raw: str) -> str:
    """The name in NFKC form with outer whitespace removed ("" stays allowed: the forms require a name,
    the API may clear it); ValueError with a message if it is refused."""
    name = unicodedata.normalize("NFKC", raw).strip()
    refused = sorted({ch for ch in name if unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in _INVISIBLE})
    if refused:
        listed = ", ".join(f"U+{ord(ch):04X}" for ch in refused)
        raise ValueError(
            _("Names cannot contain invisible or text-direction characters (%(list)s).") % {"list": listed}
        )
    if any(ch.isspace() and ch != " " for ch in name):
        raise ValueError(_("Use plain spaces between the words of a name."))
    if len(name) > MAX_LENGTH:
        raise ValueError(_("At most %(n)s characters.") % {"n": MAX_LENGTH})
    return name
