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
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the finders are the ones tests/test_structure.py holds the tree to

from tests import test_structure as rules  # noqa: E402  (after the path above)


def phase_strings(src: Path) -> int:
    """Every string constant that is exactly a phase name, outside phases.py (also app labels, statuses)."""
    return sum(
        isinstance(node, ast.Constant) and node.value in rules.PHASE_NAMES
        for path in src.rglob("*.py")
        if "migrations" not in path.parts and path.relative_to(src) != Path("challenges/phases.py")
        for node in ast.walk(ast.parse(path.read_text()))
    )


def counts(src: Path) -> dict[str, int]:
    return {
        "lookup helpers in entry points": len(rules.lookup_helpers(src)),
        "permission/not-found raises in entry points": len(rules.refusals_in_entry_points(src)),
        "Model.objects in entry points": len(rules.managers_in_entry_points(src)),
        "untranslated messages raised": len(rules.untranslated_messages(src)),
        "phase names compared outside phases.py (Python)": len(rules.phase_comparisons(src)),
        "phase names compared in templates": len(rules.template_phase_comparisons(src)),
        "any string that is exactly a phase name, outside phases.py (also app labels, idea status)": phase_strings(src),
    }


def voting_sizes(src: Path, top: int = 4) -> list[tuple[str, int]]:
    sizes = [(str(p.relative_to(src)), len(p.read_text().splitlines()))
             for p in (src / "voting").rglob("*.py") if "migrations" not in p.parts]
    return sorted(sizes, key=lambda s: -s[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision to count instead of this checkout")
    args = parser.parse_args()
    root = ROOT
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
