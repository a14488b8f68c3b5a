"""Load the demo data set through the apps' actions, so audit events, counters and notifications are real.

Models are written directly only where no action exists (creating accounts, the site-moderator flag, time
pledges) and, at the end, to spread timestamps over the weeks the story covers; the audit log keeps the
real time of loading. Deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from opencall.accounts.actions import update_profile
from opencall.accounts.models import User
from opencall.challenges.actions import (
    FieldSpec,
    PhaseSpec,
    advance_phase,
    assign_role,
    create_challenge,
    update_challenge,
)
from opencall.challenges.models import Challenge, Visibility
from opencall.challenges.phases import PhaseKind
from opencall.community.actions import (
    add_comment,
    block_account,
    follow_challenge,
    follow_idea,
    like_idea,
    report_comment,
    report_idea,
    resolve_report,
)
from opencall.community.models import Comment, Like
from opencall.community.permissions import can_comment_on, can_follow, can_like
from opencall.core import audit
from opencall.core.errors import PermissionDenied
from opencall.demodata import pictures, texts
from opencall.demodata.people import (
    ADMIN_EMAIL,
    BLUE_HARBOUR,
    DEMO_PASSWORD,
    FOUNDER,
    FOUNDER_FOCUS,
    FUN_FACTS,
    LAKESIDE,
    NORTHWIND,
    ORGANISER_EMAIL,
    PEOPLE,
    bio_for,
)
from opencall.funding.actions import cast_ballot, configure_funding, publish_allocation, run_allocation
from opencall.funding.models import BallotKind
from opencall.ideas.actions import (
    IdeaDraft,
    add_position,
    close_position,
    create_idea,
    decide_status,
    invite_to_team,
    request_to_join,
    respond_to_invitation,
    respond_to_join_request,
    update_idea,
    withdraw_idea,
)
from opencall.ideas.models import Idea, IdeaStatus, IdeaVersion, Team, TeamMember
from opencall.ideas.permissions import can_request_to_join, is_team_member
from opencall.organisations.actions import accept_invitation, create_organisation, invite_member
from opencall.organisations.models import Organisation, Role
from opencall.review.actions import (
    CriterionSpec,
    cast_pairwise,
    configure_pairwise,
    create_rubric,
    declare_conflict,
    open_round,
    run_assignment,
    submit_review,
)
from opencall.review.crowd import candidates, crowd_ranking
from opencall.review.models import PairwiseVote, ReviewAssignment
from opencall.voting.actions import create_live_vote

MARKER_SLUG = "northwind-retail-group"
SPAMMER_EMAIL = "deals@wrapdeals.example"
PREFIXES = (
    "Shelf",
    "Cart",
    "Loop",
    "Crate",
    "Fresh",
    "Route",
    "Pack",
    "Tide",
    "Green",
    "Spark",
    "Nimbus",
    "Echo",
    "Orbit",
    "Aisle",
    "Basket",
    "Harbor",
    "Moss",
    "Fern",
    "Clover",
    "Pebble",
    "Lumen",
    "Atlas",
    "Vela",
    "Kelp",
)
SUFFIXES = (
    "ly",
    "wise",
    "sense",
    "hub",
    "flow",
    "mate",
    "base",
    "loop",
    "lab",
    "IQ",
    "ify",
    "go",
    "kit",
    "works",
    "scope",
    "nest",
    "dock",
    "line",
)

Echo = Callable[[str], object]


REFUSED = (
    "the demo data is refused under production settings: its accounts have published passwords. "
    "For a try-out on this machine use local mode (make run, or --local)."
)


def demo_loaded() -> bool:
    return Organisation.objects.filter(slug=MARKER_SLUG).exists()


def demo_emails() -> list[str]:
    return [ADMIN_EMAIL, SPAMMER_EMAIL, *(person.email for person in PEOPLE)]


def published_accounts() -> list[str]:
    """The active demo accounts that still sign in with the published password, by address.

    The loader gives every demo person the same hash, so this checks one hash (one PBKDF2 run) per distinct
    password among them, not one per account."""
    hashes: dict[str, list[str]] = {}
    for email, encoded in User.objects.filter(email__in=demo_emails(), is_active=True).values_list(
        "email", "password"
    ):
        hashes.setdefault(encoded, []).append(email)
    return sorted(
        email for encoded, emails in hashes.items() if check_password(DEMO_PASSWORD, encoded) for email in emails
    )


def refuse_unless_allowed() -> None:
    """PermissionDenied unless these settings allow the demo data (local mode and the tests do)."""
    if not getattr(settings, "OPENCALL_DEMO_DATA_ALLOWED", False):
        raise PermissionDenied(REFUSED)


def load_demo(*, seed: int = 7, echo: Echo = print) -> dict[str, int]:
    """Load the demo once and return what was created, by kind; `{}` if it was already there.

    Refused (PermissionDenied) under settings that do not allow the demo data, such as production's."""
    refuse_unless_allowed()
    if demo_loaded():
        echo("The demo data is already loaded (organisation “Northwind Retail Group” exists); nothing to do.")
        return {}
    loader = _Loader(random.Random(seed), timezone.now(), extra=random.Random(seed * 7919 + 1))
    with transaction.atomic():
        loader.run()
    counts = dict(sorted(loader.counts.items()))
    headline = ("people", "organisations", "challenges", "ideas", "team_members", "comments", "likes", "reports")
    echo("Loaded the demo: " + ", ".join(f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in headline) + ".")
    for label, email in (("the admin:    ", ADMIN_EMAIL), ("the organiser:", ORGANISER_EMAIL)):
        kept = email in loader.existing
        echo(f"Sign in as {label} {email} / {'(your existing password)' if kept else DEMO_PASSWORD}")
    echo(f"Every other demo person uses the password {DEMO_PASSWORD} too.")
    return counts


