"""Checking and cutting text into the features the lexical scorer counts.

Method
------
Text is NFKC-normalised and case-folded, then cut into runs of letters and digits. A run is
split further by script: ideographic / kana characters (CJK, written without spaces) and
everything else (Latin, Cyrillic, Greek, Hangul, ... written with spaces). Features:

- for a spaced word ``w``: its character n-grams, n = 2..4, of `` w `` padded with one space
  each side (n-grams never cross a word boundary; the "char_wb" analyser of scikit-learn), and
  the whole word as a feature of its own;
- for a CJK run: every character (unigram) and every pair of adjacent characters (bigram),
  the standard indexing unit for Chinese without a word segmenter (Nie, Gao, Zhang & Zhou,
  "On the use of words and n-grams for Chinese information retrieval", IRAL 2000).

Mixed scripts in one text are cut run by run, so "用 Python 做机器学习" gives the Latin features
of "python" and the CJK features of "用" and "做机器学习". Feature names carry a prefix per kind
(``c`` n-gram, ``w`` word, ``h`` CJK) so kinds never collide.

The tokens kept for explanations (:func:`tokens`) are the words and the single CJK characters
with their spans in the original text, so a shared phrase can be shown as the author wrote it.

Checks (:func:`check_text`) reject, with a :class:`TextError` naming the reason: text that is
not ``str``; empty or blank text, or text with no letter or digit; text longer than the limit;
control characters other than tab, line feed and carriage return, lone surrogates and U+FFFD
(the mark of bytes decoded as text).

Complexity: O(length of the text) time and features.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

MAX_TEXT_CHARS = 20_000
"""Default limit on a text's length, in characters (an idea's title + summary + body fits well)."""

TextProblem = Literal["not_text", "empty", "too_long", "binary"]

_RUN = re.compile(r"[^\W_]+")
_CJK_CLASS = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
    "\U00020000-\U0003134f"  # Extensions B..G
)
_SPLIT = re.compile(f"[{_CJK_CLASS}]+|[^{_CJK_CLASS}]+")
_IS_CJK = re.compile(f"[{_CJK_CLASS}]")
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_NGRAM_SIZES = (2, 3, 4)


class TextError(ValueError):
    """A text the scorer refuses, with ``problem`` naming why (for a form message or a 422)."""

    def __init__(self, problem: TextProblem, message: str) -> None:
        super().__init__(message)
        self.problem: TextProblem = problem


@dataclass(frozen=True)
class Token:
    """A word (case-folded) or one CJK character, with its span ``[start, end)`` in the original text."""

    text: str
    start: int
    end: int
    cjk: bool


def check_text(text: object, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Return ``text`` if the scorer accepts it, else raise :class:`TextError` (see the module doc)."""
    if not isinstance(text, str):
        kind = type(text).__name__
        raise TextError("not_text", f"Expected text (str), got {kind}.")
    if len(text) > max_chars:
        raise TextError("too_long", f"The text is {len(text):,} characters long; the limit is {max_chars:,}.")
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs" or char == "\ufffd":
            raise TextError(
                "binary",
                f"The text contains a control or invalid character (U+{ord(char):04X} at position {position});"
                " it looks like binary data.",
            )
    if not text.strip():
        raise TextError("empty", "The text is empty.")
    if _RUN.search(unicodedata.normalize("NFKC", text)) is None:
        raise TextError("empty", "The text has no letters or digits.")
    return text


def tokens(text: str) -> list[Token]:
    """The text's words and CJK characters, in order, with their spans in ``text``.

    Normalisation (NFKC) may change a text's length, so spans are found on the original text
    character by character; a character whose NFKC form is several characters stays one token.
    """
    out: list[Token] = []
    for run in _RUN.finditer(text):
        for part in _SPLIT.finditer(run.group()):
            start = run.start() + part.start()
            piece = part.group()
            if _IS_CJK.match(piece):
                out.extend(
                    Token(unicodedata.normalize("NFKC", ch).casefold(), start + i, start + i + 1, True)
                    for i, ch in enumerate(piece)
                )
            else:
                out.append(Token(unicodedata.normalize("NFKC", piece).casefold(), start, start + len(piece), False))
    return out


def features(text: str) -> Counter[str]:
    """Counts of the text's features (character n-grams, words, CJK uni- and bigrams)."""
    grams: list[str] = []
    normal = unicodedata.normalize("NFKC", text).casefold()
    for run in _RUN.finditer(normal):
        for part in _SPLIT.finditer(run.group()):
            piece = part.group()
            if _IS_CJK.match(piece):
                grams.extend("h" + ch for ch in piece)
                grams.extend("h" + piece[i : i + 2] for i in range(len(piece) - 1))
            else:
                grams.append("w" + piece)
                padded = f" {piece} "
                for n in _NGRAM_SIZES:
                    grams.extend("c" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return Counter(grams)
