"""Readers for the gold-standard reviewer-expertise data (Stelmakh et al., arXiv:2303.16750)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def read_expertise(root: Path) -> dict[str, dict[str, float]]:
    """Self-rated expertise: reviewer id -> paper id -> score (1-5)."""
    out: dict[str, dict[str, float]] = {}
    with (root / "data" / "evaluations.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            out[row["ParticipantID"]] = {
                row[f"Paper{x}"]: float(row[f"Expertise{x}"]) for x in range(1, 11) if row[f"Paper{x}"]
            }
    return out


def _text(content: dict[str, object]) -> str:
    return f"{content.get('title') or ''}. {content.get('abstract') or ''}"


def read_profiles(dataset: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(reviewer id -> profile documents, paper id -> title and abstract) of one d_20_* set."""
    papers = json.loads((dataset / "submissions.json").read_text(encoding="utf-8"))
    submissions = {pid: _text(paper["content"]) for pid, paper in papers.items()}
    profiles: dict[str, list[str]] = {}
    for path in sorted((dataset / "archives").glob("*.jsonl")):
        reviewer = path.name.split(".")[0].lstrip("~")
        lines = path.read_text(encoding="utf-8").splitlines()
        profiles[reviewer] = [_text(json.loads(line)["content"]) for line in lines if line]
    return profiles, submissions
