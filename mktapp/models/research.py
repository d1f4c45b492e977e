"""Market research (P2): research plans, questionnaires and their answers, field notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import can
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import (
    ArchivableMixin,
    OwnedMixin,
    ReviewedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)

# P2.3: what a plan looks into.
RESEARCH_CONTENTS = Vocabulary(
    "research_content",
    {
        "demand": _l("Market demand"),
        "competitors": _l("Competitors"),
        "satisfaction": _l("Customer satisfaction"),
        "industry": _l("Industry dynamics"),
    },
    tag_class="",
)

# P2.2: how.
RESEARCH_METHODS = Vocabulary(
    "research_method",
    {
        "questionnaire": _l("Questionnaire"),
        "interview": _l("Interview"),
        "focus_group": _l("Focus group"),
        "observation": _l("Observation"),
        "web_search": _l("Web search"),
    },
    tag_class="tag-muted",
)

PLAN_STATUSES = Vocabulary(
    "plan_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
        "in_progress": _l("In progress"),
        "done": _l("Completed"),
    },
)

QUESTION_KINDS = Vocabulary(
    "question_kind",
    {
        "single": _l("Single choice"),
        "multi": _l("Multiple choice"),
        "rating": _l("Rating 1–5"),
        "nps": _l("NPS 0–10"),
        "number": _l("Numeric answer"),
        "short_text": _l("Short text"),
        "long_text": _l("Long text"),
        "section": _l("Section heading"),
    },
    tag_class="tag-muted",
)

SURVEY_KINDS: dict[str, object] = {
    "general": _l("General questionnaire"),
    "satisfaction": _l("Customer satisfaction"),
}

SURVEY_STATUSES = Vocabulary(
    "survey_status",
    {
        "draft": _l("Draft"),
        "open": _l("Collecting answers"),
        "closed": _l("Closed"),
    },
)

# How often the public questionnaire may be answered (Survey.answer_limit).
ANSWER_LIMITS = Vocabulary(
    "answer_limit",
    {
        "open": _l("Anyone with the link, any number of times"),
        "browser": _l("One answer per browser"),
        "invitation": _l("Invited customers only, one answer per invitation"),
    },
    tag_class="",
)

# Answers the public link takes from one address within an hour (Survey.address_hourly_limit)
# unless the author sets another number (0: no limit).
ADDRESS_HOURLY_LIMIT = 20

RESPONSE_CHANNELS = Vocabulary(
    "channel",
    {
        "link": _l("Public link"),
        "invite": _l("Invitation"),
        "phone": _l("Phone (entered by staff)"),
    },
    tag_class="",
)


def _csv_get(raw: str) -> list[str]:
    return [part for part in (raw or "").split(",") if part]


class ResearchPlan(
    VersionedMixin, ReviewedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model
):
    """调研计划 (P2.1). owner = the author; approved by the marketing manager."""

    __tablename__ = "research_plans"
    __table_args__ = (Index("ix_research_plans_list", "archived_at", "status", "start_on"),)
    __audited__ = True
    __audit_label__ = "title"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    subjects: Mapped[str] = mapped_column(Text, default="")
    # Comma-separated codes of RESEARCH_CONTENTS / RESEARCH_METHODS.
    contents: Mapped[str] = mapped_column(String(200), default="")
    methods: Mapped[str] = mapped_column(String(200), default="")
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")

    milestones: Mapped[list[ResearchMilestone]] = relationship(
        back_populates="plan",
        order_by="(ResearchMilestone.due_on, ResearchMilestone.id)",
        cascade="all, delete-orphan",
    )
    assignments: Mapped[list[ResearchAssignment]] = relationship(
        back_populates="plan", order_by="ResearchAssignment.id", cascade="all, delete-orphan"
    )

    @property
    def content_codes(self) -> list[str]:
        return _csv_get(self.contents)

    @property
    def method_codes(self) -> list[str]:
        return _csv_get(self.methods)

    @classmethod
    def visible_to(cls, user):
        """Research is read by those with research.view (market group, manager, executives)."""

        return true() if can(user, "research.view") else false()


class ResearchMilestone(VersionedMixin, db.Model):
    """A dated step of a plan's schedule."""

    __tablename__ = "research_milestones"
    __audited__ = True
    __audit_title__ = _l("Research milestone")
    __audit_labels__ = {"plan_id": _l("Research plan"), "due_on": _l("Due"), "done": _l("Done")}

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("research_plans.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[ResearchPlan] = relationship(back_populates="milestones")


class ResearchAssignment(db.Model):
    """A person on a plan and what they do."""

    __tablename__ = "research_assignments"
    __audited__ = True
    __audit_title__ = _l("Research assignment")
    __audit_labels__ = {"user_id": _l("Colleague"), "task": _l("Task")}

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("research_plans.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    task: Mapped[str] = mapped_column(String(300), default="")

    plan: Mapped[ResearchPlan] = relationship(back_populates="assignments")
    user = relationship("User", lazy="joined")


class FieldNote(VersionedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """A record of an interview, focus group, observation or web search (P2.2)."""

    __tablename__ = "research_field_notes"
    __audited__ = True
    __audit_label__ = "title"
    __audit_title__ = _l("Field note")
    __audit_labels__ = {
        "method": _l("Method"),
        "held_on": _l("Date"),
        "participants": _l("Participants"),
    }
    __audit_values__ = {"method": RESEARCH_METHODS}

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("research_plans.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    participants: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    plan = relationship("ResearchPlan")

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)


class Survey(VersionedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """问卷: built in the app, answered through a public link, invitations or by phone."""

    __tablename__ = "surveys"
    __audited__ = True
    __audit_label__ = "title"
    __fragment_versions__ = ("surveys",)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("research_plans.id"), index=True, nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    # "general" or "satisfaction" (a satisfaction survey runs again each period).
    kind: Mapped[str] = mapped_column(String(20), default="general")
    # The first survey of a series of periods (None for the first itself).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id"), nullable=True)
    period: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_count: Mapped[int] = mapped_column(Integer, default=0)
    # ANSWER_LIMITS: "open", "browser" (a cookie marks a browser that answered) or
    # "invitation" (the public link takes no answers; each invitation takes one).
    answer_limit: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    # Answers through the public link from one address within an hour (0: no limit), and
    # how many were turned away by it.
    address_hourly_limit: Mapped[int] = mapped_column(
        Integer, default=ADDRESS_HOURLY_LIMIT, server_default=str(ADDRESS_HOURLY_LIMIT)
    )
    address_refused: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    plan = relationship("ResearchPlan")
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        order_by="(SurveyQuestion.seq, SurveyQuestion.id)",
        cascade="all, delete-orphan",
    )

    @property
    def series_root_id(self) -> int:
        return self.series_id or self.id

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)


class SurveyQuestion(VersionedMixin, db.Model):
    """A question (or a section heading) of a questionnaire, in `seq` order."""

    __tablename__ = "survey_questions"
    __audited__ = True
    __audit_label__ = "text"
    __audit_title__ = _l("Survey question")
    __audit_labels__ = {
        "kind": _l("Question type"),
        "text": _l("Question"),
        "help": _l("Hint"),
        "required": _l("Required"),
        "options": _l("Choices"),
        "key": _l("Key for comparing periods"),  # entries written before it was excluded
    }
    __audit_values__ = {"kind": QUESTION_KINDS}
    __audit_exclude__ = ("key",)  # an internal random key that matches questions across periods
    __fragment_versions__ = ("surveys",)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    help: Mapped[str] = mapped_column(String(500), default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Choices, one a line (single / multi).
    options: Mapped[str] = mapped_column(Text, default="")
    # The same question across the periods of a series shares this key.
    key: Mapped[str] = mapped_column(String(32), default="")

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.options or "").splitlines() if line.strip()]

    @property
    def is_choice(self) -> bool:
        return self.kind in ("single", "multi")

    @property
    def is_scale(self) -> bool:
        return self.kind in ("rating", "nps")

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("rating", "nps", "number")

    @property
    def is_text(self) -> bool:
        return self.kind in ("short_text", "long_text")


class SurveyInvitation(db.Model):
    """A one-time link sent to one customer: one response, then it is used up."""

    __tablename__ = "survey_invitations"
    __audit_title__ = _l("Survey invitation")  # rows moved when customers are merged

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # After this moment the link takes no answer (a ticket's satisfaction link: 30 days).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer = relationship("Customer", lazy="joined")


class SurveyResponse(db.Model):
    """答卷: one respondent's answers to a questionnaire."""

    __tablename__ = "survey_responses"
    __audit_title__ = _l("Survey response")  # rows moved when customers are merged
    __table_args__ = (
        Index("ix_survey_responses_survey_at", "survey_id", "submitted_at"),
        Index("ix_survey_responses_address", "survey_id", "address_key", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(20), default="link")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), nullable=True, index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id"), nullable=True, unique=True
    )
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    respondent: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str] = mapped_column(String(10), default="")
    # The address an answer through the public link came from, keyed with the app's
    # secret and the questionnaire (surveys.address_key): counted, never shown or kept.
    address_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    customer = relationship("Customer")
    entered_by = relationship("User")


