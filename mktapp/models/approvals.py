"""The approval engine's records (core): requests, their steps, the timeline; and settings.

A document (an expense claim, a budget, later contracts and plans) is named by
(doc_type, doc_id); the engine knows no chapter. Each submission is one
ApprovalRequest (a "round"); rejected documents are resubmitted as a new round,
so the history keeps every round.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.extensions import db
from mktapp.models.base import UTCDateTime, utcnow


class ApprovalRequest(db.Model):
    """One round of approval for one document."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_doc", "doc_type", "doc_id"),
        UniqueConstraint("doc_type", "doc_id", "round", name="uq_approval_requests_round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)
    # pending / approved / rejected / withdrawn
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    applicant = relationship("User", foreign_keys=[applicant_id])
    steps: Mapped[list[ApprovalStep]] = relationship(
        back_populates="request", order_by="ApprovalStep.seq", cascade="all, delete-orphan"
    )


class ApprovalStep(db.Model):
    """One step of a round: who may decide (a user, or a role pool) and what they decided."""

    __tablename__ = "approval_steps"
    __table_args__ = (
        Index("ix_approval_steps_open_user", "status", "assignee_user_id"),
        Index("ix_approval_steps_open_role", "status", "assignee_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))  # the flow's step code, e.g. "finance"
    # waiting (not reached yet) / pending (current) / approved / rejected / skipped / cancelled
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    # Who decides: one user, or anyone holding a role (never the applicant).
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assignee_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    escalated_from: Mapped[str] = mapped_column(String(40), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[ApprovalRequest] = relationship(back_populates="steps")
    assignee_user = relationship("User", foreign_keys=[assignee_user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class ApprovalEvent(db.Model):
    """The timeline of a document: submit, approve, reject, withdraw, comment, skip."""

    __tablename__ = "approval_events"
    __table_args__ = (Index("ix_approval_events_doc", "doc_type", "doc_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    step_code: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User", foreign_keys=[actor_id])


class Setting(db.Model):
    """A company setting the administrator may change (thresholds, switches)."""

    __tablename__ = "settings"
    __audited__ = True
    __audit_label__ = "key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    value: Mapped[str] = mapped_column(Text, default="")
