"""Customer development (P4.1): customers, contacts, opportunities, follow-ups, products.

Contracts (P4.3) live in models/contracts.py. Every choice is stored by code; the
labels are English msgids shown translated.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import team_rule
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import (
    ArchivableMixin,
    Money,
    OwnedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)

CUSTOMER_KINDS = Vocabulary(
    "customer_kind",
    {
        "company": _l("Company"),
        "individual": _l("Individual"),
    },
    tag_class="",
)

# 客户分级 A/B/C
CUSTOMER_GRADES: dict[str, object] = {"A": "A", "B": "B", "C": "C"}

# 潜在 / 意向 / 成交 / 流失
CUSTOMER_STATUSES = Vocabulary(
    "customer_status",
    {
        "potential": _l("Potential"),
        "intent": _l("Interested"),
        "won": _l("Deal closed"),
        "lost": _l("Lost"),
    },
    tag_class="cstatus-{code}",
)

# 线索来源 (P4.1 step 1)
LEAD_SOURCES = Vocabulary(
    "customer_source",
    {
        "research": _l("Market research lead"),
        "fair": _l("Trade-show card"),
        "web": _l("Web search"),
        "referral": _l("Customer referral"),
        "activity": _l("Market activity"),
        "ads": _l("Advertising campaign"),
        "other": _l("Other"),
    },
    tag_class="",
)

COMPANY_SIZES = Vocabulary(
    "customer_size",
    {
        "micro": _l("Under 20 staff"),
        "small": _l("20–99 staff"),
        "medium": _l("100–499 staff"),
        "large": _l("500 staff or more"),
    },
    tag_class="",
)

# The five stages of P4.1, then won or lost. Default probability per stage (percent).
OPPORTUNITY_STAGES = Vocabulary(
    "stage",
    {
        "prospect": _l("Prospecting"),
        "contact": _l("First contact"),
        "needs": _l("Needs analysis"),
        "proposal": _l("Demo & proposal"),
        "negotiation": _l("Negotiation & signing"),
        "won": _l("Won"),
        "lost": _l("Deal lost"),
    },
    tag_class="stage-{code}",
)
OPEN_STAGES: tuple[str, ...] = ("prospect", "contact", "needs", "proposal", "negotiation")
STAGE_PROBABILITY: dict[str, int] = {
    "prospect": 10,
    "contact": 20,
    "needs": 40,
    "proposal": 60,
    "negotiation": 80,
    "won": 100,
    "lost": 0,
}

INTERACTION_KINDS = Vocabulary(
    "followup_kind",
    {
        "call": _l("Phone call"),
        "visit": _l("Visit"),
        "email": _l("E-mail"),
        "wechat": _l("WeChat"),
        "demo": _l("Demo"),
        "meeting": _l("Meeting"),
    },
    tag_class="",
)


# Roles that read every customer and opportunity (they hand leads, follow up, approve).
ALL_SALES_READERS = frozenset(
    {"marketing_manager", "executive", "market_specialist", "service_agent"}
)


class Customer(VersionedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """客户: a company or a person. owner = the sales rep; no owner = in the shared pool."""

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_list", "archived_at", "updated_at", "id"),
        Index("ix_customers_owner_list", "owner_id", "archived_at", "updated_at", "id"),
    )
    __fragment_versions__ = ("customers",)  # the cached customer list (core/fragments)
    __audited__ = True
    __audit_label__ = "name"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name folded for duplicate checks (case, spaces, punctuation and 有限公司-style
    # suffixes removed), kept by the service that saves a customer.
    name_key: Mapped[str] = mapped_column(String(200), index=True, default="")
    kind: Mapped[str] = mapped_column(String(20), default="company")
    industry: Mapped[str] = mapped_column(String(80), default="")
    size: Mapped[str] = mapped_column(String(20), default="")
    province: Mapped[str] = mapped_column(String(40), default="", index=True)
    city: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    grade: Mapped[str] = mapped_column(String(1), default="C", index=True)
    status: Mapped[str] = mapped_column(String(20), default="potential", index=True)
    source: Mapped[str] = mapped_column(String(20), default="other", index=True)
    # Which fair, who referred, which search ...
    source_detail: Mapped[str] = mapped_column(String(200), default="")
    # When the source is a market activity (brand chapter): its id.
    source_activity_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when merged into another customer (the survivor); the record is then archived.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)

    created_by = relationship("User", foreign_keys=[created_by_id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by="Contact.id", cascade="all, delete-orphan"
    )

    @classmethod
    def visible_to(cls, user):
        """Record rule: the manager, executives, market specialists and service staff see
        every customer; a 业务组 leader the group's and the pool; a rep their own and the
        pool (customers with no owner); an administrator none."""

        rule = team_rule(cls.owner_id, user, ALL_SALES_READERS, owners={"sales_rep"})
        if "sales_rep" not in user.role_codes or user.role_codes & ALL_SALES_READERS:
            return rule
        return or_(rule, cls.owner_id.is_(None))


class Contact(VersionedMixin, TimestampMixin, db.Model):
    """联系人 of a customer."""

    __tablename__ = "contacts"
    __fragment_versions__ = ("customers",)  # the cached customer list (core/fragments)
    __audited__ = True
    __audit_label__ = "name"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Digits only, for duplicate checks.
    phone_key: Mapped[str] = mapped_column(String(40), default="", index=True)
    email: Mapped[str] = mapped_column(String(120), default="")
    wechat: Mapped[str] = mapped_column(String(80), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Product(VersionedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """产品: list price and unit cost (the cost gives profit for the sales appraisal)."""

    __tablename__ = "products"
    __audited__ = True
    __audit_label__ = "name"
    __audit_title__ = _l("Product")
    __audit_labels__ = {
        "code": _l("Product code"),
        "specification": _l("Specification"),
        "unit": _l("Unit"),
        "list_price": _l("List price"),
        "unit_cost": _l("Unit cost"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    specification: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    list_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    unit_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    description: Mapped[str] = mapped_column(Text, default="")


class Opportunity(VersionedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """商机 moving through the five stages of P4.1. owner = the sales rep."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_stage", "stage", "archived_at", "owner_id"),
        Index("ix_opportunities_customer", "customer_id", "created_at"),
    )
    __audited__ = True
    __audit_label__ = "title"
    __audit_title__ = _l("Opportunity")
    __audit_labels__ = {
        "stage": _l("Stage"),
        "probability": _l("Probability (%)"),
        "expected_close": _l("Expected close"),
        "next_step": _l("Next step"),
        "lost_reason": _l("Lost reason"),
        "stage_changed_at": _l("Stage changed at"),
        "closed_at": _l("Closed at"),
    }
    __audit_values__ = {"stage": OPPORTUNITY_STAGES}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20), default="prospect")
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    probability: Mapped[int] = mapped_column(Integer, default=10)
    expected_close: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_step: Mapped[str] = mapped_column(String(300), default="")
    lost_reason: Mapped[str] = mapped_column(Text, default="")
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer: Mapped[Customer] = relationship(lazy="joined")
    stage_changes: Mapped[list[OpportunityStageChange]] = relationship(
        back_populates="opportunity", order_by="OpportunityStageChange.at"
    )

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @classmethod
    def visible_to(cls, user):
        """Record rule: one's own; a 业务组 leader the group's; the manager and executives
        all; market specialists and service staff all (read)."""

        return team_rule(cls.owner_id, user, ALL_SALES_READERS, owners={"sales_rep"})


class OpportunityStageChange(db.Model):
    """One move of an opportunity between stages: the stage history and time in stage."""

    __tablename__ = "opportunity_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(20), default="")
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    opportunity: Mapped[Opportunity] = relationship(back_populates="stage_changes")
    by = relationship("User")


class Interaction(VersionedMixin, OwnedMixin, TimestampMixin, db.Model):
    """跟进记录: a call, visit, e-mail ... with the customer. owner = who followed up.

    next_date becomes a reminder (notification) to the owner on that day; reminded_on
    keeps it from being sent twice.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer", "customer_id", "happened_at", "id"),
        Index("ix_interactions_next", "next_date", "reminded_on"),
    )
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id"), nullable=True, index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="call")
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
    next_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_action: Mapped[str] = mapped_column(String(300), default="")
    reminded_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    contact: Mapped[Contact | None] = relationship()

    @classmethod
    def visible_to(cls, user):
        """A follow-up is seen by whoever may see its customer."""
        return cls.customer_id.in_(
            db.select(Customer.id).where(Customer.visible_to(user)).scalar_subquery()
        )
