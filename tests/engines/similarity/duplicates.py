"""Readers for the shared duplicate-detection dev data (read in place from ../shared/data, never copied).

Used by the tests here and by bench/similarity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.shared_data import SHARED_DATA


def duplicates_root() -> Path:
    """The duplicate-detection data sets (not skipping: bench/similarity reads them too)."""
    return SHARED_DATA / "duplicates"


@dataclass(frozen=True)
class Pairs:
    """Sentence pairs with a gold value: 0/1 for MRPC, a 0..5 similarity for STS-B and SICK (1..5)."""

    name: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    gold: tuple[float, ...]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_characters(root: Path) -> int:
    """How many control characters the files hold (MRPC train has one, U+0012 for an apostrophe)."""
    return sum(
        len(_CONTROL.findall(p.read_text(encoding="utf-8-sig")))
        for p in (
            root / "mrpc" / "msr_paraphrase_train.txt",
            root / "stsbenchmark" / "sts-dev.csv",
            root / "sick" / "SICK_train.txt",
            root / "sick" / "SICK_trial.txt",
        )
    )


def _rows(path: Path) -> list[list[str]]:
    # Split on tabs only: the sentences hold quotes that a CSV reader would swallow. The engine
    # refuses control characters (as the platform must); the data's few become a space here.
    text = _CONTROL.sub(" ", path.read_text(encoding="utf-8-sig"))
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def _pairs(name: str, rows: list[tuple[str, str, float]]) -> Pairs:
    a, b, gold = zip(*rows, strict=True)
    return Pairs(name, a, b, gold)


def mrpc_train(root: Path) -> Pairs:
    """MRPC train: quality (1 paraphrase), id, id, sentence 1, sentence 2."""
    return _pairs("MRPC train", [(r[3], r[4], float(r[0])) for r in _rows(root / "mrpc" / "msr_paraphrase_train.txt")])


def sts_dev(root: Path) -> Pairs:
    """STS-B dev: genre, file, year, id, score (0..5), sentence 1, sentence 2 (some rows carry sources after)."""
    return _pairs("STS-B dev", [(r[5], r[6], float(r[4])) for r in _rows(root / "stsbenchmark" / "sts-dev.csv")])


def sick(root: Path, split: str) -> Pairs:
    """SICK ``train`` or ``trial``: id, sentence A, sentence B, relatedness (1..5), entailment label."""
    return _pairs(f"SICK {split}", [(r[1], r[2], float(r[3])) for r in _rows(root / "sick" / f"SICK_{split}.txt")])
