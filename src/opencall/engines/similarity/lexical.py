"""Lexical similarity: character n-gram TF-IDF cosine, for a pair of texts and over an index.

Method
------
Each text becomes a bag of features (:mod:`.text`: character 2..4-grams inside words and the
words themselves for spaced scripts; character 1- and 2-grams for CJK text, so Simplified
Chinese needs no word segmenter). A feature's weight is ``(1 + ln tf) * idf`` (sublinear term
frequency; Salton & Buckley, "Term-weighting approaches in automatic text retrieval", IP&M 1988)
times ``word_weight`` for whole-word features, with the smoothed inverse document frequency
``idf = ln((1 + N) / (1 + df)) + 1`` of scikit-learn's ``TfidfVectorizer`` over the index's N
documents. Similarity is the cosine of the two weight vectors, in [0, 1] as weights are
non-negative: 1 for texts with the same features (the same words in any order), 0 for texts with
none in common. Character n-grams make the score robust to inflection and typos ("recycling" /
"recycled") and work the same way for any script (McNamee & Mayfield, "Character n-gram
tokenization for European language text retrieval", Information Retrieval 2004).

:func:`score` compares two texts on their own (every idf = 1: no corpus to weigh by);
:meth:`LexicalIndex.score` weighs by the index's document frequencies, so common words count less.

The index keeps one sparse row of sublinear term frequencies per document. Search is exact: the
query's idf-squared weights times the CSR matrix (one sparse matrix-vector product), divided by the
rows' norms under the current idf (one more product, recomputed only after the index changed).
Documents added since the last build sit in a small side matrix; removed ones are masked; the
main matrix is rebuilt when either exceeds a tenth of it, so add and remove are O(features of the
text) amortised.

The reason shown for a match (:func:`shared_phrases`) is the longest runs of words (or, for CJK,
of two or more characters) the two texts share, heaviest first by the idf of their words, with
runs of stop words only left out, as spelled in the query.

Complexity: features O(text length); ``score`` O(features); ``search`` O(nnz of the index) for
the product plus O(N) for the top-k selection; index memory O(nnz); explanations O(q * d) in the
query's and document's token counts (both capped at ``_EXPLAIN_TOKENS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .text import MAX_TEXT_CHARS, Token, check_text, features, tokens

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

WORD_WEIGHT = 1.0
"""Default extra weight of whole-word features against character n-grams."""

_EXPLAIN_TOKENS = 2_000
_REBUILD_SHARE = 0.1

_STOP_TEXT = """a an and are as at be been but by can could did do does for from had has have he her his i if
    in into is it its may me my no not of on or our she so that the their them then there these they
    this those to too us was we were what when which who will with would you your"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True)
class Match:
    """A search result: the document's id, its cosine similarity to the query, and the phrases they share."""

    id: Hashable
    score: float
    phrases: tuple[str, ...] = ()


def _weights(counts: dict[str, int], word_weight: float) -> dict[str, float]:
    return {f: (1.0 + math.log(c)) * (word_weight if f[0] == "w" else 1.0) for f, c in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float], idf: Callable[[str], float]) -> float:
    if a == b:
        return 1.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(w * large[f] * idf(f) ** 2 for f, w in small.items() if f in large)
    if dot == 0.0:
        return 0.0
    na = math.sqrt(sum((w * idf(f)) ** 2 for f, w in a.items()))
    nb = math.sqrt(sum((w * idf(f)) ** 2 for f, w in b.items()))
    return min(1.0, max(0.0, dot / (na * nb)))


def score(a: str, b: str, *, word_weight: float = WORD_WEIGHT, max_chars: int = MAX_TEXT_CHARS) -> float:
    """Cosine similarity in [0, 1] of the two texts' feature vectors, every idf = 1.

    Raises :class:`~.text.TextError` for a text the scorer refuses.
    """
    wa = _weights(features(check_text(a, max_chars=max_chars)), word_weight)
    wb = _weights(features(check_text(b, max_chars=max_chars)), word_weight)
    return _cosine(wa, wb, lambda _f: 1.0)


def shared_phrases(
    query: str, document: str, *, limit: int = 3, weight: Callable[[Token], float] | None = None
) -> tuple[str, ...]:
    """Up to ``limit`` phrases both texts contain, heaviest first, spelled as in ``query``.

    A phrase is a maximal run of consecutive shared tokens (words; single CJK characters, runs
    of two or more only). Runs made only of stop words or of one word shorter than three
    characters are left out. ``weight(token)`` ranks them (default 1 per token: longest first);
    runs overlapping a heavier one in the query are dropped.
    """
    return _shared_phrases(query, tokens(query), tokens(document), limit, weight)


