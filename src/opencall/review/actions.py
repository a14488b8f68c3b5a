"""Review phase: rubrics, rounds, conflicts, judge assignment (optimal, via the engine), reviews, decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import is_judge
from opencall.core import audit
from opencall.core.errors import Conflict as ConflictError
from opencall.core.errors import InvalidInput, PermissionDenied, PhaseClosed
from opencall.engines.assignment.affinity import combine_affinities, skill_affinity, text_affinity
from opencall.engines.assignment.conflicts import conflict_mask
from opencall.engines.assignment.fairness import assign_fair
from opencall.engines.assignment.matching import AssignmentProblem, InfeasibleAssignmentError, assign_max_affinity
from opencall.ideas.actions import decide_status
from opencall.ideas.models import Idea, IdeaStatus
from opencall.organisations.models import Membership
from opencall.review.crowd import candidates, pairwise_settings
from opencall.review.models import (
    Conflict,
    Criterion,
    PairwiseSettings,
    PairwiseVote,
    Review,
    ReviewAssignment,
    ReviewRound,
    Rubric,
)
from opencall.review.permissions import can_compare, can_declare_conflict, can_manage_review, can_write_review
from opencall.review.queries import conflicts_of, default_round_ideas, judges_of, round_ideas


@dataclass(frozen=True)
class CriterionSpec:
    label: str
    weight: int = 1
    scale_min: int = 1
    scale_max: int = 5
    guidance: str = ""


def _manage(by: User, challenge: Challenge) -> None:
    if not can_manage_review(by, challenge):
        raise PermissionDenied(_("Only the challenge's organisers run the review."))


def create_rubric(*, challenge: Challenge, by: User, name: str, criteria: Sequence[CriterionSpec]) -> Rubric:
    _manage(by, challenge)
    errors: list[str] = []
    if not name.strip() or len(name) > 120:
        errors.append(_("A rubric needs a name of 1-120 characters."))
    if not criteria or len(criteria) > 20:
        errors.append(_("A rubric has 1 to 20 criteria."))
    for c in criteria:
        if not c.label.strip() or len(c.label) > 120:
            errors.append(_("Every criterion needs a label of 1-120 characters."))
        if not 1 <= c.weight <= 100:
            errors.append(_("%(label)s: weight between 1 and 100.") % {"label": c.label})
        if c.scale_max <= c.scale_min or c.scale_max - c.scale_min > 100:
            errors.append(_("%(label)s: the scale must go up, by at most 100 steps.") % {"label": c.label})
    if errors:
        raise InvalidInput(_("The rubric has errors."), errors={"criteria": errors})
    with transaction.atomic():
        rubric = Rubric.objects.create(challenge=challenge, name=name.strip())
        Criterion.objects.bulk_create([
            Criterion(rubric=rubric, label=c.label.strip(), weight=c.weight, scale_min=c.scale_min,
                      scale_max=c.scale_max, guidance=c.guidance, position=n) for n, c in enumerate(criteria)])
        audit.record(actor=by, verb="rubric.create", obj=rubric)
    return rubric


def open_round(*, challenge: Challenge, by: User, name: str, rubric: Rubric, judges_per_idea: int = 3,
               max_load: int = 10, blind: bool = False, fair: bool = False, crowd_weight: int = 20,
               ideas: Iterable[Idea] | None = None) -> ReviewRound:
    _manage(by, challenge)
    errors: dict[str, list[str]] = {}
    if rubric.challenge_id != challenge.pk:
        errors["rubric"] = [_("The rubric belongs to another challenge.")]
    if not 1 <= judges_per_idea <= 20:
        errors["judges_per_idea"] = [_("Between 1 and 20.")]
    if not 1 <= max_load <= 1000:
        errors["max_load"] = [_("Between 1 and 1000.")]
    if not 0 <= crowd_weight <= 100:
        errors["crowd_weight"] = [_("Between 0 and 100.")]
    if not name.strip() or len(name) > 120:
        errors["name"] = [_("1-120 characters.")]
    if errors:
        raise InvalidInput(_("The round has errors."), errors=errors)
    with transaction.atomic():
        number = ReviewRound.objects.filter(challenge=challenge).count() + 1
        chosen = list(ideas) if ideas is not None else list(default_round_ideas(challenge, number))
        if any(i.challenge_id != challenge.pk for i in chosen):
            raise InvalidInput(_("Every idea must belong to the challenge."),
                               errors={"ideas": [_("Wrong challenge.")]})
        ReviewRound.objects.filter(challenge=challenge, state=ReviewRound.State.OPEN).update(
            state=ReviewRound.State.CLOSED)
        rnd = ReviewRound.objects.create(challenge=challenge, number=number, name=name.strip(), rubric=rubric,
                                         judges_per_idea=judges_per_idea, max_load=max_load, blind=blind,
                                         fair=fair, crowd_weight=crowd_weight)
        rnd.ideas.set(chosen)
        audit.record(actor=by, verb="review.round.open", obj=rnd, data={"ideas": [i.pk for i in chosen]})
    return rnd


def declare_conflict(*, challenge: Challenge, judge: User, idea: Idea, by: User, reason: str) -> Conflict:
    """A judge declares a conflict for themself; organisers may declare one for any judge."""
    if not can_declare_conflict(by, challenge) or (by.pk != judge.pk and not can_manage_review(by, challenge)):
        raise PermissionDenied(_("Judges declare their own conflicts; organisers any judge's."))
    if idea.challenge_id != challenge.pk:
        raise InvalidInput(_("The idea belongs to another challenge."), errors={"idea": [_("Wrong challenge.")]})
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise InvalidInput(_("Say why, in at most 300 characters."), errors={"reason": [_("1-300 characters.")]})
    try:
        with transaction.atomic():
            conflict = Conflict.objects.create(challenge=challenge, judge=judge, idea=idea, reason=reason,
                                               declared_by=by)
            # A conflict is a hard constraint: drop any assignment it now forbids, with no review yet.
            ReviewAssignment.objects.filter(judge=judge, idea=idea, review__isnull=True).delete()
            audit.record(actor=by, verb="review.conflict", obj=conflict)
    except IntegrityError as exc:
        raise ConflictError(_("This conflict is declared already.")) from exc
    return conflict


def _forbidden(rnd: ReviewRound, judges: Sequence[User], ideas: Sequence[Idea]) -> np.ndarray:
    """Conflicts: same organisation, the judge's own team or a co-member's, and declared ones.

    The host organisation does not count as a shared one: in an internal challenge every judge and every
    entrant belongs to it, and counting it would forbid every pair.
    """
    host = rnd.challenge.organisation_id
    judge_orgs = [{m.organisation_id for m in j.memberships.all()} - {host} for j in judges]
    members = [[m.user for m in idea.team.members.all()] for idea in ideas]
    member_ids = {u.pk for team in members for u in team}
    orgs_of: dict[int, set[int]] = {}
    for user_id, org_id in (Membership.objects.filter(user_id__in=member_ids).exclude(organisation_id=host)
                            .values_list("user_id", "organisation_id")):
        orgs_of.setdefault(user_id, set()).add(org_id)
    idea_orgs = [set().union(*(orgs_of.get(u.pk, set()) for u in team)) if team else set() for team in members]
    judge_index = {j.pk: n for n, j in enumerate(judges)}
    idea_index = {i.pk: n for n, i in enumerate(ideas)}
    declared = [(judge_index[c.judge_id], idea_index[c.idea_id]) for c in conflicts_of(rnd.challenge)
                if c.judge_id in judge_index and c.idea_id in idea_index]
    return conflict_mask(
        len(judges), len(ideas), judge_orgs=judge_orgs, idea_orgs=idea_orgs,
        judge_people=[{j.pk} for j in judges], idea_members=[{u.pk for u in team} for team in members],
        declared=declared)


def affinity_matrix(judges: Sequence[User], ideas: Sequence[Idea]) -> np.ndarray:
    """Judges × ideas affinity: stated skills against the idea's category and wanted skills, and text."""
    judge_docs = [[j.bio, " ".join(s.name for s in j.skills.all())] for j in judges]
    idea_texts = [f"{i.title}. {i.summary}. {i.body[:2000]}" for i in ideas]
    idea_skills = [{i.category.name} if i.category else set() for i in ideas]
    judge_skills = [{s.name for s in j.skills.all()} for j in judges]
    return combine_affinities([(text_affinity(judge_docs, idea_texts), 0.7),
                               (skill_affinity(judge_skills, idea_skills), 0.3)])


