"""Assignment engine: which judges review which ideas.

- ``matching``: k judges per idea within per-judge load windows, total affinity maximised by
  min-cost flow (OR-Tools) with an LP-certified optimality gap; conflicts are hard.
- ``fairness``: the same constraints, worst-served idea maximised first (max-min MILP, then
  total affinity), in the spirit of FairIR (Kobren, Saha, McCallum, KDD 2019).
- ``conflicts``: conflict masks from organisation, team-member and declared conflicts.
- ``affinity``: judge-idea affinity from stated skills and profile text (BM25 / TF-IDF).
- ``evaluation``: the expertise-ranking loss of Stelmakh et al. (arXiv:2303.16750).

Pure NumPy/SciPy/OR-Tools; no I/O; deterministic.
"""

from opencall.engines.assignment.affinity import (
    combine_affinities,
    skill_affinity,
    text_affinity,
    tokenize,
)
from opencall.engines.assignment.conflicts import conflict_mask, shared_id_conflicts
from opencall.engines.assignment.evaluation import expertise_ranking_loss
from opencall.engines.assignment.fairness import assign_fair
from opencall.engines.assignment.matching import (
    Assignment,
    AssignmentProblem,
    InfeasibleAssignmentError,
    assign_max_affinity,
    check_problem,
    lagrangian_bound,
)

__all__ = [
    "Assignment",
    "AssignmentProblem",
    "InfeasibleAssignmentError",
    "assign",
    "assign_fair",
    "assign_max_affinity",
    "check_problem",
    "combine_affinities",
    "conflict_mask",
    "expertise_ranking_loss",
    "lagrangian_bound",
    "shared_id_conflicts",
    "skill_affinity",
    "text_affinity",
    "tokenize",
]


def assign(problem: AssignmentProblem, *, fair: bool = False) -> Assignment:
    """Best total affinity (``fair=False``) or worst-served idea first (``fair=True``)."""
    return assign_fair(problem) if fair else assign_max_affinity(problem)