def _shared_phrases(
    query: str,
    q_tokens: list[Token],
    d_tokens: list[Token],
    limit: int,
    weight: Callable[[Token], float] | None,
) -> tuple[str, ...]:
    q_tokens = q_tokens[:_EXPLAIN_TOKENS]
    d_words = [t.text for t in d_tokens[:_EXPLAIN_TOKENS]]
    where: dict[str, list[int]] = {}
    for j, word in enumerate(d_words):
        where.setdefault(word, []).append(j)
    q_words = [t.text for t in q_tokens]
    runs: dict[tuple[int, int], None] = {}  # (start in query, length), insertion-ordered
    for i, word in enumerate(q_words):
        for j in where.get(word, ()):
            if i > 0 and j > 0 and q_words[i - 1] == d_words[j - 1]:
                continue  # not the start of a run
            n = 1
            while i + n < len(q_words) and j + n < len(d_words) and q_words[i + n] == d_words[j + n]:
                n += 1
            runs[(i, n)] = None
    scored: list[tuple[float, int, int]] = []
    for i, n in runs:
        run = q_tokens[i : i + n]
        if not _worth_showing(run):
            continue
        w = sum((weight(t) if weight else 1.0) for t in run)
        scored.append((w, i, n))
    scored.sort(key=lambda x: (-x[0], x[1], -x[2]))
    taken: list[tuple[int, int]] = []
    phrases: list[str] = []
    for _w, i, n in scored:
        if len(phrases) >= limit:
            break
        if any(i < ti + tn and ti < i + n for ti, tn in taken):
            continue
        taken.append((i, n))
        phrases.append(query[q_tokens[i].start : q_tokens[i + n - 1].end])
    return tuple(phrases)


def _worth_showing(run: list[Token]) -> bool:
    if all(t.cjk for t in run):
        return len(run) >= 2
    content = [t for t in run if t.cjk or t.text not in _STOP_WORDS]
    if not content:
        return False
    return len(run) > 1 or len(run[0].text) >= 3 or run[0].text.isdigit()


@dataclass
class _Entry:
    counts: dict[str, int]
    weights: dict[str, float]
    tokens: list[Token]
    main_row: int  # row in the main matrix, or -1 while the entry is pending