def run_assignment(*, rnd: ReviewRound, by: User) -> dict[str, float | int]:
    """Assign judges to the round's ideas optimally; keeps manual and already-reviewed assignments."""
    _manage(by, rnd.challenge)
    if rnd.state != ReviewRound.State.OPEN:
        raise ConflictError(_("The round is closed."))
    judges = list(judges_of(rnd.challenge))
    ideas = list(round_ideas(rnd))
    if not judges or not ideas:
        raise InvalidInput(_("Add judges and ideas first."), errors={"round": [_("No judges or no ideas.")]})
    affinity = affinity_matrix(judges, ideas)
    forbidden = _forbidden(rnd, judges, ideas)
    kept = list(ReviewAssignment.objects.filter(round=rnd).filter(Q(manual=True) | Q(review__isnull=False)))
    j_index = {j.pk: n for n, j in enumerate(judges)}
    i_index = {i.pk: n for n, i in enumerate(ideas)}
    demand = np.full(len(ideas), rnd.judges_per_idea, dtype=np.int64)
    load = np.full(len(judges), rnd.max_load, dtype=np.int64)
    for a in kept:
        if a.judge_id in j_index and a.idea_id in i_index:
            jj, ii = j_index[a.judge_id], i_index[a.idea_id]
            demand[ii] = max(0, demand[ii] - 1)
            load[jj] = max(0, load[jj] - 1)
            forbidden[jj, ii] = True  # already holds this pair
    problem = AssignmentProblem(affinity=affinity, load_max=load, judges_per_idea=demand, conflicts=forbidden)
    try:
        result = assign_fair(problem) if rnd.fair else assign_max_affinity(problem)
    except InfeasibleAssignmentError as exc:
        raise InvalidInput(_("No assignment fits: %(reason)s") % {"reason": exc}, errors={"round": [
            _("Too few judges without conflicts for the judges per idea and load limit.")]}) from exc
    with transaction.atomic():
        ReviewAssignment.objects.filter(round=rnd, manual=False, review__isnull=True).delete()
        ReviewAssignment.objects.bulk_create([
            ReviewAssignment(round=rnd, judge=judges[int(j)], idea=ideas[int(i)], affinity=float(affinity[j, i]))
            for j, i in result.pairs.tolist()])
        report: dict[str, float | int] = {
            "pairs": len(result.pairs), "total_affinity": round(result.total_affinity, 4),
            "worst_idea_affinity": round(result.worst_idea_affinity, 4), "bound": round(result.bound, 4),
            "gap": round(result.gap, 6), "objective": 1 if rnd.fair else 0,
        }
        rnd.assignment_report = report
        rnd.save(update_fields=["assignment_report", "updated_at"])
        audit.record(actor=by, verb="review.assign", obj=rnd, data=report)
    return report


