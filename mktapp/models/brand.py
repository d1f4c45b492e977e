"""Brand strategy and market activities (P3.1–P3.4).

- BrandStrategy: one row per version (every change makes a new version; the highest
  version is the current one); its channels are BrandChannel rows of that version. The
  visual-identity files are attachments on the version (record_type "brand_strategy").
- Activity: a market activity from plan to evaluation. Its budget lines (category, year,
  month, amount) reserve the expense budget while the activity is approved, running or
  ended (see ACTIVITY_RESERVING); claims linked to it (ExpenseClaim.link_type "activity")
  are its actual cost; customers whose source_activity_id is it are its leads.
- ActivityChange: a change request to an approved plan, approved through the engine;
  on approval its proposed values (JSON) are applied to the activity.
- ActivityTask / ActivityParticipant / ActivityStaff: execution (P3.3).
- ActivityEvaluation: one per activity (P3.4); the figures computed from the data are
  frozen in `figures` (JSON) on submission; its PDF is frozen on approval.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import can
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import (
    ArchivableMixin,
    Money,
    OwnedMixin,
    ReviewedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)

# P3.2: the kinds of activity (a kind's tag is muted, with the kind's own class).
ACTIVITY_KINDS = Vocabulary(
    "activity_kind",
    {
        "launch": _l("Product launch"),
        "promotion": _l("Promotion"),
        "theme": _l("Themed event"),
        "charity": _l("Charity event"),
        "expo": _l("Trade show"),
        "other": _l("Other"),
    },
    tag_class="tag-muted kind-{code}",
)

ACTIVITY_FORMS = Vocabulary(
    "activity_form",
    {
        "offline": _l("Offline"),
        "online": _l("Online"),
        "hybrid": _l("Online and offline"),
    },
    tag_class="",
)

# 草稿 → 审批中 → 已批准 → 执行中 → 已结束 → 已评估 (and 已驳回, 已撤回, 已取消).
ACTIVITY_STATUSES = Vocabulary(
    "activity_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
        "running": _l("In progress"),
        "ended": _l("Ended"),
        "evaluated": _l("Evaluated"),
        "cancelled": _l("Cancelled"),
    },
)

# The statuses in which an activity's budget lines hold (reserve) budget.
ACTIVITY_RESERVING = ("approved", "running", "ended")

TASK_STATUSES = Vocabulary(
    "task_status",
    {
        "todo": _l("To do"),
        "doing": _l("In progress"),
        "done": _l("Done"),
    },
    tag_class="task-status-{code}",
)

PARTICIPANT_KINDS = Vocabulary(
    "participant_kind",
    {
        "invited": _l("Invited customer"),
        "registered": _l("Registered"),
        "walk_in": _l("Walk-in"),
    },
    tag_class="kind-{code}",
)

EVALUATION_STATUSES = Vocabulary(
    "eval_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
    },
)

# A change request goes through the same states as an evaluation, with the same words.
CHANGE_STATUSES = Vocabulary("change_status", EVALUATION_STATUSES)


def _brand_view_rule(user):

    return true() if can(user, "brand.view") else false()


class BrandStrategy(VersionedMixin, OwnedMixin, TimestampMixin, db.Model):
    """品牌策略 (P3.1), one version per row; owner = who wrote the version."""

    __tablename__ = "brand_strategies"
    __audited__ = True
    __audit_title__ = _l("Brand strategy")
    __audit_labels__ = {
        "positioning": _l("Brand positioning"),
        "audiences": _l("Target audiences"),
        "value_proposition": _l("Value proposition"),
        "slogan": _l("Slogan"),
        "colours": _l("Standard colours"),
        "image_notes": _l("Brand image guidelines"),
        "change_note": _l("Change note"),
        "logo_attachment_id": _l("Logo"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    positioning: Mapped[str] = mapped_column(Text, default="")
    audiences: Mapped[str] = mapped_column(Text, default="")
    value_proposition: Mapped[str] = mapped_column(Text, default="")
    slogan: Mapped[str] = mapped_column(String(200), default="")
    # Standard colours: "#0b5cad 品牌蓝,#f5a623 活力橙" (hex and name, comma separated).
    colours: Mapped[str] = mapped_column(String(400), default="")
    image_notes: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    logo_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id"), nullable=True
    )

    channels: Mapped[list[BrandChannel]] = relationship(
        back_populates="strategy", order_by="BrandChannel.seq", cascade="all, delete-orphan"
    )

    @classmethod
    def visible_to(cls, user):
        return _brand_view_rule(user)


class BrandChannel(db.Model):
    """A channel of a strategy version: its audience and its observed effect."""

    __tablename__ = "brand_channels"
    __audited__ = True
    __audit_title__ = _l("Brand channel")
    __audit_labels__ = {
        "name": _l("Channel"),
        "audience": _l("Audience"),
        "effect": _l("Observed effect"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("brand_strategies.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(400), default="")
    effect: Mapped[str] = mapped_column(Text, default="")

    strategy: Mapped[BrandStrategy] = relationship(back_populates="channels")


class Activity(
    VersionedMixin, ReviewedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model
):
    """市场活动 (P3.2–P3.4). owner = the planner (a market specialist)."""

    __tablename__ = "activities"
    __audited__ = True
    __fragment_versions__ = ("activities",)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    theme: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    target_participants: Mapped[int] = mapped_column(Integer, default=0)
    target_leads: Mapped[int] = mapped_column(Integer, default=0)
    target_sales: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    start_on: Mapped[date] = mapped_column(Date, index=True)
    end_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[str] = mapped_column(String(20), default="offline")
    audience: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # Why it was approved although a budget line exceeds the free budget (executive).
    over_budget_reason: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # The on-site feedback questionnaire (research chapter).
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys.id"), nullable=True, index=True
    )

    budget_lines: Mapped[list[ActivityBudgetLine]] = relationship(
        back_populates="activity",
        order_by="ActivityBudgetLine.id",
        cascade="all, delete-orphan",
    )
    staff: Mapped[list[ActivityStaff]] = relationship(
        back_populates="activity", order_by="ActivityStaff.id", cascade="all, delete-orphan"
    )

    @property
    def budget_total(self) -> Decimal:
        return sum((line.amount for line in self.budget_lines), Decimal("0"))

    @classmethod
    def visible_to(cls, user):
        """Activities are company events: read by everyone who holds brand.view."""
        return _brand_view_rule(user)


class ActivityBudgetLine(db.Model):
    """A budget line of an activity: category (expense CATEGORIES), year and month."""

    __tablename__ = "activity_budget_lines"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)  # 1..12
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(200), default="")

    activity: Mapped[Activity] = relationship(back_populates="budget_lines")


class ActivityStaff(db.Model):
    """Who works on the day, and their duty."""

    __tablename__ = "activity_staff"
    __audited__ = True
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    duty: Mapped[str] = mapped_column(String(200), default="")

    activity: Mapped[Activity] = relationship(back_populates="staff")
    user = relationship("User", lazy="joined")


class ActivityChange(ReviewedMixin, OwnedMixin, TimestampMixin, db.Model):
    """A change request to an approved plan (变更申请), approved through the engine."""

    __tablename__ = "activity_changes"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # The plan's fields and budget lines as proposed (JSON), applied on approval.
    proposed: Mapped[str] = mapped_column(Text, default="{}")
    # The same fields before the change (JSON), for the comparison shown to approvers.
    previous: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)

    activity: Mapped[Activity] = relationship()

    @classmethod
    def visible_to(cls, user):
        return _brand_view_rule(user)


class ActivityTask(VersionedMixin, db.Model):
    """A checklist item of an activity's execution (P3.3)."""

    __tablename__ = "activity_tasks"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="todo")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the owner was told the task is overdue (once).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    activity: Mapped[Activity] = relationship()
    owner = relationship("User", lazy="joined")


