"""Shapes every API schema shares: strict inputs (unknown keys, NUL characters and coerced scalars
refused) and pages."""

from __future__ import annotations

import re
from typing import Annotated, Any

from ninja import Schema
from ninja.params import functions as params
from pydantic import AwareDatetime, ConfigDict, Field, field_validator

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
    """A JSON request body: unknown fields are an error rather than silently ignored, and scalars must
    come as their JSON type: `"true"`, `1` or `"0"` for a boolean, `"5"` or `true` for a number are
    refused (422 naming the field) instead of being coerced. (Query strings keep their lax parsing:
    there everything is text.)"""

    # strict: the body reaches pydantic as parsed JSON (Python objects), so strict mode only refuses
    # cross-type coercions; the few types JSON has no literal for (times) opt out with `Instant`.
    model_config = ConfigDict(extra="forbid", strict=True)

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

# A moment with its time zone, sent as an ISO 8601 string: exempt from InSchema's strictness because
# JSON has no datetime literal.
Instant = Annotated[AwareDatetime, Field(strict=False)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out (it then keeps its value) but not sent as null: the document
    declares it neither nullable nor with a default, and null is refused like any other wrong type.
    Read such fields through `model_dump(exclude_unset=True)`: a left-out one is None on the model."""
    return Field(None, json_schema_extra=_no_default, **constraints)

# A key in a URL path: positive and within the database's integer range (else 422, not a 500).
IdPath = Annotated[int, params.Path(ge=1, le=MAX_ID)]