class SurveyAnswer(db.Model):
    """One answer. `num`: the value (rating, NPS, number) or the chosen option's index
    (single and multiple choice: one row per chosen option); `text` for text answers."""

    __tablename__ = "survey_answers"
    # (question, value) counts every distribution from the index alone; (response,
    # question, value) finds a response's answer to another question for cross-tabs;
    # (question, response) counts the respondents of a multiple choice.
    __table_args__ = (
        Index("ix_survey_answers_question_num", "question_id", "num"),
        Index("ix_survey_answers_response", "response_id", "question_id", "num"),
        Index("ix_survey_answers_question_response", "question_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    num: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)


# --- the research report (P2.5) ---------------------------------------------------------------

REPORT_STATUSES = Vocabulary(
    "report_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
    },
)

# The report's sections, in order: column -> heading.
REPORT_SECTIONS: dict[str, object] = {
    "background": _l("Research background"),
    "objectives": _l("Research objectives"),
    "methodology": _l("Research methods"),
    "findings": _l("Main findings"),
    "conclusions": _l("Conclusions"),
    "recommendations": _l("Recommendations"),
}


class ResearchReport(
    VersionedMixin, ReviewedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model
):
    """调研报告 (P2.5): six Markdown sections on one plan, approved by the marketing
    manager; on approval its PDF is frozen as an attachment (pdf_attachment_id)."""

    __tablename__ = "research_reports"
    __table_args__ = (Index("ix_research_reports_list", "archived_at", "status"),)
    __audited__ = True
    __audit_label__ = "title"
    __audit_exclude__ = ("pdf_attachment_id",)  # the frozen PDF shows as an attachment entry

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("research_plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    background: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    methodology: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    conclusions: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    # Comma-separated ids of the groups (departments) the report is distributed to.
    distribution: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    pdf_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id"), nullable=True
    )

    plan: Mapped[ResearchPlan] = relationship(lazy="joined")

    @property
    def group_ids(self) -> list[int]:
        return [int(part) for part in _csv_get(self.distribution) if part.isdigit()]

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)


