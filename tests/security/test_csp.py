"""Issue 13, finding 8: no Content-Security-Policy. Every page now carries one with a per-response
nonce, and no page holds code the policy would refuse: inline <script> without that nonce, on*=
handlers, hx-on, javascript: URLs, style attributes or <style> elements (style-src is 'self' only).

The sweep renders each main page type as the person who would see it; a static audit covers the
templates and scripts the sweep cannot reach; a browser test (Debian's chromium, skipped without it)
loads pages, clicks through HTMX and listens for `securitypolicyviolation` events.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from opencall.accounts.models import User
from opencall.community.actions import add_comment, report_idea
from opencall.funding.actions import cast_ballot, publish_allocation, run_allocation
from opencall.organisations.models import Invitation
from opencall.review.actions import CriterionSpec, create_rubric, open_round, run_assignment
from opencall.review.models import ReviewAssignment
from opencall.voting import actions as voting
from tests.conftest import client_for
from tests.e2e import conftest as e2e
from tests.factories import ChallengeFactory, IdeaFactory, MembershipFactory, UserFactory, make_role

# The browser journeys' fixtures, borrowed (this folder has no conftest of its own).
browser, e2e_settings, new_context = e2e.browser, e2e.e2e_settings, e2e.new_context
SRC = Path(__file__).resolve().parents[2] / "src" / "opencall"
DATA_BLOCKS = {"application/json", "application/ld+json"}  # never executed: no nonce needed
EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self' 'nonce-{nonce}'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def nonce_of(header: str) -> str | None:
    match = re.search(r"'nonce-([A-Za-z0-9+/=]+)'", directives(header).get("script-src", ""))
    return match.group(1) if match else None


class Audit(HTMLParser):
    """Everything in one HTML document that a nonce-based, style-src 'self' policy would refuse."""

    URL_ATTRS = {"href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"}

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.problems: list[str] = []
        self.scripts = 0
        self._inline: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> inline handler")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"<{tag} {name}=...> hx-on (evaluated with Function())")
            if name in ("hx-vals", "hx-vars", "hx-headers") and value.startswith(("js:", "javascript:")):
                self.problems.append(f"<{tag} {name}={value[:30]}> evaluated HTMX value")
            if name == "style":
                self.problems.append(f"<{tag} style={value[:40]!r}> style attribute")
            if name in self.URL_ATTRS and value.lower().replace("\t", "").startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value[:30]}> javascript: URL")
        if tag == "style":
            self.problems.append("<style> element")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}> element")
        if tag == "link" and "stylesheet" in (found.get("rel") or "") and not _same_origin(found.get("href")):
            self.problems.append(f"stylesheet from elsewhere: {found.get('href')}")
        if tag == "script":
            self.scripts += 1
            src = found.get("src")
            kind = (found.get("type") or "").strip().lower()
            if src is not None:
                if not _same_origin(src):
                    self.problems.append(f"script from elsewhere: {src}")
            elif kind not in DATA_BLOCKS and (not self.nonce or found.get("nonce") != self.nonce):
                self._inline = found.get("nonce") or "(none)"

    def handle_data(self, data: str) -> None:
        if self._inline is not None and data.strip():
            self.problems.append(f"inline <script> with nonce {self._inline}, not the response's: {data.strip()[:60]!r}")
            self._inline = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline = None


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")  # type: ignore[union-attr]


def audit(response) -> list[str]:
    """Problems with one HTML response: its header first, then its markup."""
    header = response.headers.get("Content-Security-Policy")
    problems = []
    if header is None:
        problems.append("no Content-Security-Policy header")
        nonce = None
    else:
        got = directives(header)
        nonce = nonce_of(header)
        for name, value in EXPECTED.items():
            want = value.format(nonce=nonce) if nonce else value.replace(" 'nonce-{nonce}'", "")
            if got.get(name) != want:
                problems.append(f"{name} is {got.get(name)!r}, expected {want!r}")
        if "'unsafe-inline'" in header or "'unsafe-eval'" in header:
            problems.append(f"unsafe source in {header!r}")
    parser = Audit(nonce)
    parser.feed(response.content.decode())
    parser.close()
    return problems + parser.problems


# -- a small world with one of everything ---------------------------------------------------------


@pytest.fixture
def world(org, organiser, challenge, idea, team_member, participant, judge, moderator, employee):
    """Ideas, a comment and a report on the main challenge; a review round, a budget vote, published
    funding results and an open live vote on challenges of their own phase."""
    comment = add_comment(idea=idea, by=participant, body="Could this work for **cold chain** parcels?")
    report_idea(idea=idea, by=participant, reason="Looks copied from a catalogue.")

    review = ChallengeFactory(organisation=org, title="Review stage", slug="review-stage", phase="review")
    for n in range(2):
        IdeaFactory(challenge=review, title=f"Entry {n}")
    make_role(review, judge, "judge")
    rubric = create_rubric(challenge=review, by=organiser, name="Rubric", criteria=[CriterionSpec("Impact")])
    rnd = open_round(challenge=review, by=organiser, name="Final", rubric=rubric, judges_per_idea=1, blind=True)
    run_assignment(rnd=rnd, by=organiser)

    fund = ChallengeFactory(organisation=org, title="Budget vote", slug="budget-vote", phase="funding",
                            budget_minor=100_000)
    plans = [IdeaFactory(challenge=fund, title=f"Plan {c}", requested_budget_minor=c) for c in (60_000, 40_000)]
    results = ChallengeFactory(organisation=org, title="Funded", slug="funded", phase="funding", budget_minor=100_000)
    funded = [IdeaFactory(challenge=results, title=f"Funded {c}", requested_budget_minor=c) for c in (50_000, 30_000)]
    cast_ballot(challenge=results, by=UserFactory(), choices={funded[0].pk: 1})
    allocation = run_allocation(challenge=results, by=organiser, rule="greedy")
    results.phase = "results"
    results.save(update_fields=["phase"])
    publish_allocation(allocation=allocation, by=organiser)

    finalists = [IdeaFactory(challenge=challenge, title=f"Finalist {n}", status="shortlisted") for n in range(2)]
    live = voting.create_live_vote(challenge=challenge, by=organiser, title="Grand finale",
                                   finalist_ids=[f.pk for f in finalists], duration_seconds=300)
    voting.open_live_vote(live_vote=live, by=organiser)

    admin = User.objects.create_superuser("root@opencall.example", "a-long-admin-password")
    return {
        "comment": comment, "review": review, "assignment": ReviewAssignment.objects.filter(judge=judge).first(),
        "fund": fund, "plans": plans, "results": results, "allocation": allocation, "live": live, "admin": admin,
    }


def pages(w, *, challenge, idea, org, organiser, team_member, participant, judge):
    """(who, url, extra headers, expected status) for each main page type."""
    slug, team, live = challenge.slug, idea.team, w["live"].code
    htmx = {"HTTP_HX_REQUEST": "true"}
    anyone, admin = None, w["admin"]
    return [
        (anyone, "/", {}, 200),
        (anyone, "/challenges/", {}, 200),
        (anyone, "/challenges/?q=foam", htmx, 200),
        (anyone, f"/challenges/{slug}/", {}, 200),
        (anyone, f"/challenges/{slug}/ideas/", htmx, 200),
        (anyone, f"/ideas/{idea.pk}/", {}, 200),
        (participant, f"/ideas/{idea.pk}/comments/", htmx, 200),
        (participant, f"/ideas/{idea.pk}/comments/", {}, 200),
        (participant, f"/ideas/{idea.pk}/like/", htmx, 200),
        (participant, f"/ideas/{idea.pk}/follow/", htmx, 200),
        (team_member, f"/ideas/{idea.pk}/edit/", {}, 200),
        (team_member, f"/ideas/{idea.pk}/history/", {}, 200),
        (participant, f"/challenges/{slug}/ideas/new/", {}, 200),
        (anyone, f"/teams/{team.pk}/", {}, 200),
        (anyone, "/teams-looking/", {}, 200),
        (anyone, "/organisations/", {}, 200),
        (anyone, f"/organisations/{org.slug}/", {}, 200),
        (organiser, f"/organisations/{org.slug}/challenges/new/", {}, 200),
        (organiser, f"/challenges/{slug}/edit/", {}, 200),
        (organiser, f"/challenges/{slug}/roles/", {}, 200),
        (team_member, "/dashboard/", {}, 200),
        (organiser, f"/dashboard/{slug}/", {}, 200),
        (organiser, "/moderation/", {}, 200),
        (participant, f"/challenges/{w['fund'].slug}/budget-ballot/", {}, 200),
        (organiser, f"/challenges/{w['results'].slug}/allocations/", {}, 200),
        (anyone, f"/challenges/{w['results'].slug}/results/", {}, 200),
        (organiser, f"/challenges/{w['review'].slug}/review/", {}, 200),
        (organiser, f"/challenges/{w['review'].slug}/review/rounds/1/", {}, 200),
        (judge, "/review/", {}, 200),
        (judge, f"/review/assignments/{w['assignment'].pk}/", {}, 200),
        (organiser, f"/challenges/{slug}/live/", {}, 200),
        (organiser, f"/live/{live}/console/", {}, 200),
        (organiser, f"/live/{live}/screen/", {}, 200),
        (anyone, f"/v/{live}/", {}, 200),
        (anyone, "/accounts/login/", {}, 200),
        (anyone, "/accounts/signup/", {}, 200),
        (anyone, "/accounts/password/reset/", {}, 200),
        (participant, "/accounts/email/", {}, 200),
        (participant, "/accounts/password/change/", {}, 200),
        (participant, "/profile/edit/", {}, 200),
        (participant, "/notifications/", {}, 200),
        (participant, "/tokens/", {}, 200),
        (anyone, f"/people/{team_member.pk}/", {}, 200),
        (anyone, "/api/docs", {}, 200),
        (admin, "/admin/", {}, 200),
        (anyone, "/ideas/999999/", {}, 404),
        (participant, f"/challenges/{slug}/edit/", {}, 403),
    ]


@pytest.mark.django_db
def test_every_main_page_has_the_policy_and_nothing_it_refuses(
    world, challenge, idea, org, organiser, team_member, participant, judge
):
    seen, problems, scripts = [], {}, 0
    clients: dict[int | None, Client] = {}
    for who, url, headers, status in pages(world, challenge=challenge, idea=idea, org=org, organiser=organiser,
                                            team_member=team_member, participant=participant, judge=judge):
        client = clients.setdefault(who.pk if who else None, client_for(who))
        response = client.get(url, **headers)
        label = f"{who or 'visitor'} GET {url}{' (htmx)' if headers else ''}"
        if response.status_code != status:
            problems[label] = [f"status {response.status_code}, expected {status}"]
            continue
        found = audit(response)
        if found:
            problems[label] = found
        seen.append(label)
        scripts += response.content.decode().count("<script")
    assert problems == {}, "\n".join(f"{label}: {p}" for label, found in problems.items() for p in found)
    assert len(seen) == 47
    assert scripts > 80  # the sweep did meet scripts (htmx, site.js, the live pages' files, Swagger's)


@pytest.mark.django_db
def test_the_policy_is_exact_and_the_nonce_is_fresh_for_each_response(client, challenge):
    first, second = client.get("/"), client.get("/")
    a, b = nonce_of(first.headers["Content-Security-Policy"]), nonce_of(second.headers["Content-Security-Policy"])
    assert a and b and a != b and len(a) >= 22
    assert directives(first.headers["Content-Security-Policy"]) == {
        name: value.format(nonce=a) for name, value in EXPECTED.items()
    }
    page = first.content.decode()
    # Every script on the page is a file of ours and carries this response's nonce.
    assert re.findall(r"<script [^>]*>", page) == [
        f'<script src="/static/vendor/htmx-2.0.11.min.js" nonce="{a}" defer>',
        f'<script src="/static/opencall/site.js" nonce="{a}" defer>',
    ]


@pytest.mark.django_db
def test_htmx_is_configured_not_to_need_inline_style_or_eval(client, challenge):
    page = client.get("/").content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert meta is not None
    config = json.loads(meta.group(1))
    assert {key: config[key] for key in ("includeIndicatorStyles", "allowEval", "allowScriptTags")} == {
        "includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}
    css = (SRC / "static" / "opencall" / "site.css").read_text()
    assert ".htmx-indicator { opacity: 0; visibility: hidden; }" in css


def test_live_fast_path_origin_is_allowed_to_connect_when_set():
    """`opencall serve` runs the live-vote fast path on its own port and says so in OPENCALL_LIVE_URL:
    the voter page's fetch and the projector's EventSource go there."""

    def connect_src(live_url: str | None) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != "OPENCALL_LIVE_URL"}
        env["DJANGO_SETTINGS_MODULE"] = "opencall.config.settings.test"
        if live_url is not None:
            env["OPENCALL_LIVE_URL"] = live_url
        code = ("import json; from django.conf import settings; "
                "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src']))")
        out = subprocess.run(  # noqa: S603 -- this interpreter running a fixed program
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    assert connect_src(None) == ["'self'"]
    assert connect_src("http://127.0.0.1:8001") == ["'self'", "http://127.0.0.1:8001"]
    assert connect_src("https://live.example.org/base/") == ["'self'", "https://live.example.org"]
    assert connect_src("") == ["'self'"]


# -- what the sweep cannot reach: every template and script on disk -----------------------------------

TEMPLATE_RULES = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= handler"),
    (re.compile(r"\b(?:data-)?hx-on", re.I), "hx-on"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]
SCRIPT_RULES = [
    (re.compile(r"\beval\s*\("), "eval()"),
    (re.compile(r"\bnew\s+Function\b|\bFunction\s*\("), "Function()"),
    (re.compile(r"setAttribute\(\s*[\"']style[\"']|\.cssText\s*="), "style attribute set from script"),
    (re.compile(r"setTimeout\(\s*[\"']|setInterval\(\s*[\"']"), "string timer (eval)"),
    (re.compile(r"innerHTML\s*=|insertAdjacentHTML|document\.write"), "HTML written from script"),
]


def test_no_template_or_script_of_ours_needs_an_unsafe_policy():
    found = []
    for path in sorted(SRC.rglob("templates/**/*.html")):
        text = path.read_text()
        found += [f"{path.relative_to(SRC)}: {what}" for rule, what in TEMPLATE_RULES if rule.search(text)]
    for path in sorted((SRC / "static" / "opencall").glob("*.js")):
        text = path.read_text()
        found += [f"{path.relative_to(SRC)}: {what}" for rule, what in SCRIPT_RULES if rule.search(text)]
    assert found == []
    # and the audit does look at them
    assert len(list(SRC.rglob("templates/**/*.html"))) > 60
    assert {p.name for p in (SRC / "static" / "opencall").glob("*.js")} >= {
        "site.js", "ballot.js", "live-voter.js", "live-projector.js", "live-console.js"
    }


def test_server_drawn_svg_uses_presentation_attributes_not_style():
    """Charts and the QR code are inline SVG: style="" on them would be refused, fill=/font-size= are not."""
    from opencall.funding.charts import bar_chart
    from opencall.voting.views import _qr_svg

    for svg in (str(bar_chart(["A", "B"], [3, 1], title="Votes")), str(_qr_svg("http://testserver/v/abc/"))):
        assert svg.startswith("<svg") and "style" not in svg and "<script" not in svg


# -- in a browser ---------------------------------------------------------------------------------

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


@e2e.NEEDS_CHROMIUM
@pytest.mark.e2e
def test_pages_and_htmx_run_without_a_single_violation(transactional_db, new_context):
    org_owner = UserFactory(email="olivia@northwind.example", display_name="Olivia Organiser")
    speaker = UserFactory(email="paula@example.org", display_name="Paula Participant")
    challenge = ChallengeFactory(title="Green packaging", slug="green-packaging", phase="community")
    MembershipFactory(organisation=challenge.organisation, user=org_owner, role="owner")
    idea = IdeaFactory(challenge=challenge, title="Mushroom foam")
    finalists = [IdeaFactory(challenge=challenge, title=f"Finalist {n}", status="shortlisted") for n in range(2)]
    live = voting.create_live_vote(challenge=challenge, by=org_owner, title="Grand finale",
                                   finalist_ids=[f.pk for f in finalists], duration_seconds=300)
    voting.open_live_vote(live_vote=live, by=org_owner)
    assert Invitation.objects.count() == 0

    context = new_context()
    context.add_init_script(LISTEN)
    console: list[str] = []
    page = e2e.log_in(context, speaker.email, "correct horse battery staple")
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)

    def violations() -> list[str]:
        return page.evaluate("window.__csp")

    checked = []
    for url, ready in [
        ("/", "main"),
        (f"/challenges/{challenge.slug}/", "[data-testid=idea-row]"),  # the idea list arrives by HTMX
        (f"/v/{live.code}/", "#ballot button"),
        (f"/live/{live.code}/screen/", ".projector svg"),  # the QR code, and an EventSource opened
        ("/accounts/email/", "main form"),
        ("/tokens/", "main"),
        ("/api/docs", ".swagger-ui .info"),
    ]:
        page.goto(url)
        page.locator(ready).first.wait_for()
        checked.append((url, violations()))

    # The voter page's fetch to the live fast path (same origin here, as OPENCALL_LIVE_URL is unset).
    page.goto(f"/v/{live.code}/")
    page.locator("#ballot button").first.click()
    # The test server has no fast path, so the answer is not JSON and the page says it will retry: the
    # request went out and came back (a refused one would be in the violations).
    page.get_by_text("Connection trouble, trying again…").wait_for()
    checked.append(("vote sent", violations()))

    # An HTMX round trip that swaps HTML in: post a comment on the idea page.
    page.goto(f"/ideas/{idea.pk}/")
    page.get_by_test_id("comment-form").wait_for()
    page.get_by_label("Add a comment").fill("Would it survive a rainy doorstep?")
    page.get_by_test_id("comment-form").get_by_role("button").first.click()
    page.get_by_text("Would it survive a rainy doorstep?").wait_for()
    checked.append(("comment via htmx", violations()))

    assert checked == [(url, []) for url, _ in checked]
    assert console == []
