from __future__ import annotations

from django_tasks import task

from opencall.challenges.models import Challenge
from opencall.challenges.queries import due_phase_challenges


@task()
def advance_due_phase(challenge_id: int, expected_phase: str) -> str:
    """Advance one challenge whose phase `expected_phase` has ended; a no-op if it moved on."""
    from opencall.challenges.actions import advance_phase

    challenge = Challenge.objects.filter(pk=challenge_id).first()
    if challenge is None or challenge.phase != expected_phase:
        return "skipped"
    if not due_phase_challenges().filter(pk=challenge_id).exists():
        return "not-due"
    return advance_phase(challenge=challenge, by=None, expected=expected_phase).phase


@task()
def advance_all_due_phases() -> int:
    """Sweep: advance every challenge whose current phase has ended (run by `opencall tick`)."""
    from opencall.challenges.actions import advance_phase

    moved = 0
    for challenge in due_phase_challenges():
        advance_phase(challenge=challenge, by=None, expected=challenge.phase)
        moved += 1
    return moved
