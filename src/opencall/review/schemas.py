from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from opencall.core.schemas import MAX_ID, Id, InSchema

FocusName = Literal["top", "whole"]


class PairOut(Schema):
    first: int
    first_title: str
    second: int
    second_title: str


class PairwiseIn(InSchema):
    first: int = Field(ge=1, le=MAX_ID)
    second: int = Field(ge=1, le=MAX_ID)
    outcome: str = Field(pattern="^(first|second|tie|skip)$")


FOCUS_HELP = ("What adaptive pairs make precise: `top` (which ideas are among the top `top_k`) or `whole` "
              "(every idea's place; half of the pairs are then uniformly random).")
TOP_K_HELP = "How many ideas count as the top when `focus` is `top`."


class PairwiseSettingsOut(Schema):
    enabled: bool
    focus: FocusName = Field(description=FOCUS_HELP)
    top_k: int = Field(description=TOP_K_HELP)


class PairwiseSettingsIn(InSchema):
    enabled: bool
    focus: FocusName = Field(default="top", description=FOCUS_HELP)
    top_k: int = Field(default=10, ge=1, le=1000, description=TOP_K_HELP)


class CrowdEntryOut(Schema):
    idea: int
    title: str
    score: float
    low: float
    high: float
    votes: int


class CrowdRankingOut(Schema):
    total_votes: int
    items: list[CrowdEntryOut]


class AssignmentOut(Schema):
    id: int
    challenge: str
    round: int
    idea: int
    idea_title: str
    submitted: bool


# JSON object keys are always strings: a criterion id key is parsed from its text even in a strict body.
CriterionKey = Annotated[int, Field(strict=False, ge=1, le=MAX_ID)]


class ReviewIn(InSchema):
    scores: dict[CriterionKey, int] = Field(max_length=50, description="Criterion id → score.")
    note: str = Field(default="", max_length=5000)
    recommendation: str = Field(default="", pattern="^(|advance|maybe|reject)$")
    final: bool = True


class ConflictIn(InSchema):
    reason: str = Field(min_length=1, max_length=300)


class RankedOut(Schema):
    idea: int
    title: str
    reviews: int
    raw_mean: float | None
    calibrated: float | None
    calibrated_sd: float | None
    crowd: float | None
    combined: float | None


class AssignmentReportOut(Schema):
    pairs: int
    total_affinity: float
    worst_idea_affinity: float
    bound: float
    gap: float


class DecisionsIn(InSchema):
    advance: list[Id] = Field(default_factory=list, max_length=1000)
    reject: list[Id] = Field(default_factory=list, max_length=1000)
