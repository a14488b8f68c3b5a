"""STYLE.md's conventions that a tool can check, checked on the source tree.

- Entry points (`views.py`, `api.py`, `cli.py`) read through gates and write through actions: they
  define no lookup-or-404 helpers, raise no permission or not-found errors themselves and never touch
  `Model.objects`.
- Every message raised to a user is marked for translation where it is raised.
- Phase names are known to `challenges/phases.py` alone.

Each check lists what it finds (file:line), so a failure says exactly where to look.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from opencall.challenges.phases import PhaseKind

SRC = Path(__file__).resolve().parent.parent / "src" / "opencall"
ENTRY_POINTS = ("views.py", "api.py", "cli.py")
# Exceptions whose message reaches a person: domain errors, Django's (form) validation and 404, ninja's.
USER_FACING = {
    "DomainError", "NotAuthenticated", "PermissionDenied", "EmailNotVerified", "NotFound", "Conflict",
    "PhaseClosed", "InvalidInput", "ServiceUnavailable", "ValidationError", "Http404", "HttpError",
    "DjangoPermissionDenied", "CommandError",
}
# The calls that mark a string for translation.
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
PHASE_NAMES = {kind.value for kind in PhaseKind}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if parts[0] == "engines" or "migrations" in parts:
            continue  # engines raise ValueError to programmers; migrations are history
        yield path, ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _entry_points() -> Iterator[tuple[Path, ast.Module]]:
    for path, tree in _modules():
        if path.name in ENTRY_POINTS:
            yield path, tree


def test_entry_points_define_no_lookup_helpers() -> None:
    pattern = re.compile(r"^_(challenge|idea|team|organisation|round|live_vote|[a-z_]+_or_404)$")
    found = [
        _where(path, node)
        for path, tree in _entry_points()
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and pattern.match(node.name)
    ]
    assert found == []


def test_entry_points_leave_permission_and_existence_to_gates_and_actions() -> None:
    refused = {"PermissionDenied", "DjangoPermissionDenied", "NotFound", "Http404", "NotAuthenticated"}
    found = [
        _where(path, node)
        for path, tree in _entry_points()
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) and node.exc is not None
        and _name(node.exc.func if isinstance(node.exc, ast.Call) else node.exc) in refused
    ]
    assert found == []


def test_entry_points_never_use_a_model_manager() -> None:
    found = [
        _where(path, node)
        for path, tree in _entry_points()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]
    assert found == []


def _untranslated(arg: ast.AST) -> bool:
    """A message written as a bare string (literal, f-string, concatenation, % or .format of one)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return bool(arg.value.strip())
    if isinstance(arg, ast.JoinedStr):
        return True
    if isinstance(arg, ast.BinOp):
        return _untranslated(arg.left)
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
        return _untranslated(arg.func.value)
    return False


def test_every_message_raised_to_a_person_is_translatable() -> None:
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in USER_FACING):
                continue
            messages = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("detail", "message")]
            found += [_where(path, node) for m in messages if _untranslated(m)]
    assert found == []


def _phase_comparisons(tree: ast.Module) -> Iterator[ast.AST]:
    """String literals naming a phase compared (==, !=, in) with something that names a phase."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and "phase" in ast.unparse(node).lower():
            for side in [node.left, *node.comparators]:
                elements = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                for item in elements:
                    if isinstance(item, ast.Constant) and item.value in PHASE_NAMES:
                        yield item


def test_no_phase_name_is_compared_outside_phases_py() -> None:
    found = [
        _where(path, node)
        for path, tree in _modules()
        if path.relative_to(SRC) != Path("challenges/phases.py")
        for node in _phase_comparisons(tree)
    ]
    assert found == []


TEMPLATE_PHASE = re.compile(r"phase(?:\.kind|_kind)?\s*(?:==|!=|in)\s*['\"(\[]\s*['\"]?(" + "|".join(sorted(PHASE_NAMES)) + r")\b")


@pytest.mark.parametrize("template", sorted(SRC.rglob("templates/**/*.html")), ids=lambda p: str(p.relative_to(SRC)))
def test_templates_ask_phases_py_rather_than_naming_phases(template: Path) -> None:
    found = [f"line {n}" for n, line in enumerate(template.read_text().splitlines(), 1) if TEMPLATE_PHASE.search(line)]
    assert found == []
