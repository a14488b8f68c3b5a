"""Participatory budgeting: Pabulib I/O, greedy, Equal Shares, Phragmén, maximin support, checks.

Entry points: :func:`read_pabulib` / :func:`write_pabulib` for the ``.pb`` format, :func:`run_rule`
with a name from :data:`RULES` for an explained :class:`Outcome`, and the checks in
:mod:`opencall.engines.budgeting.checks`. Each module's docstring names its method and source.
"""

from opencall.engines.budgeting.model import (
    Election,
    Outcome,
    Project,
    ProjectExplanation,
    election_from_ballots,
)
from opencall.engines.budgeting.pabulib import PabulibError, read_pabulib, write_pabulib
from opencall.engines.budgeting.registry import RULES, RuleError, run_rule

__all__ = [
    "RULES",
    "Election",
    "Outcome",
    "PabulibError",
    "Project",
    "ProjectExplanation",
    "RuleError",
    "election_from_ballots",
    "read_pabulib",
    "run_rule",
    "write_pabulib",
]
