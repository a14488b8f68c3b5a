"""Shared-data loaders for the ranking tests; tests skip cleanly when the data is absent."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from opencall.engines.ranking import JudgeScores, PairwiseVotes
from tests.shared_data import SHARED_DATA


def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def readinglevel() -> tuple[PairwiseVotes, NDArray[np.float64]]:
    root = shared_data() / "pairwise" / "readinglevel"
    if not (root / "all_pair.txt").is_file():
        pytest.skip(f"shared data not found at {root} (set OPENCALL_SHARED_DATA)")
    raw = np.loadtxt(root / "all_pair.txt").astype(np.int64)
    doc = np.loadtxt(root / "doc_info.txt").astype(np.int64)
    truth = np.zeros(int(doc[:, 0].max()))
    truth[doc[:, 0] - 1] = doc[:, 1]
    keep = raw[:, 1] != raw[:, 2]  # two rows compare a passage with itself
    votes = PairwiseVotes.from_winners(
        raw[keep, 1] - 1,
        raw[keep, 2] - 1,
        raw[keep, 0] - 1,
        n_ideas=truth.shape[0],
        n_voters=int(raw[:, 0].max()),
    )
    return votes, truth


@pytest.fixture(scope="session")
def peer_grading() -> tuple[JudgeScores, NDArray[np.float64]]:
    """Peer rubric totals as judge scores, and the tutors' mean total per submission."""
    data, _, tutor = _peer_grading_tables()
    return data, tutor


@pytest.fixture(scope="session")
def peer_grading_rubric() -> tuple[JudgeScores, NDArray[np.float64]]:
    """The same peer grades item by item (5 rubric criteria), and the tutors' mean total."""
    _, rubric, tutor = _peer_grading_tables()
    return rubric, tutor


@functools.cache  # both fixtures read the file once
def _peer_grading_tables() -> tuple[JudgeScores, JudgeScores, NDArray[np.float64]]:
    path = shared_data() / "calibration" / "statbiscuit_peer_grading" / "student_and_tutor-grades.RData"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path} (set OPENCALL_SHARED_DATA)")
    rdata = pytest.importorskip("rdata", reason="the test-only `rdata` reader is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tibble classes fall back to data.frame, on purpose
        frames = rdata.read_rda(str(path))
    peer, tutor = frames["peer_grades"], frames["tutor_grades"]
    subs = sorted(set(peer["file_name"]))
    sub_index = {s: i for i, s in enumerate(subs)}
    judges = sorted(set(peer["assessor_id"]))
    judge_index = {s: i for i, s in enumerate(judges)}
    data = JudgeScores.from_lists(
        [sub_index[s] for s in peer["file_name"]],
        [judge_index[s] for s in peer["assessor_id"]],
        peer["score"].to_numpy(dtype=float),
        n_ideas=len(subs),
        n_judges=len(judges),
    )
    rubric = JudgeScores.from_rubric(
        data.idea,
        data.judge,
        peer[[f"item{k}" for k in range(1, 6)]].to_numpy(dtype=float),
        n_ideas=len(subs),
        n_judges=len(judges),
    )
    return data, rubric, tutor.groupby("file_name")["total"].mean().loc[subs].to_numpy(dtype=float)
