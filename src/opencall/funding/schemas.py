from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from opencall.core.schemas import MAX_ID, InSchema


class ChoiceIn(InSchema):
    idea: int = Field(ge=1, le=MAX_ID)
    points: int = Field(default=1, ge=1, le=1000)


class ChoiceOut(Schema):
    idea: int
    points: int


class BallotIn(InSchema):
    choices: list[ChoiceIn] = Field(max_length=500)


class BallotOut(Schema):
    challenge: str
    kind: str
    revision: int
    choices: list[ChoiceOut]


class FundingSettingsIn(InSchema):
    ballot_kind: str = Field(max_length=12)
    max_choices: int = Field(default=5, ge=1, le=100)
    total_points: int = Field(default=10, ge=1, le=1000)
    default_rule: str = Field(default="mes", max_length=24)


class AllocationIn(InSchema):
    rule: str | None = Field(default=None, max_length=24, description="Left out or null: the default rule.")


class AllocationOut(Schema):
    id: int
    rule: str
    created_at: datetime
    published_at: datetime | None
    ballot_count: int
    budget_minor: int
    budget_used_minor: int
    ballots_digest: str
    selected: list[int]
    explanations: dict[str, Any]
    comparison: dict[str, Any]


class RecountOut(Schema):
    allocation: int
    rule: str
    ballots_match: bool
    outcome_matches: bool
    selected: list[int]
    recorded: list[int]