class _Loader:
    def __init__(self, rng: random.Random, now: datetime, *, extra: random.Random | None = None) -> None:
        self.rng = rng
        # The crowd and jury stories draw from their own stream, so adding them left the rest of the story as it was.
        self.extra = extra or random.Random(1)
        self.now = now
        self.counts: Counter[str] = Counter()
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organisation] = {}
        self.times: list[tuple[type[models.Model], int, dict[str, datetime]]] = []
        self.idea_time: dict[int, datetime] = {}
        self.names: set[str] = set()
        self.lead_of: dict[int, User] = {}
        self.concept_of: dict[int, texts.Concept] = {}
        self.contest_ideas: list[Idea] = []
        self.like_times: dict[tuple[int, int], datetime] = {}
        self.existing: set[str] = set()  # demo addresses that already had an account: left as they were

    # Helpers ------------------------------------------------------------------------------------

    def days(self, n: float) -> datetime:
        return self.now + timedelta(days=n)

    def between(self, start: datetime, end: datetime) -> datetime:
        end = min(end, self.now - timedelta(minutes=5))
        if end <= start:
            return start
        return start + (end - start) * self.rng.random()

    def group(self, home: str) -> list[User]:
        return [self.users[p.key] for p in PEOPLE if p.home == home]

    def fill(self, template: str, idea: Idea, siblings: Sequence[Idea]) -> str:
        rng = self.rng
        others = [i.title for i in siblings if i.pk != idea.pk and not i.confidential] or [idea.title]
        return template.format(
            kpi=rng.choice(texts.KPIS),
            city=rng.choice(texts.CITIES),
            system=rng.choice(texts.SYSTEMS),
            product=rng.choice(texts.PRODUCTS),
            n=rng.randint(2, 12),
            price=rng.choice((90, 140, 220, 350, 480)),
            other=f"“{rng.choice(others)}”",
        )

    def product_name(self) -> str:
        while True:
            name = self.rng.choice(PREFIXES) + self.rng.choice(SUFFIXES)
            if name not in self.names:
                self.names.add(name)
                return name

    def plan(self, *phases: tuple[str, float, float | None]) -> list[PhaseSpec]:
        return [
            PhaseSpec(kind, self.days(start), self.days(end) if end is not None else None)
            for kind, start, end in phases
        ]

    def window(self, phase: PhaseSpec, until_now: bool = False) -> tuple[datetime, datetime]:
        assert phase.starts_at is not None
        return phase.starts_at, self.now if until_now or phase.ends_at is None else phase.ends_at

    # The story ----------------------------------------------------------------------------------

    def run(self) -> None:
        self.make_people()
        self.make_organisations()
        contest = self.contest()
        self.crowd(contest)
        self.finale(contest)
        venture, shortlist = self.venture()
        self.jury(venture, shortlist)
        self.cosponsored()
        self.research()
        self.fund()
        self.moderation(contest)
        self.apply_times()

    def account(self, email: str, password: str, **fields: Any) -> User:
        """The demo person's account: created with the demo password, or an existing one left as it is."""
        user = User.objects.filter(email=email).first()
        if user is not None:
            self.existing.add(email)
            return user
        user = User(email=email, password=password, **fields)
        user.save()
        # Demo people sign in and receive invitations by address, both of which need a verified one.
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        self.counts["people"] += 1
        return user

    def make_people(self) -> None:
        password = make_password(DEMO_PASSWORD)  # hashed once: sixty PBKDF2 runs would dominate the load
        self.users["admin"] = admin = self.account(
            ADMIN_EMAIL,
            password,
            display_name="Opencall Admin",
            is_staff=True,
            is_superuser=True,
            is_moderator=True,
            date_joined=self.days(-200),
        )
        facts = list(FUN_FACTS)
        for person in PEOPLE:
            joined = self.days(-self.rng.randint(30, 190))
            user = self.users[person.key] = self.account(person.email, password, date_joined=joined)
            if person.email in self.existing:
                continue
            update_profile(
                user=user,
                by=user,
                display_name=person.name,
                bio=bio_for(person, self.rng.choice(facts)),
                skills=person.skills,
                languages=person.languages,
                timezone_name=person.timezone,
            )
        self.users["spammer"] = self.account(
            SPAMMER_EMAIL, password, display_name="WrapDeals Sales", date_joined=self.days(-9)
        )
        # No action grants the site-wide moderator flag (it is an admin-site setting); record it anyway.
        kwame = self.users["kwame"]
        kwame.is_moderator = True
        kwame.save(update_fields=["is_moderator"])
        audit.record(actor=admin, verb="user.moderator", obj=kwame, data={"is_moderator": True})

    def make_organisations(self) -> None:
        owners = {NORTHWIND: "ingrid", BLUE_HARBOUR: "giulia", LAKESIDE: "helena"}
        for home, owner_key in owners.items():
            name, description, website = texts.ORGANISATIONS[home]
            owner = self.users[owner_key]
            org = create_organisation(name=name, by=owner, description=description, website=website)
            self.orgs[home] = org
            self.counts["organisations"] += 1
            self.counts["memberships"] += 1
            for person in PEOPLE:
                if person.home != home or person.key == owner_key:
                    continue
                role = Role.ORGANISER if person.key == "kwame" else Role.MEMBER
                invitation = invite_member(org=org, email=person.email, role=role, by=owner, mail_invitee=False)
                accept_invitation(token=invitation.token, by=self.users[person.key])
                self.counts["memberships"] += 1
        # Two invitations nobody has answered yet.
        invite_member(
            org=self.orgs[NORTHWIND], email="new.colleague@northwind.example", role=Role.MEMBER,
            by=self.users["ingrid"], mail_invitee=False,
        )
        invite_member(
            org=self.orgs[LAKESIDE],
            email="visiting.researcher@lakeside-tu.example",
            role=Role.MEMBER,
            by=self.users["helena"],
            mail_invitee=False,
        )
        self.counts["pending_invitations"] += 2

    def new_challenge(
        self,
        spec: texts.ChallengeText,
        *,
        key: str,
        plan: list[PhaseSpec],
        fields: Sequence[FieldSpec],
        budget_eur: int,
        visibility: str,
        colours: tuple[tuple[int, int, int], tuple[int, int, int]],
        judges: Sequence[str],
        **extra: Any,
    ) -> Challenge:
        organiser = self.users["ingrid"]
        challenge = create_challenge(
            organisation=self.orgs[NORTHWIND],
            by=organiser,
            title=spec.title,
            summary=spec.summary,
            description=spec.description,
            terms=spec.terms,
            budget_minor=budget_eur * 100,
            currency="EUR",
            visibility=visibility,
            categories=spec.categories,
            plan=plan,
            custom_fields=fields,
            **extra,
        )
        update_challenge(
            challenge=challenge,
            by=organiser,
            cover_image=ContentFile(pictures.cover_png(self.rng, *colours), name=f"{key}.png"),
        )
        for judge in judges:
            assign_role(challenge=challenge, user=self.users[judge], kind="judge", by=organiser)
        self.counts["challenges"] += 1
        start = plan[0].starts_at or self.now
        self.times.append((Challenge, challenge.pk, {"created_at": start - timedelta(days=12)}))
        return challenge

    def advance(self, challenge: Challenge) -> None:
        advance_phase(challenge=challenge, by=self.users["ingrid"])

    def join(self, challenge: Challenge, pool: Sequence[User], share: float) -> None:
        for user in pool:
            if self.rng.random() < share and follow_challenge(challenge=challenge, by=user):
                self.counts["follows"] += 1

    def body(self, concept: texts.Concept) -> str:
        rng = self.rng
        problem = rng.choice(texts.PROBLEMS.get(concept.category, texts.GENERIC_PROBLEMS))
        steps = [texts.PILOT_STEPS[i] for i in sorted(rng.sample(range(len(texts.PILOT_STEPS)), 3))]
        kpi, kpi2 = rng.sample(texts.KPIS, 2)
        need, need2 = rng.sample(texts.NEEDS, 2)
        return (
            f"## The problem\n\n{problem} {rng.choice(texts.GENERIC_PROBLEMS)}\n\n"
            f"## {rng.choice(texts.APPROACH_HEADINGS)}\n\n{concept.summary} {rng.choice(texts.APPROACH_DETAILS)}\n\n"
            "## Pilot plan\n\n" + "\n".join(f"- {s}" for s in steps) + "\n\n"
            f"## How we measure success\n\nWe track **{kpi}** and {kpi2}, with a two-week baseline before "
            f"the pilot starts.\n\n## What we need\n\nWe need {need} and {need2}.\n"
        )

    def research_body(self, concept: texts.Concept, group: str) -> str:
        rng = self.rng
        return (
            f"## Research question\n\n{concept.summary}\n\n"
            f"## Method\n\nWe will use {rng.choice(texts.METHODS)}. The {group} leads the work; "
            f"a doctoral researcher works on the project full time.\n\n"
            f"## Practice partner\n\nNorthwind {rng.choice(texts.PARTNERS)} provides data access, a steering "
            "contact and two pilot sites.\n\n"
            f"## Expected results\n\n- A peer-reviewed article and an open data set where possible\n"
            f"- A working prototype or decision tool for Northwind\n"
            f"- A practitioner report measured on **{rng.choice(texts.KPIS)}**\n"
        )

    def idea(
        self,
        challenge: Challenge,
        lead: User,
        concept: texts.Concept,
        *,
        title: str,
        team_name: str,
        answers: dict[str, str],
        budget_eur: int | None,
        body: str | None = None,
        confidential: bool = False,
        submit: bool = True,
        uploads: Sequence[SimpleUploadedFile] = (),
        window: tuple[datetime, datetime],
    ) -> Idea:
        draft = IdeaDraft(
            title=title,
            summary=concept.summary,
            body=body or self.body(concept),
            category=concept.category,
            requested_budget_minor=budget_eur * 100 if budget_eur is not None else None,
            confidential=confidential,
            answers=answers,
        )
        idea = create_idea(
            challenge=challenge,
            by=lead,
            draft=draft,
            accept_terms=True,
            uploads=uploads,
            submit=submit,
            team_name=team_name,
        )
        when = self.between(*window)
        self.idea_time[idea.pk] = when
        fields = {"created_at": when, "updated_at": when}
        if submit:
            fields["submitted_at"] = when + timedelta(minutes=self.rng.randint(5, 300))
        self.times.append((Idea, idea.pk, fields))
        self.times.append((Team, idea.team_id, {"created_at": when}))
        self.lead_of[idea.pk] = lead
        self.concept_of[idea.pk] = concept
        self.counts["ideas"] += 1
        self.counts["teams"] += 1
        self.counts["team_members"] += 1
        self.counts["attachments"] += len(uploads)
        return idea

    def grow_team(
        self, idea: Idea, lead: User, pool: Sequence[User], *, weights: Sequence[int] = (40, 30, 20, 10)
    ) -> None:
        rng = self.rng
        size = rng.choices((1, 2, 3, 4), weights=weights)[0]
        candidates = [u for u in pool if u.pk != lead.pk]
        for user in rng.sample(candidates, min(size - 1, len(candidates))):
            invitation = invite_to_team(team=idea.team, user=user, by=lead)
            self.counts["team_invitations"] += 1
            roll = rng.random()
            if roll < 0.84:
                respond_to_invitation(invitation=invitation, by=user, accept=True)
                self.counts["team_members"] += 1
            elif roll < 0.92:
                respond_to_invitation(invitation=invitation, by=user, accept=False)
        if rng.random() < 0.3:
            title, description, skills = rng.choice(texts.POSITIONS)
            position = add_position(team=idea.team, by=lead, title=title, description=description, skills=skills)
            self.counts["positions"] += 1
            if rng.random() < 0.2:
                close_position(position=position, by=lead)
            elif rng.random() < 0.5:
                applicant = rng.choice(candidates)
                if can_request_to_join(applicant, idea.team):
                    request = request_to_join(
                        team=idea.team, by=applicant, message=f"I would like to help as {title.lower()}."
                    )
                    self.counts["join_requests"] += 1
                    if rng.random() < 0.5:
                        respond_to_join_request(request=request, by=lead, accept=True)
                        self.counts["team_members"] += 1

    def pledge(self, idea: Idea) -> None:
        """Internal ventures: each member pledges a share of working time (no action exists for it yet)."""
        for member in TeamMember.objects.filter(team=idea.team).select_related("user").order_by("pk"):
            member.time_pledge_percent = self.rng.choice((10, 20, 20, 30, 40, 50))
            member.save(update_fields=["time_pledge_percent"])
            audit.record(
                actor=member.user, verb="team.pledge", obj=member, data={"percent": member.time_pledge_percent}
            )

    def discuss(
        self,
        ideas: Sequence[Idea],
        pool: Sequence[User],
        window: tuple[datetime, datetime],
        weights: Sequence[int] = (30, 25, 20, 12, 8, 5),
    ) -> None:
        """Questions, cheers, answers from the team and the odd reaction, threaded."""
        rng = self.rng
        for idea in ideas:
            for _ in range(rng.choices((0, 1, 2, 3, 4, 6), weights=weights)[0]):
                author = rng.choice(pool)
                if is_team_member(author, idea.team) or not can_comment_on(author, idea):
                    continue
                question = rng.random() < 0.65
                template = rng.choice(texts.QUESTIONS if question else texts.CHEERS)
                start = max(window[0], self.idea_time[idea.pk])
                when = self.between(start, window[1])
                comment = self.comment(idea, author, self.fill(template, idea, ideas), when)
                if not question or rng.random() > 0.65:
                    continue
                responder = self.lead_of[idea.pk]
                answer = self.comment(
                    idea,
                    responder,
                    self.fill(rng.choice(texts.ANSWERS), idea, ideas),
                    min(when + timedelta(hours=rng.uniform(1, 30)), self.now),
                    parent=comment,
                )
                if rng.random() < 0.25:
                    other = rng.choice(pool)
                    if other.pk not in (author.pk, responder.pk) and can_comment_on(other, idea):
                        self.comment(
                            idea,
                            other,
                            self.fill(rng.choice(texts.REACTIONS), idea, ideas),
                            min(when + timedelta(hours=rng.uniform(31, 60)), self.now),
                            parent=answer,
                        )

    def comment(self, idea: Idea, by: User, body: str, when: datetime, parent: Comment | None = None) -> Comment:
        comment = add_comment(idea=idea, by=by, body=body, parent=parent)
        self.times.append((Comment, comment.pk, {"created_at": when, "updated_at": when}))
        self.counts["comments"] += 1
        return comment

    def like(self, ideas: Sequence[Idea], pool: Sequence[User], window: tuple[datetime, datetime]) -> None:
        """Popularity is skewed: a few ideas collect many likes, most collect a handful."""
        rng = self.rng
        for idea in ideas:
            wanted = min(len(pool) * 3 // 5, int(rng.paretovariate(1.3) * 2.2) + rng.randint(0, 3) - 1)
            for user in rng.sample(list(pool), max(wanted, 0)):
                if is_team_member(user, idea.team) or not can_like(user, idea):
                    continue
                if like_idea(idea=idea, by=user):
                    self.counts["likes"] += 1
                    self.like_times[(idea.pk, user.pk)] = self.between(
                        max(window[0], self.idea_time[idea.pk]), window[1]
                    )
            if rng.random() < 0.2:
                follower = rng.choice(pool)
                if can_follow(follower, idea) and follow_idea(idea=idea, by=follower):
                    self.counts["follows"] += 1

    def revise(self, idea: Idea, note: str) -> None:
        current = Idea.objects.get(pk=idea.pk)
        answers = {a.field.key: a.value for a in current.answers.select_related("field")}
        draft = IdeaDraft(
            title=current.title,
            summary=current.summary,
            body=current.body + f"\n\n## Update\n\n{note}\n",
            category=self.concept_of[idea.pk].category,
            requested_budget_minor=current.requested_budget_minor,
            confidential=current.confidential,
            answers=answers,
        )
        update_idea(idea=idea, by=self.lead_of[idea.pk], draft=draft)
        self.counts["idea_edits"] += 1

    # The four challenges ---------------------------------------------------------------------------

    def contest(self) -> Challenge:
        """Public start-up contest, now in community voting."""
        rng = self.rng
        plan = self.plan(
            (PhaseKind.SUBMISSION, -50, -8), (PhaseKind.COMMUNITY, -8, 10), (PhaseKind.REVIEW, 10, 30),
            (PhaseKind.RESULTS, 30, 45),
        )
        challenge = self.new_challenge(
            texts.CONTEST,
            key="contest",
            plan=plan,
            fields=texts.CONTEST_FIELDS,
            budget_eur=300_000,
            visibility=Visibility.PUBLIC,
            colours=((24, 92, 110), (76, 161, 120)),
            judges=("daniel", "camille"),
        )
        self.advance(challenge)
        everyone = [self.users[p.key] for p in PEOPLE if p.key != "ingrid"]
        self.join(challenge, everyone, 0.7)
        founders = self.group(FOUNDER)
        students = [self.users[k] for k in ("emma", "kenji", "jiwoo")]
        concepts = list(texts.CONTEST_CONCEPTS)
        rng.shuffle(concepts)
        concepts += rng.sample(concepts, 20)
        leads = self.contest_leads(concepts)
        used_startup: set[int] = set()
        submission = self.window(plan[0])
        ideas: list[Idea] = []
        drafts = {5, 41}
        for n, (concept, lead) in enumerate(zip(concepts, leads, strict=True)):
            person = next(p for p in PEOPLE if self.users[p.key].pk == lead.pk)
            if person.startup and lead.pk not in used_startup:
                used_startup.add(lead.pk)
                product, team_name = person.startup, person.startup
            else:
                product = self.product_name()
                team_name = f"{person.startup} – {product}" if person.startup else f"Team {product}"
            answers = {
                "stage": rng.choice(texts.STAGES),
                "team_size": str(rng.choice((1, 2, 3, 4, 6, 9, 14, 25))),
                "website": f"https://{slugify(product)}.example",
                "pilot_needs": rng.choice(texts.PILOT_NEEDS),
            }
            uploads: list[SimpleUploadedFile] = []
            if n % 9 == 2:
                uploads.append(SimpleUploadedFile("pilot-figures.png", pictures.sketch_png(rng), "image/png"))
            if n % 11 == 4:
                uploads.append(
                    SimpleUploadedFile(
                        "one-pager.md",
                        f"# {product}\n\n{concept.summary}\n\nContact: {lead.email}\n".encode(),
                        "text/markdown",
                    )
                )
            idea = self.idea(
                challenge,
                lead,
                concept,
                title=f"{product}: {concept.title}",
                team_name=team_name,
                answers=answers,
                budget_eur=rng.randrange(20_000, 150_001, 5_000),
                uploads=uploads,
                submit=n not in drafts,
                window=submission,
            )
            self.grow_team(idea, lead, founders + students)
            if n not in drafts:
                ideas.append(idea)
        for idea in rng.sample(ideas, 6):
            self.revise(
                idea,
                "We added figures from our second pilot customer and a clearer cost "
                "breakdown after questions in the comments.",
            )
        self.discuss(ideas, everyone, submission)
        self.advance(challenge)  # → community
        community = self.window(plan[1], until_now=True)
        self.like(ideas, everyone, community)
        self.discuss(ideas, everyone, community, weights=(50, 25, 15, 6, 3, 1))
        quitter = ideas[-1]
        withdraw_idea(idea=quitter, by=self.lead_of[quitter.pk])
        self.counts["withdrawn"] += 1
        self.contest_ideas = ideas[:-1]
        return challenge

    def contest_leads(self, concepts: Sequence[texts.Concept]) -> list[User]:
        """A lead per entry: someone whose start-up works in the category, the least busy first."""
        entries: Counter[str] = Counter()
        leads: list[User] = []
        for concept in concepts:
            able = [key for key, focus in FOUNDER_FOCUS.items() if concept.category in focus]
            least = min(entries[key] for key in able)
            key = self.rng.choice([k for k in able if entries[k] == least])
            entries[key] += 1
            leads.append(self.users[key])
        return leads

    def venture(self) -> tuple[Challenge, list[Idea]]:
        """Internal venture round for employees, now in review with a shortlist."""
        rng = self.rng
        plan = self.plan(
            (PhaseKind.SUBMISSION, -80, -40),
            (PhaseKind.COMMUNITY, -40, -20),
            (PhaseKind.REVIEW, -20, 12),
            (PhaseKind.FUNDING, 12, 26),
            (PhaseKind.RESULTS, 26, 40),
            (PhaseKind.TRACKING, 40, None),
        )
        judges = ("meilin", "daniel", "hannah")
        challenge = self.new_challenge(
            texts.VENTURE,
            key="venture",
            plan=plan,
            fields=texts.VENTURE_FIELDS,
            budget_eur=500_000,
            visibility=Visibility.INTERNAL,
            colours=((58, 46, 110), (196, 90, 80)),
            judges=judges,
        )
        self.advance(challenge)
        employees = self.group(NORTHWIND)
        entrants = [u for u in employees if u.pk not in {self.users[k].pk for k in (*judges, "ingrid", "kwame")}]
        self.join(challenge, employees, 0.8)
        concepts = list(texts.VENTURE_CONCEPTS)
        rng.shuffle(concepts)
        concepts += rng.sample(concepts, 10)
        submission = self.window(plan[0])
        ideas: list[Idea] = []
        for n, concept in enumerate(concepts):
            lead = entrants[n % len(entrants)]
            title = concept.title if n < 30 else f"{concept.title} ({rng.choice(texts.CITIES)} pilot)"
            saving = rng.randrange(20_000, 400_001, 10_000)
            answers = {
                "business_unit": rng.choice(texts.UNITS),
                "yearly_saving": str(saving),
                "manager_ok": "Yes" if rng.random() < 0.8 else "Not yet",
            }
            idea = self.idea(
                challenge,
                lead,
                concept,
                title=title,
                team_name=texts.VENTURE_TEAMS[n],
                answers=answers,
                budget_eur=rng.randrange(15_000, 120_001, 5_000),
                confidential=n in (3, 17),
                window=submission,
            )
            self.grow_team(idea, lead, entrants, weights=(15, 35, 30, 20))
            self.pledge(idea)
            ideas.append(idea)
        self.discuss(ideas, employees, submission)
        self.advance(challenge)  # → community
        community = self.window(plan[1])
        self.like(ideas, employees, community)
        self.discuss(ideas, employees, community, weights=(55, 25, 12, 5, 2, 1))
        quitter = ideas[7]
        withdraw_idea(idea=quitter, by=self.lead_of[quitter.pk])
        self.counts["withdrawn"] += 1
        self.advance(challenge)  # → review
        in_play = [i for i in ideas if i.pk != quitter.pk]
        likes = dict(Idea.objects.filter(pk__in=[i.pk for i in in_play]).values_list("pk", "like_count"))
        ranked = sorted(in_play, key=lambda i: (-likes[i.pk], i.pk))
        for idea in ranked[:14]:
            decide_status(
                idea=idea,
                status=IdeaStatus.SHORTLISTED,
                by=self.users["ingrid"],
                reason="Top of the community vote; goes to the jury.",
            )
            self.counts["shortlisted"] += 1
        review = self.window(plan[2], until_now=True)
        self.discuss(
            ranked[:14], [self.users[k] for k in (*judges, "ingrid", "kwame")], review, weights=(40, 40, 15, 5, 0, 0)
        )
        return challenge, ranked[:14]

    def cosponsored(self) -> None:
        """Public challenge co-sponsored by Blue Harbour Coffee, taking submissions now."""
        rng = self.rng
        plan = self.plan(
            (PhaseKind.SUBMISSION, -12, 30), (PhaseKind.COMMUNITY, 30, 44), (PhaseKind.REVIEW, 44, 70),
            (PhaseKind.RESULTS, 70, None),
        )
        challenge = self.new_challenge(
            texts.COSPONSORED,
            key="coffee",
            plan=plan,
            fields=texts.COSPONSORED_FIELDS,
            budget_eur=80_000,
            visibility=Visibility.PUBLIC,
            colours=((92, 60, 38), (201, 160, 98)),
            judges=("giulia", "marcus", "bjorn"),
            sponsors=[self.orgs[BLUE_HARBOUR]],
        )
        self.advance(challenge)
        everyone = [self.users[p.key] for p in PEOPLE if p.key != "ingrid"]
        self.join(challenge, everyone, 0.45)
        leads = [
            self.users[k]
            for k in (
                "laura",
                "siobhan",
                "carmen",
                "zanele",
                "valentina",
                "sara",
                "isabella",
                "mohammed",
                "fatima",
                "nadia",
                "ravi",
                "emma",
                "ana",
                "omar",
            )
        ]
        concepts = list(texts.COSPONSORED_CONCEPTS)
        rng.shuffle(concepts)
        concepts += rng.sample(concepts, 6)
        submission = self.window(plan[0], until_now=True)
        ideas: list[Idea] = []
        for n, concept in enumerate(concepts):
            lead = leads[n % len(leads)]
            person = next(p for p in PEOPLE if self.users[p.key].pk == lead.pk)
            team_name = person.startup or f"{person.name.split()[0]}'s coffee team"
            answers = {
                "material": rng.choice(texts.MATERIALS),
                "unit_cost": str(rng.choice((3, 5, 8, 12, 19, 35, 120))),
                "prototype_url": f"https://video.example/{slugify(concept.title)[:40]}" if n % 3 else "",
            }
            idea = self.idea(
                challenge,
                lead,
                concept,
                title=concept.title,
                team_name=team_name,
                answers=answers,
                budget_eur=rng.randrange(10_000, 60_001, 5_000),
                submit=n not in (4, 11, 19),
                window=submission,
            )
            self.grow_team(idea, lead, leads, weights=(50, 30, 15, 5))
            if n not in (4, 11, 19):
                ideas.append(idea)
        self.discuss(ideas, everyone, submission, weights=(45, 30, 15, 7, 3, 0))

    def research(self) -> None:
        """Invite-only research call with Lakeside TU; results are out."""
        rng = self.rng
        plan = self.plan(
            (PhaseKind.SUBMISSION, -150, -110), (PhaseKind.REVIEW, -110, -60), (PhaseKind.RESULTS, -60, 20),
            (PhaseKind.TRACKING, 20, None),
        )
        judges = ("helena", "fatima", "meilin")
        challenge = self.new_challenge(
            texts.RESEARCH,
            key="research",
            plan=plan,
            fields=texts.RESEARCH_FIELDS,
            budget_eur=200_000,
            visibility=Visibility.INVITE_ONLY,
            colours=((30, 58, 95), (110, 150, 200)),
            judges=judges,
            invited_organisations=[self.orgs[LAKESIDE]],
            invited_users=[self.users["giulia"]],
        )
        self.advance(challenge)
        academics = [u for u in self.group(LAKESIDE) if u.pk != self.users["helena"].pk]
        partners = [self.users[k] for k in ("aisha", "tomasz", "wei", "bjorn", "priya", "arjun", "elif", "seun")]
        self.join(challenge, academics + partners, 0.8)
        submission = self.window(plan[0])
        ideas: list[Idea] = []
        for n, concept in enumerate(texts.RESEARCH_CONCEPTS):
            lead = academics[n % len(academics)]
            group = rng.choice(texts.RESEARCH_GROUPS)
            answers = {
                "research_group": group,
                "duration_months": str(rng.choice((12, 18, 24))),
                "publication": rng.choice(texts.PUBLICATION),
            }
            uploads: list[SimpleUploadedFile] = []
            if n % 4 == 1:
                budget = rng.randrange(40_000, 90_001, 1_000)
                uploads.append(
                    SimpleUploadedFile(
                        "budget.csv",
                        (
                            "item,amount_eur\n"
                            f"Doctoral researcher,{budget - 12_000}\nEquipment,7000\nTravel and conferences,"
                            "3000\nOpen access fees,2000\n"
                        ).encode(),
                        "text/csv",
                    )
                )
            surname = lead.display_name.split()[-1]
            idea = self.idea(
                challenge,
                lead,
                concept,
                title=concept.title,
                team_name=f"{group} ({surname})",
                answers=answers,
                budget_eur=rng.randrange(40_000, 90_001, 1_000),
                body=self.research_body(concept, group),
                confidential=n == 6,
                uploads=uploads,
                window=submission,
            )
            self.grow_team(idea, lead, academics + partners, weights=(10, 40, 35, 15))
            ideas.append(idea)
        reviewers = [self.users[k] for k in (*judges, "ingrid")]
        self.discuss(ideas, academics + partners + reviewers, submission)
        self.advance(challenge)  # → review
        self.discuss(ideas, reviewers, self.window(plan[1]), weights=(40, 40, 20, 0, 0, 0))
        self.advance(challenge)  # → results
        order = rng.sample(ideas, len(ideas))
        outcome = (
            [IdeaStatus.AWARDED] * 2
            + [IdeaStatus.FUNDED] * 3
            + [IdeaStatus.SHORTLISTED] * 3
            + [IdeaStatus.REJECTED] * (len(ideas) - 8)
        )
        for idea, status in zip(order, outcome, strict=True):
            if status != IdeaStatus.SHORTLISTED:
                decide_status(
                    idea=idea,
                    status=IdeaStatus.SHORTLISTED,
                    by=self.users["ingrid"],
                    reason="Passed the first review round.",
                )
            decide_status(
                idea=idea,
                status=status,
                by=self.users["ingrid"],
                reason={
                    "awarded": "Best overall score from the committee.",
                    "funded": "Funded from the programme budget.",
                    "shortlisted": "On the reserve list should funding become available.",
                    "rejected": "Strong proposal, but outside this year's priorities.",
                }[status],
            )
            self.counts[str(status)] += 1
        winners = [i for i, s in zip(order, outcome, strict=True) if s in (IdeaStatus.AWARDED, IdeaStatus.FUNDED)]
        self.discuss(
            winners, academics + partners, self.window(plan[2], until_now=True), weights=(20, 40, 30, 10, 0, 0)
        )

    # Crowd ranking, jury review and participatory budgeting -------------------------------------

    def crowd(self, contest: Challenge) -> None:
        """Pairwise "which is stronger?" answers in the contest's community phase, from a hidden quality per idea."""
        rng = self.extra
        organiser = self.users["ingrid"]
        configure_pairwise(challenge=contest, by=organiser, enabled=True, top_k=10)
        ideas = candidates(contest)
        quality = {idea.pk: rng.gauss(0.0, 1.0) for idea in ideas}
        voters = [self.users[p.key] for p in PEOPLE if p.key != "ingrid"]
        for voter in rng.sample(voters, 36):
            seen: set[tuple[int, int]] = set()
            for _ in range(rng.randint(5, 13)):
                first, second = rng.sample(ideas, 2)
                pair = (min(first.pk, second.pk), max(first.pk, second.pk))
                if pair in seen:
                    continue
                seen.add(pair)
                roll = rng.random()
                if roll < 0.04:
                    outcome = PairwiseVote.Outcome.SKIP
                elif roll < 0.12:
                    outcome = PairwiseVote.Outcome.TIE
                else:
                    p_first = 1.0 / (1.0 + math.exp(-1.6 * (quality[first.pk] - quality[second.pk])))
                    outcome = PairwiseVote.Outcome.FIRST if rng.random() < p_first else PairwiseVote.Outcome.SECOND
                cast_pairwise(challenge=contest, by=voter, first=first, second=second, outcome=outcome)
                self.counts["pairwise_votes"] += 1

    def finale(self, contest: Challenge) -> None:
        """The contest's pitch night, ready to run: a live audience vote among the crowd's top five,
        not started (the organiser opens it from its console, the audience joins by QR code)."""
        top = [row.idea for row in crowd_ranking(contest).ideas[:5]]
        create_live_vote(
            challenge=contest,
            by=self.users["ingrid"],
            title="Pitch night: audience award",
            finalist_ids=[idea.pk for idea in top],
            duration_seconds=180,
        )
        self.counts["live_votes"] += 1

    def jury(self, venture: Challenge, shortlist: Sequence[Idea]) -> None:
        """The venture jury: a weighted rubric, an optimal assignment, one declared conflict, most reviews in."""
        rng = self.extra
        organiser = self.users["ingrid"]
        rubric = create_rubric(
            challenge=venture,
            by=organiser,
            name="Venture jury 2026",
            criteria=[
                CriterionSpec("Customer value", 3, 1, 5, "Would customers or colleagues notice and care?"),
                CriterionSpec("Feasibility", 2, 1, 5, "Can the team build a pilot within six months?"),
                CriterionSpec("Business impact", 3, 1, 5, "Savings or revenue within two years, with evidence."),
                CriterionSpec("Team and time pledge", 1, 1, 5, "The right skills, and the time pledged for it."),
            ],
        )
        self.counts["rubrics"] += 1
        conflicted = shortlist[4]
        declare_conflict(
            challenge=venture,
            judge=self.users["hannah"],
            idea=conflicted,
            by=self.users["hannah"],
            reason="I managed the idea's lead until last spring and still coach them.",
        )
        self.counts["conflicts"] += 1
        rnd = open_round(
            challenge=venture,
            by=organiser,
            name="Shortlist jury",
            rubric=rubric,
            judges_per_idea=2,
            max_load=10,
            crowd_weight=20,
            ideas=shortlist,
        )
        self.counts["review_rounds"] += 1
        run_assignment(rnd=rnd, by=organiser)
        criteria = list(rubric.criteria.order_by("position"))
        quality = {idea.pk: rng.gauss(0.0, 0.9) for idea in shortlist}
        # Judges differ in severity: the same idea gets about a point less from Mei-Lin than from Hannah.
        severity = {self.users["meilin"].pk: -0.7, self.users["daniel"].pk: 0.0, self.users["hannah"].pk: 0.5}
        assignments = ReviewAssignment.objects.filter(round=rnd).select_related("round__rubric").order_by("pk")
        for assignment in assignments:
            self.counts["review_assignments"] += 1
            roll = rng.random()
            if roll < 0.12:
                continue  # not started yet
            scores = {
                c.pk: max(
                    c.scale_min,
                    min(
                        c.scale_max,
                        round(3 + quality[assignment.idea_id] + severity[assignment.judge_id] + rng.gauss(0, 0.5)),
                    ),
                )
                for c in criteria
            }
            mean = sum(scores.values()) / len(scores)
            recommendation = "advance" if mean >= 3.75 else "reject" if mean <= 2.25 else "maybe"
            final = roll >= 0.2
            submit_review(
                assignment=assignment,
                by=assignment.judge,
                scores=scores,
                note=rng.choice(texts.REVIEW_NOTES[recommendation]),
                recommendation=recommendation,
                final=final,
            )
            self.counts["reviews" if final else "review_drafts"] += 1

    def fund(self) -> None:
        """A public neighbourhood fund, split by knapsack ballots; Equal Shares' allocation is published."""
        rng = self.rng
        organiser = self.users["ingrid"]
        plan = self.plan(
            (PhaseKind.SUBMISSION, -75, -45), (PhaseKind.FUNDING, -45, -14), (PhaseKind.RESULTS, -14, 60),
            (PhaseKind.TRACKING, 60, None),
        )
        challenge = self.new_challenge(
            texts.FUND,
            key="fund",
            plan=plan,
            fields=(),
            budget_eur=120_000,
            visibility=Visibility.PUBLIC,
            colours=((40, 110, 70), (230, 180, 60)),
            judges=(),
        )
        configure_funding(challenge=challenge, by=organiser, ballot_kind=BallotKind.KNAPSACK)
        self.advance(challenge)
        neighbours = [self.users[p.key] for p in PEOPLE if p.key != "ingrid"]
        self.join(challenge, neighbours, 0.5)
        submission = self.window(plan[0])
        bloc_of: dict[int, str] = {}
        ideas: list[Idea] = []
        leads = rng.sample(neighbours, len(texts.FUND_PROJECTS))
        for (title, summary, category, euros, bloc), lead in zip(texts.FUND_PROJECTS, leads, strict=True):
            concept = texts.Concept(title, summary, category)
            idea = self.idea(
                challenge,
                lead,
                concept,
                title=title,
                team_name=f"{lead.display_name.split()[0]} and neighbours",
                answers={},
                budget_eur=euros,
                window=submission,
            )
            self.grow_team(idea, lead, neighbours, weights=(30, 40, 20, 10))
            bloc_of[idea.pk] = bloc
            ideas.append(idea)
        self.discuss(ideas, neighbours, submission, weights=(40, 30, 15, 10, 5, 0))
        self.advance(challenge)  # → funding
        budget = 120_000 * 100
        # A majority cares about the town centre; two smaller groups about youth sport and nature.
        blocs = ["centre"] * 22 + ["youth"] * 11 + ["green"] * 7
        voters = rng.sample(neighbours, len(blocs))
        liking = {"centre": (0.95, 0.85, 0.8, 0.6, 0.45), "youth": (0.95, 0.85, 0.8), "green": (0.95, 0.85, 0.7)}
        for n, (voter, bloc) in enumerate(zip(voters, blocs, strict=True)):
            own = [i for i in ideas if bloc_of[i.pk] == bloc]
            chosen = [i for i, p in zip(own, liking[bloc], strict=True) if rng.random() < p]
            chosen += [i for i in ideas if bloc_of[i.pk] == "everyone" and rng.random() < 0.6]
            others = [i for i in ideas if bloc_of[i.pk] not in (bloc, "everyone")]
            if rng.random() < 0.3:
                chosen.append(rng.choice(others))
            ballot: list[Idea] = []
            spent = 0
            for idea in chosen or own[:1]:
                cost = idea.requested_budget_minor or 0
                if spent + cost <= budget:
                    ballot.append(idea)
                    spent += cost
            cast_ballot(challenge=challenge, by=voter, choices={i.pk: 1 for i in ballot})
            self.counts["ballots"] += 1
            if n % 8 == 3:
                # A change of mind before the phase closed: the ballot is replaced, not added.
                extra = [i for i in others if i not in ballot and spent + (i.requested_budget_minor or 0) <= budget]
                if extra:
                    ballot.append(min(extra, key=lambda i: (i.requested_budget_minor or 0, i.pk)))
                    cast_ballot(challenge=challenge, by=voter, choices={i.pk: 1 for i in ballot})
                    self.counts["ballot_changes"] += 1
        self.advance(challenge)  # → results
        allocation = run_allocation(challenge=challenge, by=organiser, rule="mes")
        self.counts["allocations"] += 1
        publish_allocation(allocation=allocation, by=organiser)
        self.counts["funded"] += len(allocation.selected)
        winners = [i for i in ideas if i.pk in set(allocation.selected)]
        self.discuss(winners, neighbours, self.window(plan[2], until_now=True), weights=(20, 40, 30, 10, 0, 0))

    def moderation(self, contest: Challenge) -> None:
        """Spam hidden and its author blocked; one duplicate report still open for the queue."""
        kwame, spammer = self.users["kwame"], self.users["spammer"]
        target = self.contest_ideas[3]
        spam = self.comment(target, spammer, texts.SPAM_COMMENT, self.now - timedelta(days=2, hours=3))
        report = report_comment(comment=spam, by=self.lead_of[target.pk], reason="Advertising for an unrelated shop.")[0]
        resolve_report(report=report, by=kwame, hide=True, resolution="Spam: advertising.")
        block_account(user=spammer, by=kwame, reason="Posted advertising on several ideas.")
        self.counts["reports"] += 1
        titles: dict[str, list[Idea]] = {}
        for idea in self.contest_ideas:
            titles.setdefault(idea.title.split(": ", 1)[-1], []).append(idea)
        original, duplicate = next(group for group in titles.values() if len(group) > 1)[:2]
        reporter = self.users["rahul"]
        report_idea(
            idea=duplicate,
            by=reporter,
            reason=f"This looks like a duplicate of “{original.title}”, submitted earlier by another team.",
        )
        self.counts["reports"] += 1
        self.counts["open_reports"] += 1

    def apply_times(self) -> None:
        """Spread the story over past weeks: ideas, their versions, comments, likes and teams."""
        by_model: dict[type[models.Model], dict[int, dict[str, datetime]]] = {}
        for model, pk, fields in self.times:
            by_model.setdefault(model, {})[pk] = fields
        for model, rows in by_model.items():
            objects = model._default_manager.in_bulk(list(rows))
            names: set[str] = set()
            for pk, fields in rows.items():
                for name, value in fields.items():
                    setattr(objects[pk], name, value)
                names |= set(fields)
            model._default_manager.bulk_update(list(objects.values()), sorted(names), batch_size=400)
        likes = list(Like.objects.filter(idea_id__in=list(self.idea_time)))
        for like in likes:
            like.created_at = self.like_times.get((like.idea_id, like.user_id), like.created_at)
        Like.objects.bulk_update(likes, ["created_at"], batch_size=400)
        versions = list(IdeaVersion.objects.filter(idea_id__in=list(self.idea_time), number=1))
        for version in versions:
            version.created_at = self.idea_time[version.idea_id]
        IdeaVersion.objects.bulk_update(versions, ["created_at"], batch_size=400)
