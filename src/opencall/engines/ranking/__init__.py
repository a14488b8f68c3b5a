"""Ranking engine: pairwise votes (Bradley–Terry, Crowd-BT), adaptive pairs, ratings, judges.

Each module names its method and source; this package only re-exports the public API.
"""

from .calibration import CalibratedScores, JudgeScores, calibrate_judges
from .pairwise import PairwiseRanking, PairwiseVotes, fit_bradley_terry, fit_crowd_bt
from .ratings import ShrunkScores, aggregate_likes, aggregate_stars
from .selection import SelectionContext, misorder_gain, next_pair, pair_gain, uniform_pair, vote_information

__all__ = [
    "CalibratedScores",
    "JudgeScores",
    "PairwiseRanking",
    "PairwiseVotes",
    "SelectionContext",
    "ShrunkScores",
    "aggregate_likes",
    "aggregate_stars",
    "calibrate_judges",
    "fit_bradley_terry",
    "fit_crowd_bt",
    "misorder_gain",
    "next_pair",
    "pair_gain",
    "uniform_pair",
    "vote_information",
]
