"""Conformance on real data from ../shared/data (skipped with a message when it is absent).

* abcvoting: 480 unit-cost approval elections with the winning committees of each rule; our
  resolute outcome (restricted to supported candidates, as pabutools' own test does) must be one
  of the listed committees. The unmarked test takes every 16th instance; ``slow`` runs them all.
* Pabulib: greedy must reproduce the real outcome (``selected``) of every city whose META rule is
  a plain greedy variant, and every rule must equal pabutools' outcome. The unmarked test covers
  a fixed handful of small files; ``slow`` runs every file with a time limit per pabutools run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from opencall.engines.budgeting.model import Election, election_from_ballots
from opencall.engines.budgeting.pabulib import read_pabulib
from opencall.engines.budgeting.registry import RULES, _mes_rule, run_rule

from .conftest import REPO, SHARED, shared_dir

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")

ABC_RULES = {
    "av": "greedy",
    "seqphragmen": "phragmen",
    "equal-shares-with-av-completion": "mes-greedy-by-count",
    "maximin-support": "maximin-support",
}


def _abc_outcome(e: Election, rule: str) -> tuple[int, ...]:
    if rule == "mes-greedy-by-count":
        # abcvoting completes Equal Shares with approval voting: greedy by votes per unit cost
        selected, _ = _mes_rule(e, utility="cost", add1u=False, fill="votes-per-cost")
        return tuple(selected)
    return run_rule(e, rule).selected


def _check_abc(path: Path) -> int:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 - a safe loader
    profile = [list(b) for b in data["profile"]]
    e = election_from_ballots([1] * data["num_cand"], data["committeesize"], profile)
    supported = {c for b in profile for c in b}
    checked = 0
    for entry in data["compute"]:
        rule = ABC_RULES.get(entry["rule_id"])
        if rule is None or entry["resolute"]:
            continue
        allowed = {tuple(sorted(c for c in r if c in supported)) for r in entry["result"]}
        got = tuple(sorted(c for c in _abc_outcome(e, rule) if c in supported))
        assert got in allowed, f"{path.name} {entry['rule_id']}: {got} not in {sorted(allowed)}"
        checked += 1
    return checked


def test_abcvoting_subset() -> None:
    files = sorted(shared_dir("abcvoting").glob("*.abc.yaml"))[::16]
    assert len(files) == 30
    assert sum(_check_abc(f) for f in files) == 30 * len(ABC_RULES)


@pytest.mark.slow
def test_abcvoting_all() -> None:
    files = sorted(shared_dir("abcvoting").glob("*.abc.yaml"))
    assert len(files) == 480
    assert sum(_check_abc(f) for f in files) == 480 * len(ABC_RULES)


REAL_RULES = {
    "greedy": "greedy",
    "greedy-threshold": "greedy-threshold",
    "greedy-no-skip": "greedy-no-skip",
    "equalshares/add1": "mes",
}
# Warszawa 2023 Ursus says "greedy" but its real outcome follows a district-specific procedure
# (three projects above the greedy line were not funded); no greedy variant gives it.
KNOWN_EXCEPTIONS = {"Poland_Warszawa_2023_Ursus.pb"}


def _read(path: Path) -> Election:
    return read_pabulib(path.read_text(encoding="utf-8-sig"))


def _meta_rule(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as fh:
        for line in fh:
            if line.startswith("rule;"):
                return line.partition(";")[2].strip()
            if line.strip().upper() == "PROJECTS":
                break
    return ""


def test_rules_reproduce_real_outcomes() -> None:
    folder = shared_dir("pabulib")
    checked: dict[str, int] = {}
    for path in sorted(folder.glob("*.pb")):
        meta_rule = _meta_rule(path)
        if meta_rule not in REAL_RULES or path.name in KNOWN_EXCEPTIONS:
            continue
        e = _read(path)
        if any(p.selected is None for p in e.projects):
            continue
        real = sorted(p.project_id for p in e.projects if p.selected == 1)
        assert sorted(run_rule(e, REAL_RULES[meta_rule]).selected_ids) == real, path.name
        checked[meta_rule] = checked.get(meta_rule, 0) + 1
    assert checked == {"greedy": 14, "greedy-threshold": 2, "greedy-no-skip": 1, "equalshares/add1": 2}


def _reference() -> object:
    pytest.importorskip("pabutools")
    sys.path.insert(0, str(REPO / "bench" / "budgeting"))
    import reference  # type: ignore[import-not-found]

    return reference


SMALL_FILES = [
    "Netherlands_Amsterdam_643.pb",
    "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb",
    "Poland_Swiecie_2023.pb",
    "France_Toulouse_2019.pb",
]


def _compare_file(path: Path, max_seconds: float | None, skip_rules: tuple[str, ...] = ()) -> tuple[int, int]:
    from pabutools.election import parse_pabulib

    reference = _reference()
    e = _read(path)
    refs = reference.reference_rules(e.vote_type)  # type: ignore[attr-defined]
    if not refs:
        return 0, 0
    instance, profile = parse_pabulib(str(path))
    same = timeouts = 0
    for rule, fn in refs.items():
        if rule in skip_rules:
            continue
        theirs, _ = reference.run_reference(fn, instance, profile, max_seconds)  # type: ignore[attr-defined]
        if theirs is None:
            timeouts += 1
            continue
        assert sorted(run_rule(e, rule).selected_ids) == theirs, f"{path.name} {rule}"
        same += 1
    return same, timeouts


def test_same_outcomes_as_pabutools_on_small_files() -> None:
    folder = shared_dir("pabulib")
    total = 0
    for name in SMALL_FILES:
        same, timeouts = _compare_file(
            folder / name, None, skip_rules=("maximin-support", "mes", "mes-add1u", "mes-add1u-greedy")
        )
        assert timeouts == 0
        total += same
    # 7 approval rules on three files, 3 cumulative ones on Toulouse 2019
    assert total == 7 + 7 + 7 + 3


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED / "pabulib").glob("*.pb")))
def test_same_outcomes_as_pabutools_everywhere(name: str) -> None:
    path = shared_dir("pabulib") / name
    _compare_file(path, 120.0)


def test_all_rules_are_known() -> None:
    assert set(ABC_RULES.values()) - {"mes-greedy-by-count"} <= set(RULES)
