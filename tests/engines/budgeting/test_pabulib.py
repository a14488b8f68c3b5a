from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from opencall.engines.budgeting.pabulib import PabulibError, read_pabulib, write_pabulib

MESSY = (
    "\ufeffMETA\r\n"
    "key;value\r\n"
    'description;"Budget; with a semicolon"\r\n'
    "budget;1000,5\r\n"
    "vote_type;approval\r\n"
    "min_length;1\r\n"
    "\r\n"
    "PROJECTS\r\n"
    "project_id;cost;votes;name;category;selected\r\n"
    'a;400.25;2;"Park; benches";green,sport;1\r\n'
    "b;600;1;;None;0\r\n"
    "c;100;0;Library;;\r\n"
    "VOTES\r\n"
    "voter_id;vote;age\r\n"
    "v1;a,b;31\r\n"
    "v2; a ;\r\n"
    "v3;;44\r\n"
)


def test_reads_messy_file() -> None:
    e = read_pabulib(MESSY)
    assert e.meta_value("description") == "Budget; with a semicolon"
    assert e.budget == Fraction(20010, 20)
    assert [p.project_id for p in e.projects] == ["a", "b", "c"]
    assert [p.cost for p in e.projects] == [Fraction(40025, 100), Fraction(600), Fraction(100)]
    assert e.projects[0].field("name") == "Park; benches"
    assert e.projects[0].categories == frozenset({"green", "sport"})
    assert e.projects[1].categories == frozenset()
    assert [p.selected for p in e.projects] == [1, 0, None]
    assert e.voter_ids == ("v1", "v2", "v3")
    assert [e.ballot(v) for v in range(3)] == [((0, 1.0), (1, 1.0)), ((0, 1.0),), ()]
    assert e.voter_fields == (("31",), ("",), ("44",))


def test_round_trip_keeps_everything() -> None:
    e = read_pabulib(MESSY)
    again = read_pabulib(write_pabulib(e))
    assert again.meta == e.meta
    assert again.projects == e.projects
    assert again.voter_ids == e.voter_ids
    assert np.array_equal(again.indptr, e.indptr)
    assert np.array_equal(again.indices, e.indices)
    assert again.voter_fields == e.voter_fields


def test_cumulative_points_and_repeats_add_up() -> None:
    text = (
        "META\nkey;value\nbudget;10\nvote_type;cumulative\n"
        "PROJECTS\nproject_id;cost\n1;5\n2;5\n"
        "VOTES\nvoter_id;vote;points\nx;1,2,1;2,1,1.5\n"
    )
    e = read_pabulib(text)
    assert e.ballot(0) == ((0, 3.5), (1, 1.0))
    assert e.exact_points == (Fraction(7, 2), Fraction(1))
    again = read_pabulib(write_pabulib(e))
    assert again.exact_points == e.exact_points


def test_ordinal_without_points_gets_positional_scores() -> None:
    text = (
        "META\nkey;value\nbudget;10\nvote_type;ordinal\n"
        "PROJECTS\nproject_id;cost\n1;5\n2;5\n3;1\n"
        "VOTES\nvoter_id;vote\nx;3,1,2\ny;2\n"
    )
    e = read_pabulib(text)
    assert e.ballot(0) == ((2, 3.0), (0, 2.0), (1, 1.0))
    assert e.ballot(1) == ((1, 1.0),)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("PROJECTS\nproject_id;cost\n1;ten\nVOTES\nvoter_id;vote\n", 7, "cost 'ten' is not a number"),
        ("PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\na;2\n", 10, "unknown project '2'"),
        ("PROJECTS\nproject_id;cost\n1;5\n1;6\nVOTES\nvoter_id;vote\n", 8, "appears twice"),
        ("PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\na;1\na;1\n", 11, "voter 'a' appears twice"),
        ("PROJECTS\nproject_id\n1\nVOTES\nvoter_id;vote\n", 6, "needs project_id and cost"),
        ("PROJECTS\nproject_id;cost\n1;5;x;y\nVOTES\nvoter_id;vote\n", 7, "4 fields"),
    ],
)
def test_malformed_files_name_the_line(body: str, line: int, message: str) -> None:
    text = "META\nkey;value\nbudget;10\nvote_type;approval\n" + body
    with pytest.raises(PabulibError) as err:
        read_pabulib(text)
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"line {line}: ")


def test_missing_sections_and_budget() -> None:
    with pytest.raises(PabulibError, match="META, PROJECTS and VOTES"):
        read_pabulib("META\nkey;value\nbudget;1\n")
    with pytest.raises(PabulibError, match="no budget"):
        read_pabulib("META\nkey;value\nvote_type;approval\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n")
    with pytest.raises(PabulibError, match="unknown vote_type 'borda'"):
        read_pabulib("META\nkey;value\nbudget;1\nvote_type;borda\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n")
