"""Issue 13: Schemathesis against /api/openapi.json, in process through the WSGI app (no network), on a
small seeded data set, as an anonymous visitor and with an organiser's and a participant's personal
token. Checks: no server error; every answer's status code is documented, its content type is the
documented one and its body matches the documented schema.

Per caller, each operation gets schema-valid cases aimed at the seeded objects (their keys as path
parameters, so bodies reach the actions) and invalid cases with made-up path parameters. The default
size (1 example of each) keeps the suite fast; bench/fuzz/ runs the same test larger, adding valid
cases with made-up keys and invalid ones aimed at the seeded objects:
    OPENCALL_FUZZ_EXAMPLES=10 OPENCALL_FUZZ_FULL=1 .venv/bin/python -m pytest tests/security/test_fuzz.py -s
Hypothesis is derandomized (the same cases every run) unless OPENCALL_FUZZ_SEED is set.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode, checks

from opencall.accounts.actions import issue_token
from opencall.community.actions import report_comment
from opencall.ideas.actions import add_position, invite_to_team
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("OPENCALL_FUZZ_EXAMPLES", "1"))
FULL = os.environ.get("OPENCALL_FUZZ_FULL") == "1"
SEED = os.environ.get("OPENCALL_FUZZ_SEED", "")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Keys the fuzzer may not be handed: revoking the caller's own token would end the run early.
UNSEEDED = {"token_id"}


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    # Like Django's test client: the request signals must not close the connection that holds the test's
    # transaction (and the seeded rows) between requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(org, organiser, participant, challenge, idea, team_member) -> dict[str, Any]:
    comment = CommentFactory(idea=idea, author=participant, body="Could the foam be composted at home?")
    report, _ = report_comment(comment=comment, by=organiser, reason="Spam?")
    position = add_position(team=idea.team, by=team_member, title="Chemist", skills=["chemistry"])
    invitation = invite_to_team(team=idea.team, user=participant, by=team_member)
    UserFactory(display_name="Another Person")
    return {
        "org": org.slug,
        "slug": challenge.slug,
        "idea_id": idea.pk,
        "team_id": idea.team_id,
        "comment_id": comment.pk,
        "report_id": report.pk,
        "position_id": position.pk,
        "invitation_id": invitation.pk,
        "user_id": participant.pk,
        "request_id": 1,
        "role_id": 1,
        "allocation_id": 1,
        "assignment_id": 1,
        "number": 1,
    }


def known_path_parameters(path: str, seeded: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in re.findall(r"{(\w+)}", path) if n not in UNSEEDED]
    values = {name: seeded[name] for name in names if name in seeded}
    if "slug" in values and path.startswith("/api/organisations/"):
        values["slug"] = seeded["org"]
    return values


def negatable(declared: dict[str, Any], fixed: set[str]) -> bool:
    """Whether anything of the operation can be made invalid: a body, a query parameter or a path
    parameter that is not free text. (Hypothesis otherwise searches hundreds of cases to give up.)"""
    if "requestBody" in declared:
        return True
    return any(
        parameter["in"] == "query" or (parameter["schema"].get("type") != "string" and parameter["name"] not in fixed)
        for parameter in declared.get("parameters", [])
    )


def fuzz(schema: Any, headers: dict[str, str], seeded: dict[str, Any]) -> tuple[int, int, list[str]]:
    """Run every operation; return how many operations and cases were run, and one line per failure."""
    sent = operations = 0
    failures: list[str] = []
    options = hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=not SEED,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        known = known_path_parameters(operation.path, seeded)
        declared = schema.raw_schema["paths"][operation.path][operation.method.lower()]
        variants = [(GenerationMode.POSITIVE, known)]
        if negatable(declared, fixed=set()):
            variants.append((GenerationMode.NEGATIVE, {}))
        if FULL:
            variants.append((GenerationMode.POSITIVE, {}))
            if negatable(declared, fixed=set(known)):
                variants.append((GenerationMode.NEGATIVE, known))
        for mode, path_parameters in variants:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

            @options
            @hypothesis.given(case=strategy)
            def run(case: Any) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            if SEED:
                run = hypothesis.seed(int(SEED))(run)
            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing in this operation can be made invalid (e.g. only fixed keys)
            except Exception as exc:  # every failure is collected and reported at the end
                first = str(exc).strip().splitlines()[:12]
                failures.append(f"{operation.label} [{mode.value}, {path_parameters or 'generated'}]: " + " | ".join(first))
    return operations, sent, failures


@pytest.mark.parametrize("caller", ["anonymous", "organiser", "participant"])
def test_api_fuzz(caller, seeded, wsgi_app, organiser, participant):
    headers: dict[str, str] = {}
    if caller != "anonymous":
        _, clear = issue_token(user=organiser if caller == "organiser" else participant, label="fuzz")
        headers = {"Authorization": f"Bearer {clear}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    started = time.monotonic()
    operations, sent, failures = fuzz(schema, headers, seeded)
    print(  # bench/fuzz reads this line
        f"fuzz {caller}: {operations} operations, {sent} cases, {len(failures)} failures, "
        f"{time.monotonic() - started:.0f} s"
    )
    assert failures == [], "\n".join(failures)
    assert sent >= 100
