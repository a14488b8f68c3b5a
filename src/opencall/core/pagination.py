"""Limit/offset paging for API lists: the total the viewer may see, and one slice of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet


def page_of(rows: QuerySet[Any] | Sequence[Any], *, limit: int, offset: int) -> tuple[int, list[Any]]:
    """(count, items): for a queryset one COUNT, then the slice with its prefetches."""
    if isinstance(rows, QuerySet):
        count = rows.count()
        return count, (list(rows[offset : offset + limit]) if offset < count else [])
    return len(rows), list(rows[offset : offset + limit])