class ActivityParticipant(db.Model):
    """An invited customer, a registration or a walk-in; checked in on the day."""

    __tablename__ = "activity_participants"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="registered")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()


class ActivityEvaluation(ReviewedMixin, OwnedMixin, TimestampMixin, db.Model):
    """活动评估 (P3.4): one per activity; approved by the marketing manager."""

    __tablename__ = "activity_evaluations"
    __audited__ = True
    # The frozen figures (JSON) and the PDF's attachment id are the approval's output,
    # shown on the page; as log entries they would be noise.
    __audit_exclude__ = ("figures", "pdf_attachment_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), unique=True)
    # What the data cannot know, entered by the evaluator.
    reach: Mapped[int] = mapped_column(Integer, default=0)
    media_coverage: Mapped[int] = mapped_column(Integer, default=0)
    media_notes: Mapped[str] = mapped_column(Text, default="")
    inquiries: Mapped[int] = mapped_column(Integer, default=0)
    new_followers: Mapped[int] = mapped_column(Integer, default=0)
    what_worked: Mapped[str] = mapped_column(Text, default="")
    what_to_change: Mapped[str] = mapped_column(Text, default="")
    # The computed figures (JSON) as they were when submitted.
    figures: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    pdf_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id"), nullable=True
    )

    activity: Mapped[Activity] = relationship()

    @classmethod
    def visible_to(cls, user):
        return _brand_view_rule(user)
