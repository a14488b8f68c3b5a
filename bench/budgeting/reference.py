"""How each Opencall rule is computed with pabutools (the reference), for the bench and the tests.

Only rules both libraries implement are mapped; pabutools is a test/bench-only dependency.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

APPROVAL = ("approval", "choose-1")


def reference_rules(vote_type: str) -> dict[str, Callable[[Any, Any], Any]]:
    """Rule name -> function(instance, profile) returning a pabutools BudgetAllocation."""
    from pabutools.election import (
        Additive_Cardinal_Sat,
        Cardinality_Sat,
        Cost_Sat,
    )
    from pabutools.rules import (
        completion_by_rule_combination,
        greedy_utilitarian_welfare,
        maximin_support,
        method_of_equal_shares,
        sequential_phragmen,
    )

    def combo(first: dict[str, Any], second: dict[str, Any]) -> Callable[[Any, Any], Any]:
        return lambda i, p: completion_by_rule_combination(
            i, p, [method_of_equal_shares, greedy_utilitarian_welfare], [first, second]
        )

    if vote_type in APPROVAL:
        return {
            "greedy": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Cost_Sat),
            "greedy-cost": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Cardinality_Sat),
            "mes-cost": lambda i, p: method_of_equal_shares(i, p, sat_class=Cost_Sat),
            "mes-approval": lambda i, p: method_of_equal_shares(i, p, sat_class=Cardinality_Sat),
            "mes-add1u": lambda i, p: method_of_equal_shares(i, p, sat_class=Cost_Sat, voter_budget_increment=1),
            "mes-greedy": combo({"sat_class": Cost_Sat}, {"sat_class": Cost_Sat}),
            "mes": lambda i, p: method_of_equal_shares(i, p, sat_class=Cost_Sat, voter_budget_increment=1),
            "mes-add1u-greedy": combo({"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}),
            "mes-approval-greedy": combo({"sat_class": Cardinality_Sat}, {"sat_class": Cardinality_Sat}),
            "phragmen": lambda i, p: sequential_phragmen(i, p),
            "maximin-support": lambda i, p: maximin_support(i, p),
        }
    if vote_type in ("cumulative", "scoring"):
        return {
            "greedy-cost": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Additive_Cardinal_Sat),
            "mes-approval": lambda i, p: method_of_equal_shares(i, p, sat_class=Additive_Cardinal_Sat),
            "mes-approval-greedy": combo({"sat_class": Additive_Cardinal_Sat}, {"sat_class": Additive_Cardinal_Sat}),
        }
    return {}


class ReferenceTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ReferenceTimeout in the main thread after ``seconds`` of this process's CPU time.

    A CPU-time (ITIMER_PROF) limit, so that other work on a shared machine does not make the
    reference look slower than it is; None means no limit.
    """
    if not seconds:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise ReferenceTimeout

    previous = signal.signal(signal.SIGPROF, on_alarm)
    previous_real = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    # pabutools' maximin support waits on a CBC subprocess, which this process's CPU clock does
    # not see: a wall-clock backstop at ten times the limit
    signal.setitimer(signal.ITIMER_REAL, 10 * seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, previous)
        signal.signal(signal.SIGALRM, previous_real)


def run_reference(
    fn: Callable[[Any, Any], Any],
    instance: Any,
    profile: Any,
    max_seconds: float | None,
    repeat_below: float = 0.0,
) -> tuple[list[str] | None, float]:
    """Sorted selected project ids (None on timeout) and the CPU seconds of the fastest run.

    Runs shorter than ``repeat_below`` CPU seconds are repeated (up to 5 in all) to tame noise.
    """
    best = float("inf")
    outcome: Any = None
    for attempt in range(5):
        start = time.thread_time()
        try:
            with time_limit(max_seconds):
                outcome = fn(instance, profile)
        except ReferenceTimeout:
            return None, time.thread_time() - start
        spent = time.thread_time() - start
        best = min(best, spent)
        if attempt == 0 and spent >= repeat_below:
            break
    return sorted(str(p.name) for p in outcome), best
