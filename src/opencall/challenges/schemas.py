"""JSON shapes for challenges, their phases, categories and custom fields."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from ninja import Schema
from pydantic import Field

from opencall.accounts.schemas import UserRef
from opencall.challenges.models import Challenge, Phase
from opencall.challenges.phases import DEFAULT_PLAN, LABELS, LIFECYCLE, ORDER, PhaseKind, allowed_actions
from opencall.core.markdown import render_markdown
from opencall.core.schemas import MAX_ID, FilterSchema, Id, InSchema, Instant, Page, omittable
from opencall.organisations.schemas import OrganisationRef

VisibilityName = Literal["public", "internal", "invite_only"]
if TYPE_CHECKING:
    PhaseName = str
    CurrentPhaseName = str
else:
    # Literals built from the phase module's tuples: the same enum in the OpenAPI document (values
    # in lifecycle order) as written-out literals, and a new phase appears here by itself.
    PhaseName = Literal[tuple(k.value for k in ORDER)]  # a phase that can be planned
    CurrentPhaseName = Literal[tuple(k.value for k in LIFECYCLE)]  # any phase a challenge can be in
FieldKindName = Literal["text", "number", "choice", "url"]
CategoryName = Annotated[str, Field(min_length=1, max_length=60)]
ChoiceText = Annotated[str, Field(min_length=1, max_length=200)]


class PhaseOut(Schema):
    kind: str
    label: str
    starts_at: datetime | None
    ends_at: datetime | None

    @staticmethod
    def resolve_label(obj: Phase) -> str:
        return str(LABELS[PhaseKind(obj.kind)])


class CustomFieldOut(Schema):
    key: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    help_text: str


class ChallengeOut(Schema):
    slug: str
    title: str
    summary: str
    organisation: OrganisationRef
    visibility: str
    phase: str
    phase_label: str
    categories: list[str]
    budget_minor: int | None = Field(description="Budget in minor units of `currency` (cents).")
    currency: str
    idea_count: int = Field(0, description="Ideas entered (drafts not counted).")
    created_at: datetime

    @staticmethod
    def resolve_phase_label(obj: Challenge) -> str:
        return str(LABELS[PhaseKind(obj.phase)])

    @staticmethod
    def resolve_categories(obj: Challenge) -> list[str]:
        return [c.name for c in obj.categories.all()]

    @staticmethod
    def resolve_idea_count(obj: Challenge) -> int:
        return int(getattr(obj, "idea_count", 0))


class ChallengePage(Page):
    items: list[ChallengeOut]


class ViewerRights(Schema):
    """What the caller may do with this challenge right now."""

    edit: bool
    advance_phase: bool
    submit_idea: bool
    comment: bool
    vote: bool


class ChallengeDetailOut(ChallengeOut):
    description: str
    description_html: str = Field(description="The description rendered from Markdown and sanitised.")
    terms: str
    terms_html: str
    cover_image: str | None
    sponsors: list[OrganisationRef]
    phases: list[PhaseOut]
    allowed_actions: list[str] = Field(description="What the current phase allows: submit, edit, comment, vote…")
    custom_fields: list[CustomFieldOut]
    you: ViewerRights

    @staticmethod
    def resolve_description_html(obj: Challenge) -> str:
        return render_markdown(obj.description)

    @staticmethod
    def resolve_terms_html(obj: Challenge) -> str:
        return render_markdown(obj.terms)

    @staticmethod
    def resolve_cover_image(obj: Challenge) -> str | None:
        return obj.cover_url or None

    @staticmethod
    def resolve_phases(obj: Challenge) -> list[Phase]:
        return sorted(obj.phases.all(), key=lambda p: p.position)

    @staticmethod
    def resolve_allowed_actions(obj: Challenge) -> list[str]:
        return sorted(str(a) for a in allowed_actions(obj.phase))

    @staticmethod
    def resolve_you(obj: Challenge) -> dict[str, bool]:
        return getattr(obj, "viewer_rights", {})


class ChallengeFilters(FilterSchema):
    q: str = Field("", max_length=200, description="Words in the title or summary.")
    phase: CurrentPhaseName | Literal[""] = ""
    organisation: str = Field("", max_length=80, description="An organisation's slug.")
    category: str = Field("", max_length=60)
    visibility: VisibilityName | Literal[""] = ""


class PhaseIn(InSchema):
    kind: PhaseName
    starts_at: Instant | None = Field(None, description="With a time zone, e.g. 2030-01-01T00:00:00Z.")
    ends_at: Instant | None = Field(None, description="When set, the phase advances on its own then.")


class CustomFieldIn(InSchema):
    key: str = Field(min_length=1, max_length=40, description="A lowercase slug, unique in the challenge.")
    label: str = Field(min_length=1, max_length=120)
    kind: FieldKindName = "text"
    required: bool = False
    choices: list[ChoiceText] = Field(default_factory=list, max_length=50)
    help_text: str = Field("", max_length=200)


class ChallengeIn(InSchema):
    organisation: str = Field(min_length=1, max_length=80, description="Slug of the organising organisation.")
    title: str = Field(min_length=1, max_length=160)
    summary: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20000, description="Markdown.")
    terms: str = Field("", max_length=20000, description="Markdown; entrants must accept it.")
    budget_minor: int | None = Field(None, ge=0, le=MAX_ID)
    currency: str = Field("EUR", min_length=3, max_length=3)
    visibility: VisibilityName = "public"
    categories: list[CategoryName] = Field(default_factory=list, max_length=50)
    phases: list[PhaseIn] = Field(
        default_factory=list,
        max_length=6,
        description=f"The phase plan; left empty: {', '.join(DEFAULT_PLAN)}.",
    )
    custom_fields: list[CustomFieldIn] = Field(default_factory=list, max_length=20)


class ChallengePatch(InSchema):
    """Fields left out keep their value; null clears `description`, `terms` and `budget_minor`."""

    title: str = omittable(min_length=1, max_length=160)
    summary: str = omittable(min_length=1, max_length=300)
    description: str | None = Field(None, max_length=20000)
    terms: str | None = Field(None, max_length=20000)
    budget_minor: int | None = Field(None, ge=0, le=MAX_ID)
    currency: str = omittable(min_length=3, max_length=3)
    visibility: VisibilityName = omittable()
    categories: list[CategoryName] = omittable(max_length=50)


class PhasePlanIn(InSchema):
    phases: list[PhaseIn] = Field(min_length=1, max_length=6)


class CustomFieldsIn(InSchema):
    custom_fields: list[CustomFieldIn] = Field(max_length=20)


class RoleOut(Schema):
    id: int
    user: UserRef
    kind: str


class RolePage(Page):
    items: list[RoleOut]


class RoleIn(InSchema):
    user_id: Id
    kind: Literal["judge", "moderator"]
