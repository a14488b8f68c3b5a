"""Loss of predicted affinities against self-reported expertise.

Method: the main metric of Stelmakh, Wieting, Xi, Neubig, Shah, "A Gold Standard Dataset for
the Reviewer Assignment Problem" (arXiv:2303.16750), a weighted Kendall-tau distance. For each
reviewer and each pair of papers they rated, a pair ordered against the reference costs the
gap between the two reference scores, a tie in the prediction costs half of it; the loss is
the total cost over the total of all gaps (0 = perfect order, 1 = fully reversed, a constant
predictor scores 0.5). Only the order of predictions within a reviewer matters.

Complexity: O(sum over reviewers of ratings^2).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations


def expertise_ranking_loss(
    predicted: Mapping[str, Mapping[str, float]],
    reference: Mapping[str, Mapping[str, float]],
) -> float:
    """The weighted Kendall-tau loss of ``predicted[reviewer][paper]`` against ``reference``.

    Every (reviewer, paper) in ``reference`` must be in ``predicted``.
    """
    total = 0.0
    loss = 0.0
    for reviewer, truth in reference.items():
        guess = predicted.get(reviewer)
        if guess is None:
            raise KeyError(f"no predictions for reviewer {reviewer!r}")
        for first, second in combinations(truth, 2):
            if first not in guess or second not in guess:
                missing = first if first not in guess else second
                raise KeyError(f"no prediction for reviewer {reviewer!r}, paper {missing!r}")
            true_gap = truth[first] - truth[second]
            guess_gap = guess[first] - guess[second]
            total += abs(true_gap)
            if guess_gap * true_gap < 0:
                loss += abs(true_gap)
            elif guess_gap == 0:
                loss += abs(true_gap) / 2
    if total == 0:
        raise ValueError("the reference has no pair of papers with different expertise")
    return loss / total
