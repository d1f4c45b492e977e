"""Shared column helpers and mixins for every chapter's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, Numeric
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from mktapp.core import clock
from mktapp.extensions import db

# Money columns: yuan with two decimals, below a trillion (core/money.py reads and checks it).
Money = Numeric(14, 2)


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware (stored as UTC everywhere)."""
    return clock.now()


class UTCDateTime(db.TypeDecorator):
    """A DateTime stored as naive UTC and always read back as aware UTC.

    SQLite drops time zones; this keeps both databases returning the same thing.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ReviewedMixin:
    """A document the approval engine reviews: the times it was submitted and approved
    (stamped by the engine, core/approvals.Review); its status is the model's own."""

    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class VersionedMixin:
    """A record people edit. Its row_version goes up by one with every change the ORM
    writes (SQLAlchemy's version_id_col; not "version", which a contract or a policy has
    of its own), and a write made against an older row fails with StaleDataError, which
    core.actions answers with 409. Edit forms carry the version they were read at
    (core.forms.AppForm), so that a save over someone else's change is refused with their
    name and the fields that differ instead of overwriting it."""

    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.__table__.c.row_version}


class ArchivableMixin:
    """Business records are archived, never deleted."""

    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class OwnedMixin:
    """A record that belongs to one user; the record rules in core.permissions use owner_id."""

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(Integer, ForeignKey("users.id"), index=True, nullable=True)

    @declared_attr
    def owner(cls):  # noqa: N805
        return db.relationship("User", foreign_keys=[cls.owner_id], lazy="joined")
