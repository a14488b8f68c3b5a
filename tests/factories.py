"""factory_boy factories. Objects are made through the ORM for speed; behaviour is tested via actions."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from opencall.accounts.models import User
from opencall.challenges.models import Category, Challenge, ChallengeRole, CustomField, Phase
from opencall.community.models import Comment
from opencall.ideas.models import Idea, IdeaStatus, Team, TeamMember
from opencall.organisations.models import Membership, Organisation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def email_verified(obj, create, extracted, **kwargs):
        """People made here have proved their address, as they would have to by signing up;
        `UserFactory(email_verified=False)` makes one who has not."""
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=extracted is not False)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"


PLAN = ["submission", "community", "review", "funding", "results", "tracking"]


class ChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Challenge
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Challenge {n}")
    slug = factory.Sequence(lambda n: f"challenge-{n}")
    summary = "Find better ways to pack parcels."
    description = "Long description"
    visibility = "public"
    phase = "submission"
    budget_minor = 10_000_000

    @factory.post_generation
    def plan(obj, create, extracted, **kwargs):
        if create:
            for kind in extracted or PLAN:
                Phase.objects.create(challenge=obj, kind=kind)

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create:
            for name in extracted or ["AI", "Logistics"]:
                Category.objects.create(challenge=obj, name=name)


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    challenge = factory.SubFactory(ChallengeFactory)
    key = factory.Sequence(lambda n: f"field-{n}")
    label = "Market size"
    kind = "text"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    challenge = factory.SubFactory(ChallengeFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class IdeaFactory(factory.django.DjangoModelFactory):
    """An idea with a team of one led by `lead` (a new person unless given)."""

    class Meta:
        model = Idea
        skip_postgeneration_save = True

    challenge = factory.SubFactory(ChallengeFactory)
    team = factory.LazyAttribute(lambda o: TeamFactory(challenge=o.challenge))
    title = factory.Sequence(lambda n: f"Idea {n}")
    summary = "A summary"
    body = "A body"
    status = IdeaStatus.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)
    version = 1

    @factory.post_generation
    def lead(obj, create, extracted, **kwargs):
        if create:
            TeamMember.objects.create(team=obj.team, user=extracted or UserFactory(), role="lead")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    idea = factory.SubFactory(IdeaFactory)
    author = factory.SubFactory(UserFactory)
    body = "Nice idea"


def make_role(challenge: Challenge, user: User, kind: str) -> ChallengeRole:
    return ChallengeRole.objects.create(challenge=challenge, user=user, kind=kind)
