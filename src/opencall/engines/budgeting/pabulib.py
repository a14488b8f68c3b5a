"""Reader and writer for the Pabulib ``.pb`` format.

Format: Stolicki, Szufa, Talmon, "Pabulib: A Participatory Budgeting Library" (arXiv:2012.06539)
and the format description at pabulib.org. A file has three ``;``-separated sections, ``META``
(key;value), ``PROJECTS`` (project_id;cost;...) and ``VOTES`` (voter_id;vote;...), each followed by
its header row. The reader tolerates what real files contain: a UTF-8 BOM, CRLF line ends, quoted
fields, blank lines and fields, decimal costs with a comma or a dot, and ``None`` markers. Anything
it cannot make sense of raises :class:`PabulibError` naming the line. Reading is linear in the file
size; the writer is linear in the number of ballot entries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from fractions import Fraction

import numpy as np

from opencall.engines.budgeting.model import VOTE_TYPES, Election, Project


class PabulibError(ValueError):
    """A malformed Pabulib file; ``line`` is 1-based (0 when the problem is not on one line)."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


def _number(text: str, what: str, line: int) -> Fraction:
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not cleaned:
        raise PabulibError(f"{what} is blank", line)
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"{what} {text.strip()!r} is not a number", line) from None


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def read_pabulib(text: str | Iterable[str]) -> Election:
    """Parse the text of a ``.pb`` file (a string or an iterable of lines)."""
    lines = text.splitlines() if isinstance(text, str) else [line.rstrip("\r\n") for line in text]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]

    meta: list[tuple[str, str]] = []
    project_header: list[str] = []
    projects: list[Project] = []
    project_index: dict[str, int] = {}
    voter_header: list[str] = []
    voter_ids: list[str] = []
    voter_fields: list[tuple[str, ...]] = []
    seen_voters: set[str] = set()
    indptr: list[int] = [0]
    entry_projects: list[int] = []
    exact_points: list[Fraction] = []
    any_points = False

    section = ""
    header: list[str] = []
    expect_header = False
    vote_type = ""
    vote_col = points_col = -1
    reader = csv.reader(lines, delimiter=";")
    for row in reader:
        line_no = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        first = row[0].strip().lower()
        if first in ("meta", "projects", "votes") and len(row) <= 2 and not expect_header:
            order = ("meta", "projects", "votes")
            if section and order.index(first) <= order.index(section):
                raise PabulibError(f"section {row[0].strip()} out of order", line_no)
            section = first
            expect_header = True
            continue
        if not section:
            raise PabulibError("text before the META section", line_no)
        if expect_header:
            header = [cell.strip().lower() for cell in row]
            expect_header = False
            if section == "projects":
                if "project_id" not in header or "cost" not in header:
                    raise PabulibError("PROJECTS header needs project_id and cost", line_no)
                project_header = header
                vote_type = dict(meta).get("vote_type", "").strip().lower()
            elif section == "votes":
                if "vote" not in header:
                    raise PabulibError("VOTES header needs a vote column", line_no)
                voter_header = header
                vote_col = header.index("vote")
                points_col = header.index("points") if "points" in header else -1
                if not vote_type:
                    vote_type = dict(meta).get("vote_type", "").strip().lower()
                if vote_type not in VOTE_TYPES:
                    raise PabulibError(f"unknown vote_type {vote_type!r}", line_no)
            continue
        cells = [cell.strip() for cell in row]
        if section == "meta":
            if len(cells) < 2:
                raise PabulibError("META line needs key;value", line_no)
            meta.append((cells[0], ";".join(cells[1:]).strip()))
        elif section == "projects":
            if len(cells) > len(header):
                if any(cells[len(header) :]):
                    raise PabulibError(f"{len(cells)} fields where the header has {len(header)}", line_no)
                cells = cells[: len(header)]
            cells += [""] * (len(header) - len(cells))
            fields = dict(zip(header, cells, strict=True))
            pid = fields["project_id"]
            if not pid:
                raise PabulibError("project_id is blank", line_no)
            if pid in project_index:
                raise PabulibError(f"project {pid!r} appears twice", line_no)
            cost = _number(fields["cost"], "cost", line_no)
            if cost < 0:
                raise PabulibError(f"cost of {pid!r} is negative", line_no)
            cats = fields.get("category", fields.get("categories", ""))
            tgts = fields.get("target", fields.get("targets", ""))
            sel_text = fields.get("selected", "")
            selected: int | None = None
            if sel_text and sel_text.lower() != "none":
                try:
                    selected = int(float(sel_text))
                except ValueError:
                    raise PabulibError(f"selected {sel_text!r} is not a number", line_no) from None
            project_index[pid] = len(projects)
            projects.append(
                Project(
                    project_id=pid,
                    cost=cost,
                    fields=tuple((k, v) for k, v in zip(header, cells, strict=True) if k != "project_id"),
                    categories=frozenset(_split_list(cats)) if cats.lower() != "none" else frozenset(),
                    targets=frozenset(_split_list(tgts)) if tgts.lower() != "none" else frozenset(),
                    selected=selected,
                )
            )
        else:  # votes
            if len(cells) > len(header) and any(cells[len(header) :]):
                raise PabulibError(f"{len(cells)} fields where the header has {len(header)}", line_no)
            cells = cells[: len(header)] + [""] * (len(header) - len(cells))
            vid = cells[0]
            if vid in seen_voters:
                raise PabulibError(f"voter {vid!r} appears twice", line_no)
            seen_voters.add(vid)
            vote_text = cells[vote_col]
            chosen = _split_list(vote_text) if vote_text.lower() != "none" else []
            pts_text = cells[points_col] if points_col >= 0 else ""
            pts = _split_list(pts_text) if pts_text.lower() != "none" else []
            if points_col >= 0 and pts and len(pts) != len(chosen):
                raise PabulibError(
                    f"{len(chosen)} projects but {len(pts)} points in the ballot of {vid!r}",
                    line_no,
                )
            if vote_type in ("approval", "choose-1"):
                try:
                    idxs = [project_index[pid] for pid in chosen]
                except KeyError as missing:
                    raise PabulibError(f"vote for unknown project {missing.args[0]!r}", line_no) from None
                if len(set(idxs)) != len(idxs):
                    idxs = list(dict.fromkeys(idxs))  # a repeated approval adds nothing
                entry_projects.extend(idxs)
            else:
                start = len(entry_projects)
                used: dict[int, int] = {}
                for pos, pid in enumerate(chosen):
                    idx = project_index.get(pid)
                    if idx is None:
                        raise PabulibError(f"vote for unknown project {pid!r}", line_no)
                    if pts:
                        value = _number(pts[pos], "points", line_no)
                        any_points = True
                    elif vote_type == "ordinal":
                        value = Fraction(len(chosen) - pos)
                    else:
                        raise PabulibError(f"ballot of {vid!r} has no points", line_no)
                    if idx in used:
                        if vote_type == "ordinal":
                            raise PabulibError(f"project {pid!r} ranked twice", line_no)
                        # cumulative points given in several entries add up
                        exact_points[used[idx]] += value
                        continue
                    used[idx] = start + len(used)
                    entry_projects.append(idx)
                    exact_points.append(value)
            indptr.append(len(entry_projects))
            voter_ids.append(vid)
            voter_fields.append(tuple(c for j, c in enumerate(cells) if j not in (0, vote_col, points_col)))

    if section != "votes" or expect_header:
        raise PabulibError("the file needs META, PROJECTS and VOTES sections", len(lines))
    meta_map = dict(meta)
    if "budget" not in meta_map:
        raise PabulibError("META has no budget")
    budget = _number(meta_map["budget"], "budget", 0)
    if not vote_type:
        raise PabulibError("META has no vote_type")
    extra_voter_header = tuple(h for j, h in enumerate(voter_header) if j not in (0, vote_col, points_col))
    if vote_type in ("approval", "choose-1"):
        points = np.ones(len(entry_projects), dtype=np.float64)
    else:
        points = np.asarray([float(x) for x in exact_points], dtype=np.float64)
    integral = all(x.denominator == 1 for x in exact_points)
    return Election(
        meta=tuple(meta),
        projects=tuple(projects),
        budget=budget,
        vote_type=vote_type,
        voter_ids=tuple(voter_ids),
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=np.asarray(entry_projects, dtype=np.int64),
        points=points,
        project_header=tuple(project_header),
        voter_header=("voter_id", "vote", *extra_voter_header),
        voter_fields=tuple(voter_fields),
        has_points_column=any_points,
        exact_points=None if integral else tuple(exact_points),
    )


