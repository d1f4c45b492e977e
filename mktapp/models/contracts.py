"""Sales contracts (P4.3): 销售合同, their lines, milestones, versions and amendments.

The terms a contract carries (lines, delivery dates, instalments, after-sales and
other terms) are its rows here; each signed or amended state is kept as a JSON
snapshot in ContractVersion, so any two versions can be compared. Milestones are
both terms (planned date and amount) and execution (actual date and amount).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import team_rule
from mktapp.extensions import db
from mktapp.models.base import (
    Money,
    OwnedMixin,
    ReviewedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)


def _contract_rule(column, user):
    """Who sees a contract: the manager, executives, service staff and finance all;
    a 业务组 leader the group's; a rep their own; anyone else none."""

    return team_rule(
        column,
        user,
        sees_all={"marketing_manager", "executive", "service_agent", "finance"},
        owners={"sales_rep"},
    )


class Contract(VersionedMixin, ReviewedMixin, OwnedMixin, TimestampMixin, db.Model):
    """销售合同. owner = the sales rep who drafted it. status moves only in contracts.services."""

    __tablename__ = "contracts"
    __table_args__ = (
        Index("ix_contracts_list", "status", "updated_at", "id"),
        Index("ix_contracts_owner_list", "owner_id", "updated_at", "id"),
    )
    __audited__ = True
    __audit_label__ = "number"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="draft")
    draft_date: Mapped[date] = mapped_column(Date)
    # Percent, e.g. 13.00
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("13.00"))
    amount_excl_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    payment_method: Mapped[str] = mapped_column(String(200), default="")
    after_sales_terms: Mapped[str] = mapped_column(Text, default="")
    other_terms: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    signed_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"), nullable=True)
    execution_started_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    archive_no: Mapped[str] = mapped_column(String(40), default="")
    archive_location: Mapped[str] = mapped_column(String(200), default="")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    customer = relationship("Customer", lazy="joined")
    opportunity = relationship("Opportunity")
    signed_by = relationship("User", foreign_keys=[signed_by_id])
    archived_by = relationship("User", foreign_keys=[archived_by_id])
    scan = relationship("Attachment", foreign_keys=[scan_id])
    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract", order_by="ContractLine.seq", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[ContractMilestone]] = relationship(
        back_populates="contract",
        order_by="(ContractMilestone.kind, ContractMilestone.seq)",
        cascade="all, delete-orphan",
    )
    versions: Mapped[list[ContractVersion]] = relationship(
        back_populates="contract", order_by="ContractVersion.version"
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @classmethod
    def visible_to(cls, user):
        return _contract_rule(cls.owner_id, user)


class ContractLine(db.Model):
    """One line of a contract: a product or service, its specification, quantity and price."""

    __tablename__ = "contract_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    contract: Mapped[Contract] = relationship(back_populates="lines")


class ContractMilestone(VersionedMixin, db.Model):
    """A delivery date or a payment instalment: planned (the terms) and actual (execution).

    overdue_notified_on keeps the overdue notice from being sent twice.
    """

    __tablename__ = "contract_milestones"
    __table_args__ = (Index("ix_contract_milestones_due", "actual_date", "planned_date"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # delivery / payment
    seq: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(String(200), default="")
    planned_date: Mapped[date] = mapped_column(Date)
    planned_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    actual_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    actual_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    overdue_notified_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    contract: Mapped[Contract] = relationship(back_populates="milestones")
    recorded_by = relationship("User")

    @property
    def done(self) -> bool:
        return self.actual_date is not None

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(
            db.select(Contract.id).where(Contract.visible_to(user)).scalar_subquery()
        )


class ContractVersion(db.Model):
    """The terms of a contract as signed (version 1) or after an amendment (2, 3 ...)."""

    __tablename__ = "contract_versions"
    __table_args__ = (
        Index("ix_contract_versions_contract", "contract_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    version: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict] = mapped_column(JSON)
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("contract_amendments.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    contract: Mapped[Contract] = relationship(back_populates="versions")
    amendment = relationship("ContractAmendment", foreign_keys=[amendment_id])
    created_by = relationship("User")


class ContractAmendment(OwnedMixin, TimestampMixin, db.Model):
    """合同变更: the changed terms (a snapshot) and the reason, approved through the engine.

    owner = who asked for the change. On approval the terms become a new version.
    """

    __tablename__ = "contract_amendments"
    __audited__ = True
    __audit_label__ = "number"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    terms: Mapped[dict] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    from_version: Mapped[int] = mapped_column(Integer, default=1)
    to_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    contract: Mapped[Contract] = relationship(foreign_keys=[contract_id])

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(
            db.select(Contract.id).where(Contract.visible_to(user)).scalar_subquery()
        )