# --- competitors, industry news, market demand (P2.3) ---------------------------------------


class Competitor(VersionedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """竞争对手: what they sell, how they price, sell and promote, and how they compare."""

    __tablename__ = "competitors"
    __audited__ = True
    __audit_label__ = "name"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    products: Mapped[str] = mapped_column(Text, default="")
    pricing: Mapped[str] = mapped_column(Text, default="")
    # Estimated market share in percent (0-100), when known.
    market_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    channels: Mapped[str] = mapped_column(Text, default="")
    promotions: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    weaknesses: Mapped[str] = mapped_column(Text, default="")

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)


NEWS_CATEGORIES = Vocabulary(
    "news_category",
    {
        "policy": _l("Policy and regulation"),
        "technology": _l("Technology trend"),
        "hotspot": _l("Industry hot spot"),
        "pain_point": _l("Customer pain point"),
    },
    tag_class="",
)

NEWS_IMPACTS = Vocabulary(
    "news_impact",
    {
        "high": _l("High impact"),
        "medium": _l("Medium impact"),
        "low": _l("Low impact"),
    },
    tag_class="impact-tag-{code}",
)


class IndustryNews(VersionedMixin, TimestampMixin, db.Model):
    """行业动态: a policy, trend, hot spot or pain point, with its source and expected impact."""

    __tablename__ = "industry_news"
    __table_args__ = (Index("ix_industry_news_feed", "published_on"),)
    __audited__ = True
    __audit_label__ = "title"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    published_on: Mapped[date] = mapped_column(Date)
    impact: Mapped[str] = mapped_column(String(10), default="medium")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    added_by = relationship("User")

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)


class MarketFigure(VersionedMixin, TimestampMixin, db.Model):
    """市场需求: an estimate of a segment's market size (10k yuan) and growth for a year,
    with its source. One figure per segment and year."""

    __tablename__ = "market_figures"
    __table_args__ = (Index("uq_market_figures_segment_year", "segment", "year", unique=True),)
    __audited__ = True
    __audit_label__ = "segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    segment: Mapped[str] = mapped_column(String(80))
    year: Mapped[int] = mapped_column(Integer)
    # Market size in 万元 (10,000 yuan); growth in percent over the year before.
    size: Mapped[float] = mapped_column(Float)
    growth: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(300), default="")

    @classmethod
    def visible_to(cls, user):
        return ResearchPlan.visible_to(user)
