"""Counts of where rules live in a source tree: the figures of issue 14 (one home for every rule).

    python bench/structure                 # this checkout
    python bench/structure --rev 065870a   # any commit, read with `git archive` into a temporary folder

Prints: lookup-or-404 helpers in entry points, permission/not-found raises in entry points, `Model.objects`
in entry points, messages raised to a person without translation, phase names compared outside
`challenges/phases.py` (Python and templates), and the largest modules of `voting/`. The rules are the
ones `tests/test_structure.py` enforces (where they must be zero).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ENTRY_POINTS = ("views.py", "api.py", "cli.py")
HELPER = re.compile(r"^_(challenge|idea|team|organisation|managed_challenge|round|allocation|live_vote|[a-z_]+_or_404)$")
REFUSALS = {"PermissionDenied", "DjangoPermissionDenied", "NotFound", "Http404", "NotAuthenticated"}
USER_FACING = {
    "DomainError", "NotAuthenticated", "PermissionDenied", "EmailNotVerified", "NotFound", "Conflict",
    "PhaseClosed", "InvalidInput", "ServiceUnavailable", "ValidationError", "Http404", "HttpError",
    "DjangoPermissionDenied", "CommandError",
}
PHASES = {"draft", "submission", "community", "review", "funding", "results", "tracking", "closed"}
TEMPLATE_PHASE = re.compile(r"phase(?:\.kind|_kind)?\s*(?:==|!=|in)\s*['\"(\[]\s*['\"]?(" + "|".join(sorted(PHASES)) + r")\b")


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _bare(arg: ast.AST) -> bool:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return bool(arg.value.strip())
    if isinstance(arg, ast.JoinedStr):
        return True
    if isinstance(arg, ast.BinOp):
        return _bare(arg.left)
    return isinstance(arg, ast.Call) and _name(arg.func) == "format" and _bare(getattr(arg.func, "value", arg))


def counts(src: Path) -> dict[str, int]:
    found = dict.fromkeys(("lookup helpers in entry points", "permission/not-found raises in entry points",
                           "Model.objects in entry points", "untranslated messages raised",
                           "phase names compared outside phases.py (Python)",
                           "phase names compared in templates",
                           "any string that is exactly a phase name, outside phases.py (also app labels, idea status)"), 0)
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if rel.parts[0] == "engines" or "migrations" in rel.parts:
            continue
        tree = ast.parse(path.read_text())
        entry = path.name in ENTRY_POINTS
        for node in ast.walk(tree):
            if entry and isinstance(node, ast.FunctionDef) and node in tree.body and HELPER.match(node.name):
                found["lookup helpers in entry points"] += 1
            if entry and isinstance(node, ast.Raise) and node.exc is not None and _name(
                    node.exc.func if isinstance(node.exc, ast.Call) else node.exc) in REFUSALS:
                found["permission/not-found raises in entry points"] += 1
            if entry and isinstance(node, ast.Attribute) and node.attr == "objects":
                found["Model.objects in entry points"] += 1
            if isinstance(node, ast.Call) and _name(node.func) in USER_FACING:
                messages = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("detail", "message")]
                found["untranslated messages raised"] += sum(_bare(m) for m in messages)
            if (isinstance(node, ast.Constant) and node.value in PHASES
                    and rel != Path("challenges/phases.py")):
                found["any string that is exactly a phase name, outside phases.py (also app labels, idea status)"] += 1
            if (isinstance(node, ast.Compare) and rel != Path("challenges/phases.py")
                    and "phase" in ast.unparse(node).lower()):
                for side in [node.left, *node.comparators]:
                    items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                    found["phase names compared outside phases.py (Python)"] += sum(
                        isinstance(i, ast.Constant) and i.value in PHASES for i in items)
    for template in src.rglob("templates/**/*.html"):
        found["phase names compared in templates"] += sum(
            bool(TEMPLATE_PHASE.search(line)) for line in template.read_text().splitlines())
    return found


def voting_sizes(src: Path, top: int = 4) -> list[tuple[str, int]]:
    sizes = [(str(p.relative_to(src)), len(p.read_text().splitlines()))
             for p in (src / "voting").rglob("*.py") if "migrations" not in p.parts]
    return sorted(sizes, key=lambda s: -s[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision to count instead of this checkout")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        if args.rev:
            archive = subprocess.run(  # noqa: S603  (git, from PATH like any developer command; the revision is the caller's own)
                ["git", "-C", str(root), "archive", args.rev, "src/opencall"],  # noqa: S607
                check=True, capture_output=True).stdout
            with tarfile.open(fileobj=BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
            src = Path(tmp) / "src" / "opencall"
        else:
            src = root / "src" / "opencall"
        print(f"# {args.rev or 'this checkout'}")
        for label, n in counts(src).items():
            print(f"{n:6d}  {label}")
        print("largest modules of voting/: " + ", ".join(f"{name} {n}" for name, n in voting_sizes(src)))


if __name__ == "__main__":
    main()
