from __future__ import annotations

import math

import numpy as np
import pytest

from opencall.engines.assignment.affinity import (
    combine_affinities,
    skill_affinity,
    stem,
    text_affinity,
    tokenize,
)
from opencall.engines.assignment.evaluation import expertise_ranking_loss


def test_tokenize_drops_stop_words_and_stems() -> None:
    assert tokenize("The Learning of Graph Networks, in 2024: a re-ranking study!") == [
        "learn",
        "graph",
        "network",
        "re-rank",
        "study",
    ]


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("networks", "network"),
        ("studies", "study"),
        ("classes", "class"),
        ("analysis", "analysis"),
        ("corpus", "corpus"),
        ("optimization", "optimize"),
        ("learned", "learn"),
        ("gas", "gas"),
    ],
)
def test_stem(word: str, root: str) -> None:
    assert stem(word) == root


def test_identical_text_scores_one_and_disjoint_text_zero() -> None:
    sims = text_affinity(
        [["solar panel recycling"], ["protein folding kinetics"], []],
        ["Recycling solar panels", "Kinetics of folding proteins", "unrelated bakery"],
    )
    assert sims.shape == (3, 3)
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert sims[1, 1] == pytest.approx(1.0, abs=1e-12)
    assert sims[0, 1] == 0.0
    assert sims[:, 2].tolist() == [0.0, 0.0, 0.0]
    assert sims[2].tolist() == [0.0, 0.0, 0.0]


def test_top_documents_are_averaged() -> None:
    docs = [["battery chemistry", "medieval poetry"]]
    ideas = ["battery chemistry"]
    assert text_affinity(docs, ideas, top=1)[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert text_affinity(docs, ideas, top=2)[0, 0] == pytest.approx(0.5, abs=1e-12)
    assert text_affinity(docs, ideas, top=2, weighting="bm25")[0, 0] == pytest.approx(0.5)
    joined = text_affinity(docs, ideas, top=0)[0, 0]
    assert 0.0 < joined < 1.0
    with pytest.raises(ValueError, match="top must be"):
        text_affinity(docs, ideas, top=-1)


def test_skill_affinity_weights_rare_skills_more() -> None:
    judges = [{"Python", "machine  learning"}, {"rust"}]
    ideas = [{"machine learning", "Rust", "python"}, set()]
    sims = skill_affinity(judges, ideas)
    # 3 people; "python" is stated twice, "machine learning" twice, "rust" twice.
    idf = math.log(4 / 3) + 1.0
    assert sims[0, 0] == pytest.approx(2 * idf / (3 * idf))
    assert sims[1, 0] == pytest.approx(1 / 3)
    assert sims[:, 1].tolist() == [0.0, 0.0]
    rare = skill_affinity([{"go"}, {"sql"}], [{"go", "sql"}, {"sql"}])
    # "go" is held by 2 of 4 people, "sql" by 3: covering "go" is worth more.
    assert rare[0, 0] > rare[1, 0]
    assert rare[0, 0] + rare[1, 0] == pytest.approx(1.0)


def test_combine_rescales_each_part() -> None:
    text = np.array([[0.2, 0.4], [0.6, 1.0]])
    skills = np.array([[1.0, 1.0], [1.0, 1.0]])
    combined = combine_affinities([(text, 2.0), (skills, 1.0)])
    assert combined.ravel().tolist() == pytest.approx([0.0, 0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="shapes differ"):
        combine_affinities([(text, 1.0), (np.zeros((1, 2)), 1.0)])


def test_expertise_loss_weighs_mistakes_by_the_reference_gap() -> None:
    reference = {"r": {"a": 5.0, "b": 3.0, "c": 1.0}}
    # (a, b) right, (a, c) right, (b, c) wrong: costs 2 of 8.
    assert expertise_ranking_loss({"r": {"a": 0.9, "b": 0.1, "c": 0.5}}, reference) == 0.25
    # A tie costs half: (b, c) tied -> 1 of 8.
    assert expertise_ranking_loss({"r": {"a": 0.9, "b": 0.1, "c": 0.1}}, reference) == 0.125
    assert expertise_ranking_loss({"r": {"a": 1, "b": 1, "c": 1}}, reference) == 0.5
    with pytest.raises(KeyError, match="paper 'c'"):
        expertise_ranking_loss({"r": {"a": 1.0, "b": 0.0}}, reference)
