"""STYLE.md's conventions that a tool can check, checked on the source tree.

- Entry points (`views.py`, `api.py`, `cli.py`) read through gates and write through actions: they
  define no lookup-or-404 helpers, raise no permission or not-found errors themselves and never touch
  `Model.objects`.
- Every message raised to a user is marked for translation where it is raised.
- Phase names are known to `challenges/phases.py` alone.

Each check lists what it finds (file:line), so a failure says exactly where to look. The finders take
the source root, so `bench/structure` counts any commit with them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from opencall.challenges.phases import PhaseKind

SRC = Path(__file__).resolve().parent.parent / "src" / "opencall"
ENTRY_POINTS = ("views.py", "api.py", "cli.py")
# Exceptions whose message reaches a person: domain errors, Django's (form) validation and 404, ninja's.
USER_FACING = {
    "DomainError", "NotAuthenticated", "PermissionDenied", "EmailNotVerified", "NotFound", "Conflict",
    "PhaseClosed", "InvalidInput", "ServiceUnavailable", "ValidationError", "Http404", "HttpError",
    "DjangoPermissionDenied", "CommandError",
}
REFUSALS = {"PermissionDenied", "DjangoPermissionDenied", "NotFound", "Http404", "NotAuthenticated"}
LOOKUP_HELPER = re.compile(
    r"^_(challenge|idea|team|organisation|managed_challenge|round|allocation|live_vote|[a-z_]+_or_404)$")
PHASE_NAMES = {kind.value for kind in PhaseKind}
TEMPLATE_PHASE = re.compile(r"phase(?:\.kind|_kind)?\s*(?:==|!=|in)\s*['\"(\[]\s*['\"]?(" + "|".join(sorted(PHASE_NAMES)) + r")\b")


def _modules(src: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).parts
        if parts[0] == "engines" or "migrations" in parts:
            continue  # engines raise ValueError to programmers; migrations are history
        yield str(path.relative_to(src)), ast.parse(path.read_text(), filename=str(path))


def _entry_points(src: Path) -> Iterator[tuple[str, ast.Module]]:
    return ((rel, tree) for rel, tree in _modules(src) if Path(rel).name in ENTRY_POINTS)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def lookup_helpers(src: Path) -> list[str]:
    return [f"{rel}:{node.lineno}" for rel, tree in _entry_points(src) for node in tree.body
            if isinstance(node, ast.FunctionDef) and LOOKUP_HELPER.match(node.name)]


def refusals_in_entry_points(src: Path) -> list[str]:
    return [f"{rel}:{node.lineno}" for rel, tree in _entry_points(src) for node in ast.walk(tree)
            if isinstance(node, ast.Raise) and node.exc is not None
            and _name(node.exc.func if isinstance(node.exc, ast.Call) else node.exc) in REFUSALS]


def managers_in_entry_points(src: Path) -> list[str]:
    return [f"{rel}:{node.lineno}" for rel, tree in _entry_points(src) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "objects"]


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


def untranslated_messages(src: Path) -> list[str]:
    found = []
    for rel, tree in _modules(src):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in USER_FACING:
                messages = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("detail", "message")]
                found += [f"{rel}:{node.lineno}" for m in messages if _untranslated(m)]
    return found


def phase_comparisons(src: Path) -> list[str]:
    """String literals naming a phase compared (==, !=, in) with something that names a phase."""
    found = []
    for rel, tree in _modules(src):
        if rel == str(Path("challenges/phases.py")):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and "phase" in ast.unparse(node).lower():
                for side in [node.left, *node.comparators]:
                    elements = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                    found += [f"{rel}:{item.lineno}" for item in elements
                              if isinstance(item, ast.Constant) and item.value in PHASE_NAMES]
    return found


def template_phase_comparisons(src: Path) -> list[str]:
    return [f"{template.relative_to(src)}:{n}" for template in sorted(src.rglob("templates/**/*.html"))
            for n, line in enumerate(template.read_text().splitlines(), 1) if TEMPLATE_PHASE.search(line)]


def test_entry_points_define_no_lookup_helpers() -> None:
    assert lookup_helpers(SRC) == []


def test_entry_points_leave_permission_and_existence_to_gates_and_actions() -> None:
    assert refusals_in_entry_points(SRC) == []


def test_entry_points_never_use_a_model_manager() -> None:
    assert managers_in_entry_points(SRC) == []


def test_every_message_raised_to_a_person_is_translatable() -> None:
    assert untranslated_messages(SRC) == []


def test_no_phase_name_is_compared_outside_phases_py() -> None:
    assert phase_comparisons(SRC) == []


def test_templates_ask_phases_py_rather_than_naming_phases() -> None:
    assert template_phase_comparisons(SRC) == []