class LexicalIndex:
    """Documents by id, searchable by exact cosine similarity under the index's own idf.

    Mutable: ``add`` (or replace) and ``remove`` documents by id; ``search`` for the ``k`` most
    similar, with the shared phrases that explain each match. Ids are any hashable values (the
    platform uses idea ids). Deterministic: equal scores come out in the order documents were added.
    """

    def __init__(self, *, word_weight: float = WORD_WEIGHT, max_chars: int = MAX_TEXT_CHARS) -> None:
        self.word_weight = word_weight
        self.max_chars = max_chars
        self._entries: dict[Hashable, _Entry] = {}
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(1024, dtype=np.float64)
        self._main = sparse.csr_matrix((0, 0), dtype=np.float64)
        self._main_sq = self._main
        self._main_ids: list[Hashable] = []
        self._main_alive = np.zeros(0, dtype=bool)
        self._dead = 0
        self._pending: list[Hashable] = []
        self._side: tuple[list[Hashable], sparse.csr_matrix] | None = None
        self._norms: FloatArray | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def add(self, doc_id: Hashable, text: str) -> None:
        """Index ``text`` under ``doc_id``, replacing the document of that id if there is one."""
        counts = dict(features(check_text(text, max_chars=self.max_chars)))
        if doc_id in self._entries:
            self.remove(doc_id)
        vocab = self._vocab
        cols = [vocab.setdefault(f, len(vocab)) for f in counts]
        if len(vocab) > self._df.shape[0]:
            self._df = np.concatenate([self._df, np.zeros(max(len(vocab), self._df.shape[0]))])
        self._df[cols] += 1  # a document's features are distinct: no repeated index
        entry = _Entry(counts, _weights(counts, self.word_weight), tokens(text), -1)
        self._entries[doc_id] = entry
        self._pending.append(doc_id)
        self._side = None
        self._norms = None

    def remove(self, doc_id: Hashable) -> None:
        """Forget the document; a missing id raises ``KeyError``."""
        entry = self._entries.pop(doc_id)
        self._df[[self._vocab[f] for f in entry.counts]] -= 1
        if entry.main_row >= 0:
            self._main_alive[entry.main_row] = False
            self._dead += 1
        else:
            self._pending.remove(doc_id)
            self._side = None
        self._norms = None

    # -- weights ---------------------------------------------------------------------------

    def idf(self, feature: str) -> float:
        """The smoothed idf of a feature under the index's current documents."""
        col = self._vocab.get(feature)
        df = self._df[col] if col is not None else 0.0
        return math.log((1.0 + len(self._entries)) / (1.0 + df)) + 1.0

    def _idf_vector(self) -> FloatArray:
        n = len(self._vocab)
        out: FloatArray = np.log((1.0 + len(self._entries)) / (1.0 + self._df[:n])) + 1.0
        return out

    def score(self, a: str, b: str) -> float:
        """Cosine similarity in [0, 1] of two texts under the index's idf (neither needs to be indexed)."""
        wa = _weights(features(check_text(a, max_chars=self.max_chars)), self.word_weight)
        wb = _weights(features(check_text(b, max_chars=self.max_chars)), self.word_weight)
        return _cosine(wa, wb, self.idf)

    def explain(self, query: str, doc_id: Hashable, *, limit: int = 3) -> tuple[str, ...]:
        """The phrases ``query`` shares with the indexed document, heaviest first (see :func:`shared_phrases`)."""
        check_text(query, max_chars=self.max_chars)
        return _shared_phrases(query, tokens(query), self._entries[doc_id].tokens, limit, self._word_idf)

    def _word_idf(self, token: Token) -> float:
        return self.idf(("h" if token.cjk else "w") + token.text)

    # -- matrices --------------------------------------------------------------------------

    def _rows(self, ids: Iterable[Hashable], n_cols: int) -> sparse.csr_matrix:
        indptr, cols, vals = [0], [], []
        for doc_id in ids:
            entry = self._entries[doc_id]
            for f, w in entry.weights.items():
                cols.append(self._vocab[f])
                vals.append(w)
            indptr.append(len(cols))
        return sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), np.asarray(cols, dtype=np.int64), np.asarray(indptr)),
            shape=(len(indptr) - 1, n_cols),
        )

    def _rebuild(self) -> None:
        ids = list(self._entries)
        self._main = self._rows(ids, len(self._vocab))
        self._main_sq = self._main.multiply(self._main).tocsr()
        self._main_ids = ids
        self._main_alive = np.ones(len(ids), dtype=bool)
        for row, doc_id in enumerate(ids):
            self._entries[doc_id].main_row = row
        self._dead = 0
        self._pending = []
        self._side = None
        self._norms = None

    def _prepare(self) -> None:
        n_main = len(self._main_ids)
        if len(self._pending) + self._dead > max(32, _REBUILD_SHARE * n_main):
            self._rebuild()
        if self._side is None:
            self._side = (list(self._pending), self._rows(self._pending, len(self._vocab)))

    def search(
        self,
        text: str,
        k: int = 5,
        *,
        min_score: float = 0.0,
        accept: Callable[[Hashable], bool] | None = None,
        explain: bool = True,
    ) -> list[Match]:
        """The ``k`` indexed documents most similar to ``text``, best first, scores above ``min_score``.

        ``accept(id)``, when given, filters the ranked list before it is cut to ``k`` (exact
        search scores every document, so a filter costs no recall). ``explain`` adds the shared
        phrases to each match.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        check_text(text, max_chars=self.max_chars)
        q_weights = _weights(features(text), self.word_weight)
        if not self._entries:
            return []
        self._prepare()
        assert self._side is not None
        idf = self._idf_vector()
        q_norm = math.sqrt(sum((w * self.idf(f)) ** 2 for f, w in q_weights.items()))
        known = [(self._vocab[f], w) for f, w in q_weights.items() if f in self._vocab]
        q = np.zeros(len(self._vocab), dtype=np.float64)
        if known:
            cols, vals = zip(*known, strict=True)
            q[list(cols)] = vals
        q *= idf**2
        side_ids, side = self._side
        if self._norms is None:
            idf_sq = idf**2
            self._norms = np.concatenate(
                [
                    np.sqrt(self._main_sq @ idf_sq[: self._main.shape[1]]),
                    np.sqrt(side.multiply(side) @ idf_sq) if side.shape[0] else np.zeros(0),
                ]
            )
        dots = np.concatenate([self._main @ q[: self._main.shape[1]], side @ q if side.shape[0] else np.zeros(0)])
        norms = self._norms
        alive = np.concatenate([self._main_alive, np.ones(len(side_ids), dtype=bool)])
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(alive & (dots > 0), dots / (norms * q_norm), 0.0)
        np.clip(scores, 0.0, 1.0, out=scores)
        scores[scores > 1.0 - 1e-12] = 1.0  # the same features: 1 exactly, as the pair scorer says
        ids = self._main_ids + side_ids
        candidates = np.flatnonzero(scores > min_score)
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        out: list[Match] = []
        q_tokens = tokens(text) if explain else []
        for row in order:
            doc_id = ids[row]
            if accept is not None and not accept(doc_id):
                continue
            phrases = (
                _shared_phrases(text, q_tokens, self._entries[doc_id].tokens, 3, self._word_idf) if explain else ()
            )
            out.append(Match(doc_id, float(scores[row]), phrases))
            if len(out) == k:
                break
        return out
