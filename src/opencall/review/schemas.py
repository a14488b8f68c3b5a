from __future__ import annotations

from ninja import Schema
from pydantic import Field


class PairOut(Schema):
    first: int
    first_title: str
    second: int
    second_title: str


class PairwiseIn(Schema):
    first: int = Field(ge=1)
    second: int = Field(ge=1)
    outcome: str = Field(pattern="^(first|second|tie|skip)$")


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


class ReviewIn(Schema):
    scores: dict[int, int] = Field(max_length=50)
    note: str = Field(default="", max_length=5000)
    recommendation: str = Field(default="", pattern="^(|advance|maybe|reject)$")
    final: bool = True


class ConflictIn(Schema):
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


class DecisionsIn(Schema):
    advance: list[int] = Field(default_factory=list, max_length=1000)
    reject: list[int] = Field(default_factory=list, max_length=1000)
