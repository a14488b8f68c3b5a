from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencall.cli_budget import main

SMALL = (
    "META\nkey;value\nbudget;10\nvote_type;approval\n"
    "PROJECTS\nproject_id;cost;name\nx;6;Park\ny;4;Path\nz;4;Pool\n"
    "VOTES\nvoter_id;vote\n" + "".join(f"{v};x,y\n" for v in range(6)) + "".join(f"{v};z\n" for v in range(6, 10))
)


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_json_output(small_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(small_file), "--rule", "mes-cost", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["selected"] == ["x", "z"]
    assert set(out["explanations"]) == {"x", "y", "z"}
    assert out["explanations"]["y"]["funded"] is False
    assert out["explanations"]["y"]["shortfall"] == 4.0
    assert out["explanations"]["x"]["payments"] == {"6 voters paid 1": 1.0}


def test_text_output(small_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(small_file), "--rule", "greedy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "greedy: 2 of 3 projects funded, 10.00 of 10.00"
    assert lines[1:] == ["  x\t6.00\tPark", "  y\t4.00\tPath"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "/nonexistent.pb", "--rule", "mes"], "cannot read /nonexistent.pb"),
        (["run", "FILE", "--rule", "borda"], "invalid choice: 'borda'"),
        (["run", "FILE"], "the following arguments are required: --rule"),
        (["walk"], "invalid choice: 'walk'"),
    ],
)
def test_bad_arguments_give_one_line(
    argv: list[str], message: str, small_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(small_file) if a == "FILE" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("opencall budget: error: ")
    assert message in err


def test_malformed_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.pb"
    path.write_text(SMALL.replace("y;4;Path", "y;four;Path"), encoding="utf-8")
    assert main(["run", str(path), "--rule", "greedy"]) == 2
    assert capsys.readouterr().err == f"opencall budget: error: {path}: line 8: cost 'four' is not a number\n"


def test_rule_that_does_not_fit_the_ballots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cumulative.pb"
    path.write_text(
        "META\nkey;value\nbudget;10\nvote_type;cumulative\nPROJECTS\nproject_id;cost\n1;5\n"
        "VOTES\nvoter_id;vote;points\na;1;3\n",
        encoding="utf-8",
    )
    assert main(["run", str(path), "--rule", "phragmen"]) == 2
    assert "phragmen needs approval ballots" in capsys.readouterr().err


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.pb"
    path.write_bytes(SMALL.replace("Park", "Parc é").encode("latin-1"))
    assert main(["run", str(path), "--rule", "greedy"]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
