"""Shapes every API schema shares: strict inputs (unknown keys and NUL characters refused) and pages."""

from __future__ import annotations

import re
from typing import Annotated, Any

from ninja import Schema
from ninja.params import functions as params
from pydantic import ConfigDict, Field, field_validator

MAX_ID = 2**63 - 1  # the largest key SQLite and PostgreSQL bigint columns hold


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _reject_nul(value: Any) -> Any:
    # PostgreSQL refuses NUL in text and no database can store a lone surrogate (JSON allows both);
    # catching them here turns a would-be 500 into a field error.
    if isinstance(value, str) and _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    if isinstance(value, list | tuple):
        for item in value:
            _reject_nul(item)
    return value


class InSchema(Schema):
    """A request body: unknown fields are an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class FilterSchema(Schema):
    """Query-string parameters of a list: limit/offset paging plus the list's own filters."""

    limit: int = Field(20, ge=1, le=100, description="Rows per page (1-100).")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="Rows to skip.")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class Page(Schema):
    """A page of a list: `count` rows in all, `items` on this page."""

    count: int
    limit: int
    offset: int


Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# A key in a URL path: positive and within the database's integer range (else 422, not a 500).
IdPath = Annotated[int, params.Path(ge=1, le=MAX_ID)]