def add_assignment(*, rnd: ReviewRound, judge: User, idea: Idea, by: User) -> ReviewAssignment:
    """An organiser's manual adjustment; conflicts stay hard constraints."""
    _manage(by, rnd.challenge)
    if not is_judge(judge, rnd.challenge):
        raise InvalidInput(_("%(judge)s is not a judge of this challenge.") % {"judge": judge},
                           errors={"judge": [_("Not a judge.")]})
    if not rnd.ideas.filter(pk=idea.pk).exists():
        raise InvalidInput(_("The idea is not in this round."), errors={"idea": [_("Not in the round.")]})
    if _forbidden(rnd, [judge], [Idea.objects.select_related("team").prefetch_related("team__members__user")
                                 .get(pk=idea.pk)])[0, 0]:
        raise ConflictError(_("%(judge)s has a conflict of interest with this idea.") % {"judge": judge})
    try:
        with transaction.atomic():
            a = ReviewAssignment.objects.create(round=rnd, judge=judge, idea=idea, manual=True)
            audit.record(actor=by, verb="review.assign.add", obj=a)
    except IntegrityError as exc:
        raise ConflictError(_("That judge is assigned to this idea already.")) from exc
    return a


def remove_assignment(*, assignment: ReviewAssignment, by: User) -> None:
    _manage(by, assignment.round.challenge)
    with transaction.atomic():
        if Review.objects.filter(assignment=assignment, submitted_at__isnull=False).exists():
            raise ConflictError(_("This judge has reviewed the idea already."))
        audit.record(actor=by, verb="review.assign.remove", obj=assignment)
        assignment.delete()


def submit_review(*, assignment: ReviewAssignment, by: User, scores: Mapping[int, int], note: str = "",
                  recommendation: str = "", final: bool = True) -> Review:
    """Save (final=False) or submit a review; every criterion needs a score on its scale to submit."""
    if assignment.judge_id != by.pk:
        raise PermissionDenied(_("This review is assigned to someone else."))
    if not can_write_review(by, assignment):
        raise PhaseClosed(_("Reviews are accepted only while the review round is open."))
    criteria = {c.pk: c for c in assignment.round.rubric.criteria.all()}
    errors: dict[str, list[str]] = {}
    for cid, value in scores.items():
        c = criteria.get(cid)
        if c is None:
            errors.setdefault("scores", []).append(_("Unknown criterion %(id)s.") % {"id": cid})
        elif isinstance(value, bool) or not isinstance(value, int) or not c.scale_min <= value <= c.scale_max:
            errors[f"scores.{cid}"] = [_("%(label)s: a whole number from %(low)s to %(high)s.")
                                       % {"label": c.label, "low": c.scale_min, "high": c.scale_max}]
    if final:
        missing = [c.label for cid, c in criteria.items() if cid not in scores]
        if missing:
            errors.setdefault("scores", []).append(_("Score every criterion: %(missing)s.")
                                                   % {"missing": ", ".join(missing)})
    if len(note) > 5000:
        errors["note"] = [_("At most 5,000 characters.")]
    if recommendation and recommendation not in Review.Recommendation.values:
        errors["recommendation"] = [_("advance, maybe or reject.")]
    if errors:
        raise InvalidInput(_("The review has errors."), errors=errors)
    with transaction.atomic():
        review, _created = Review.objects.select_for_update().get_or_create(assignment=assignment)
        review.scores = {str(k): v for k, v in scores.items()}
        review.note = note
        review.recommendation = recommendation
        review.submitted_at = timezone.now() if final else review.submitted_at
        review.save()
        audit.record(actor=by, verb="review.submit" if final else "review.save", obj=review,
                     data={"scores": review.scores, "recommendation": recommendation})
    return review


