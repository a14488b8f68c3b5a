"""Readers for the shared evaluation data (never copied into the repository)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opencall.engines.ranking import JudgeScores, PairwiseVotes


def shared_data() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    return Path(os.environ.get("OPENCALL_SHARED_DATA", str(default)))


def load_pairwise(name: str) -> tuple[PairwiseVotes, NDArray[np.float64], dict[str, int]]:
    """Votes (self-comparisons dropped), truth per idea, and raw counts for the report.

    Files: ``all_pair.txt`` rows ``annotator winner loser`` (1-based); ``doc_info.txt`` rows
    ``doc level`` or just the level by line.
    """
    root = shared_data() / "pairwise" / name
    raw = np.loadtxt(root / "all_pair.txt").astype(np.int64)
    doc = np.loadtxt(root / "doc_info.txt")
    if doc.ndim == 1:
        doc = np.column_stack([np.arange(1, doc.shape[0] + 1), doc])
    n = int(doc[:, 0].max())
    truth = np.zeros(n)
    truth[doc[:, 0].astype(np.int64) - 1] = doc[:, 1]
    voter, winner, loser = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2] - 1
    keep = winner != loser
    votes = PairwiseVotes.from_winners(winner[keep], loser[keep], voter[keep], n_ideas=n, n_voters=int(voter.max()) + 1)
    return votes, truth, {"rows": int(raw.shape[0]), "self_comparisons": int((~keep).sum())}


def load_raw_pairs(name: str) -> NDArray[np.int64]:
    return np.loadtxt(shared_data() / "pairwise" / name / "all_pair.txt").astype(np.int64)


def load_peer_grading(*, rubric: bool = False) -> tuple[JudgeScores, NDArray[np.float64]]:
    """Peer rubric totals (or, with ``rubric``, the 5 rubric items) as judge scores, and the tutors'
    mean total per submission."""
    import rdata

    path = shared_data() / "calibration" / "statbiscuit_peer_grading"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tibble classes fall back to data.frame, on purpose
        frames = rdata.read_rda(str(path / "student_and_tutor-grades.RData"))
    peer, tutor = frames["peer_grades"], frames["tutor_grades"]
    subs = sorted(set(peer["file_name"]))
    sub_index = {s: i for i, s in enumerate(subs)}
    judges = sorted(set(peer["assessor_id"]))
    judge_index = {s: i for i, s in enumerate(judges)}
    idea = [sub_index[s] for s in peer["file_name"]]
    judge = [judge_index[s] for s in peer["assessor_id"]]
    if rubric:
        items = peer[[f"item{k}" for k in range(1, 6)]].to_numpy(dtype=float)
        data = JudgeScores.from_rubric(idea, judge, items, n_ideas=len(subs), n_judges=len(judges))
    else:
        data = JudgeScores.from_lists(
            idea, judge, peer["score"].to_numpy(dtype=float), n_ideas=len(subs), n_judges=len(judges)
        )
    tutor_mean = tutor.groupby("file_name")["total"].mean()
    return data, tutor_mean.loc[subs].to_numpy(dtype=float)