def _fmt_number(value: Fraction | float) -> str:
    frac = Fraction(value)
    if frac.denominator == 1:
        return str(frac.numerator)
    as_float = float(frac)
    if Fraction(as_float) == frac or Fraction(repr(as_float)) == frac:
        return repr(as_float)
    return f"{frac.numerator}/{frac.denominator}"


def write_pabulib(election: Election) -> str:
    """The ``.pb`` text of an election; ``read_pabulib(write_pabulib(e))`` gives ``e`` back."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    out.write("META\n")
    writer.writerow(["key", "value"])
    for key, value in election.meta:
        writer.writerow([key, value])
    out.write("PROJECTS\n")
    header = list(election.project_header) or ["project_id", "cost"]
    writer.writerow(header)
    for p in election.projects:
        fields = dict(p.fields)
        row = []
        for key in header:
            if key == "project_id":
                row.append(p.project_id)
            elif key == "cost":
                row.append(_fmt_number(p.cost))
            else:
                row.append(fields.get(key, ""))
        writer.writerow(row)
    out.write("VOTES\n")
    with_points = election.vote_type in ("cumulative", "scoring") or election.has_points_column
    extra = [h for h in election.voter_header if h not in ("voter_id", "vote")]
    writer.writerow(["voter_id", "vote", *(["points"] if with_points else []), *extra])
    ids = [p.project_id for p in election.projects]
    for v, vid in enumerate(election.voter_ids):
        lo, hi = int(election.indptr[v]), int(election.indptr[v + 1])
        vote = ",".join(ids[int(i)] for i in election.indices[lo:hi])
        row = [vid, vote]
        if with_points:
            if election.exact_points is not None:
                pts = [_fmt_number(x) for x in election.exact_points[lo:hi]]
            else:
                pts = [_fmt_number(float(x)) for x in election.points[lo:hi]]
            row.append(",".join(pts))
        row.extend(election.voter_fields[v] if v < len(election.voter_fields) else ())
        writer.writerow(row)
    return out.getvalue()