def decide_ideas(*, rnd: ReviewRound, by: User, advance: Iterable[int] = (), reject: Iterable[int] = ()) -> int:
    """Move ideas to the next round (shortlisted) or reject them; teams are notified."""
    _manage(by, rnd.challenge)
    advance, reject = set(advance), set(reject)
    if advance & reject:
        raise InvalidInput(_("An idea cannot be both advanced and rejected."), errors={"ideas": [_("Both.")]})
    in_round = {i.pk: i for i in rnd.ideas.all()}
    unknown = (advance | reject) - set(in_round)
    if unknown:
        raise InvalidInput(_("Some ideas are not in this round."), errors={"ideas": [str(sorted(unknown))]})
    with transaction.atomic():
        for pk in sorted(advance):
            decide_status(idea=in_round[pk], status=IdeaStatus.SHORTLISTED, by=by, reason=f"round {rnd.number}")
        for pk in sorted(reject):
            decide_status(idea=in_round[pk], status=IdeaStatus.REJECTED, by=by, reason=f"round {rnd.number}")
    return len(advance) + len(reject)


def close_round(*, rnd: ReviewRound, by: User) -> ReviewRound:
    _manage(by, rnd.challenge)
    with transaction.atomic():
        rnd.state = ReviewRound.State.CLOSED
        rnd.save(update_fields=["state", "updated_at"])
        audit.record(actor=by, verb="review.round.close", obj=rnd)
    return rnd


def configure_pairwise(*, challenge: Challenge, by: User, enabled: bool, top_k: int = 10,
                       focus: str = PairwiseSettings.Focus.TOP) -> PairwiseSettings:
    """Turn crowd pairwise voting on or off and say what its adaptive pairs aim at (`focus`)."""
    _manage(by, challenge)
    if not 1 <= top_k <= 1000:
        raise InvalidInput(_("Between 1 and 1000."), errors={"top_k": [_("Between 1 and 1000.")]})
    if focus not in PairwiseSettings.Focus.values:
        raise InvalidInput(_("Unknown focus."), errors={"focus": [_("top or whole.")]})
    chosen = {"enabled": enabled, "top_k": top_k, "focus": str(focus)}
    with transaction.atomic():
        found, _created = PairwiseSettings.objects.update_or_create(challenge=challenge, defaults=chosen)
        audit.record(actor=by, verb="pairwise.configure", obj=found, data=chosen)
    return found


def cast_pairwise(*, challenge: Challenge, by: User, first: Idea, second: Idea, outcome: str) -> PairwiseVote:
    """One answer to "which idea is stronger?" (or can't decide, or skip); once per pair per person."""
    if not can_compare(by, challenge, pairwise_settings(challenge).enabled):
        if pairwise_settings(challenge).enabled and by.is_authenticated:
            raise PhaseClosed(_("Pairwise voting is open only in the community phase."))
        raise PermissionDenied(_("Pairwise voting is not open for you in this challenge."))
    if outcome not in PairwiseVote.Outcome.values:
        raise InvalidInput(_("Unknown answer."), errors={"outcome": [_("first, second, tie or skip.")]})
    allowed = {i.pk for i in candidates(challenge)}
    if first.pk == second.pk or first.pk not in allowed or second.pk not in allowed:
        raise InvalidInput(_("Compare two different ideas of this challenge."),
                           errors={"pair": [_("Not a valid pair.")]})
    try:
        with transaction.atomic():
            vote = PairwiseVote.objects.create(challenge=challenge, voter=by, first=first, second=second,
                                               low=min(first.pk, second.pk), high=max(first.pk, second.pk),
                                               outcome=outcome)
            audit.record(actor=by, verb="pairwise.vote", obj=vote,
                         data={"first": first.pk, "second": second.pk, "outcome": outcome})
    except IntegrityError as exc:
        raise ConflictError(_("You answered this pair already.")) from exc
    return vote
