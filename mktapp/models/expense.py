"""Marketing expenses (P6): budgets by category and month, adjustments, claims, anomalies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import can, team_rule
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

# Budget categories of P6.1 (and 其他); stored by code everywhere.
# The claims' pages name them `claim_category`; an activity's budget lines show the same
# words under their own name (brand's ACTIVITY_CATEGORIES).
CATEGORIES = Vocabulary(
    "claim_category",
    {
        "research": _l("Market research costs"),
        "brand": _l("Brand promotion"),
        "activity": _l("Market activity costs"),
        "advertising": _l("Advertising"),
        "commission": _l("Sales commission"),
        "customer": _l("Customer upkeep"),
        "other": _l("Other"),
    },
    tag_class="",
)

PAYMENT_METHODS = Vocabulary(
    "claim_method",
    {
        "bank": _l("Bank transfer"),
        "cash": _l("Cash"),
        "card": _l("Corporate card"),
        "alipay": _l("Alipay / WeChat Pay"),
        "other": _l("Other"),
    },
    tag_class="",
)


class Budget(VersionedMixin, OwnedMixin, TimestampMixin, db.Model):
    """费用预算: one per fiscal year, approved by the executive (P6.1)."""

    __tablename__ = "budgets"
    __audited__ = True
    __audit_label__ = "title"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text, default="")
    # draft / pending / approved / rejected
    status: Mapped[str] = mapped_column(String(20), default="draft")
    closed: Mapped[bool] = mapped_column(Boolean, default=False)

    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="budget", cascade="all, delete-orphan"
    )

    @classmethod
    def visible_to(cls, user):
        """Budgets are read by those who set, approve or monitor them (P6.1, P6.3)."""

        return true() if can(user, "expense.budget") or can(user, "expense.monitor") else false()


class BudgetLine(db.Model):
    """The amount for one category in one month of a budget."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        UniqueConstraint("budget_id", "category", "month", name="uq_budget_lines_cell"),
    )
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    month: Mapped[int] = mapped_column(Integer)  # 1..12
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    budget: Mapped[Budget] = relationship(back_populates="lines")


class BudgetAdjustment(db.Model):
    """A change to an approved budget's line, with its reason (never a silent overwrite)."""

    __tablename__ = "budget_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    month: Mapped[int] = mapped_column(Integer)
    old_amount: Mapped[Decimal] = mapped_column(Money)
    new_amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author = relationship("User")


class ExpenseClaim(
    VersionedMixin, ReviewedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model
):
    """报销申请 (P6.2). owner = the applicant."""

    __tablename__ = "expense_claims"
    __table_args__ = (
        Index("ix_expense_claims_cat_date", "category", "incurred_on"),
        Index("ix_expense_claims_status", "status"),
        # The claims list (migration 0004): its default order (newest first) walks
        # ix_expense_claims_list; a status filter walks ix_expense_claims_status_list in
        # the same order, and the totals by status are read from it alone (it covers
        # status, archived_at and amount). archived_at is not a leading column: nearly
        # every claim is unarchived, and SQLite without statistics would take it as selective.
        Index("ix_expense_claims_list", "incurred_on", "id"),
        Index(
            "ix_expense_claims_status_list", "status", "archived_at", "incurred_on", "id", "amount"
        ),
        # What a claim paid for (an activity's actual cost: link_type "activity").
        Index("ix_expense_claims_link", "link_type", "link_id"),
    )
    __fragment_versions__ = ("claims",)  # the cached claims list (core/fragments.py)
    __audited__ = True
    __audit_label__ = "number"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    incurred_on: Mapped[date] = mapped_column(Date)
    payment_method: Mapped[str] = mapped_column(String(20))
    payee_account: Mapped[str] = mapped_column(String(80), default="")
    invoice_number: Mapped[str] = mapped_column(String(60), default="", index=True)
    over_budget_reason: Mapped[str] = mapped_column(Text, default="")
    # What it paid for: a record of another chapter, by type name and id.
    link_type: Mapped[str] = mapped_column(String(40), default="")
    link_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # draft / pending / approved / rejected / withdrawn / paid
    status: Mapped[str] = mapped_column(String(20), default="draft")
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    payment_reference: Mapped[str] = mapped_column(String(80), default="")
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    paid_by = relationship("User", foreign_keys=[paid_by_id])

    @classmethod
    def visible_to(cls, user):
        """Record rule: one's own claims; a group leader the group's; the manager, executives
        and finance every claim (they approve and pay them); an administrator none."""

        return team_rule(cls.owner_id, user, {"marketing_manager", "executive", "finance"})


class ExpenseAnomaly(db.Model):
    """A spending anomaly found by the monitoring rules (P6.3), closed by a decision."""

    __tablename__ = "expense_anomalies"

    id: Mapped[int] = mapped_column(primary_key=True)
    # over_budget / pace / outlier / duplicate_invoice / split
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120), unique=True)  # one anomaly per finding
    year: Mapped[int] = mapped_column(Integer, index=True)
    category: Mapped[str] = mapped_column(String(20), default="")
    month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("expense_claims.id"), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # open / closed
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    claim = relationship("ExpenseClaim")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @classmethod
    def visible_to(cls, user):
        """Anomalies are for the people who monitor spending (P6.3)."""

        return true() if can(user, "expense.monitor") else false()
