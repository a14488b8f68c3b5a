"""Per-request memory of facts about a viewer (organisation roles, challenge roles, team ids).

Permission predicates ask the same question many times while one page is rendered (is this viewer an
organiser of this challenge? of that one?), so the answer is read once per request and remembered
here — never on the `User` object, where it would outlive a change and had to be cleared by hand.

- `ViewerMemoryMiddleware` opens one memory per request; `remembering()` does the same for a
  command or a job. Outside either, nothing is remembered and every question reads the database.
- `recall(kind, user_id, compute)` answers from the memory or computes and keeps the answer; inside a
  transaction opened after the memory (an action's, which may yet roll back) it computes and keeps nothing.
- `forget_when_changed(kind, Model)`: a saved or deleted row of `Model` drops every remembered
  answer of that kind, so an action that adds a judge or a team member needs to do nothing. The
  models these facts come from are written only through `save()`, `create()` and `delete()` (which
  send the signals); a bulk `QuerySet.update()` on them would not, and is not used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

# The memory, and how many transactions were open when it was opened (see `recall`).
_memory: ContextVar[dict[tuple[str, int], Any] | None] = ContextVar("opencall_viewer_memory", default=None)
_depth: ContextVar[int] = ContextVar("opencall_viewer_memory_depth", default=0)


@contextmanager
def remembering() -> Iterator[None]:
    """Remember viewer facts until the block ends (a request, a command, a job)."""
    token, depth = _memory.set({}), _depth.set(len(connection.atomic_blocks))
    try:
        yield
    finally:
        _memory.reset(token)
        _depth.reset(depth)


def recall(kind: str, user_id: int, compute: Callable[[], T]) -> T:
    """The remembered answer to `kind` for this user, computing it on first use."""
    memory = _memory.get()
    # An answer read inside a transaction opened after the memory (an action's) may be rolled back with
    # it: such answers are computed, never kept.
    if memory is None or len(connection.atomic_blocks) > _depth.get():
        return compute()
    key = (kind, user_id)
    if key not in memory:
        memory[key] = compute()
    answer: T = memory[key]
    return answer


def forget(kind: str) -> None:
    """Drop every remembered answer of this kind (all users) in the current memory."""
    memory = _memory.get()
    if memory:
        for key in [k for k in memory if k[0] == kind]:
            del memory[key]


def forget_when_changed(kind: str, model: type[Model]) -> None:
    """Any save or delete of a `model` row drops the remembered answers of `kind`."""

    def _changed(sender: type[Model], **_: object) -> None:
        forget(kind)

    uid = f"opencall.core.viewer:{kind}:{model._meta.label}"
    post_save.connect(_changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(_changed, sender=model, weak=False, dispatch_uid=uid)


class ViewerMemoryMiddleware:
    """One memory of viewer facts per request, dropped when the answer is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with remembering():
            return self.get_response(request)
