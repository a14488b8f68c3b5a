"""Similarity engine: lexical scores (character n-gram TF-IDF) for any script, an exact index, thresholds.

Each module names its method and source; this package only re-exports the public API.
"""

from .calibration import Threshold, average_precision, choose_threshold, f1_at, labels_from_scores
from .lexical import WORD_WEIGHT, LexicalIndex, Match, score, shared_phrases
from .text import MAX_TEXT_CHARS, TextError, Token, check_text, features, tokens

__all__ = [
    "MAX_TEXT_CHARS",
    "WORD_WEIGHT",
    "LexicalIndex",
    "Match",
    "TextError",
    "Threshold",
    "Token",
    "average_precision",
    "check_text",
    "choose_threshold",
    "f1_at",
    "features",
    "labels_from_scores",
    "score",
    "shared_phrases",
    "tokens",
]
