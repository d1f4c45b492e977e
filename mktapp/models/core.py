"""Records kept by the core machinery: audit log, attachments, notifications, sign-in
throttling and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.extensions import db
from mktapp.models.base import UTCDateTime, utcnow


class AuditLog(db.Model):
    """One change to one business record: who, when, what, from what to what."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # insert / update / archive / restore / ...
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(Integer)
    record_label: Mapped[str] = mapped_column(String(200), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User", foreign_keys=[actor_id])


class Attachment(db.Model):
    """A stored upload, attached to any record by (record_type, record_id)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    uploaded_by = relationship("User")


class Notification(db.Model):
    """An in-app notification for one user, optionally linking to a record.

    A notice that asks for something (an approval step) names its task, e.g.
    "approval_step:42"; when the task is done the engine resolves every notice of
    that task, for everyone it addressed (resolved_at, and read_at if unread).

    A notice a job sends carries a key saying what it is about and which day
    ("followup:42:2026-12-07"): a user has at most one notice of a key, so a scan
    run twice (at once, or one after the other) tells nobody twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_task", "task"),
        UniqueConstraint("user_id", "once_key", name="uq_notifications_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(400), default="")
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    task: Mapped[str] = mapped_column(String(60), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What and which day, for a notice sent once per user (None: any number of times).
    once_key: Mapped[str | None] = mapped_column(String(120), nullable=True)

    user = relationship("User")


class LoginThrottle(db.Model):
    """Failed sign-ins counted per account (key "user:<name>") and per address ("addr:<ip>").

    auth.services.authenticate() locks an account's and an address's rows, reads the counts,
    reserves an attempt (counted as a failure until the password proves right) and commits
    before the password is checked: parallel guesses are checked one slot at a time. A row
    is forgotten once its last failure is old enough (LOGIN_MAX_DELAY_SECONDS, twice over).
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(150), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )


class UserSession(db.Model):
    """One signed-in browser. The cookie holds a random token; this row, keyed by the token's
    SHA-256, says whether it still counts: signing out, a password change or an administrator
    ends it (ended_at), and the user loader refuses a session that has ended or lay idle."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DocumentCounter(db.Model):
    """The last number used for a series of document numbers, e.g. BX-2026 -> 17."""

    __tablename__ = "document_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(40), unique=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DataVersion(db.Model):
    """A counter per group of tables, bumped in the same transaction as any change to
    them (core/fragments.py): rendered fragments are reused until it moves."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class FormSubmission(db.Model):
    """A form's one-time token, kept once the form was sent (core.actions): the same form
    sent again (a double click, a resend) gets the first answer instead of a second record."""

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    url: Mapped[str] = mapped_column(String(500), default="")
