"""After-sales quality (P5.4): the improvement actions the service leader records for a
department or a person whose figures fell below the standard, followed up in the next
period's figures (mktapp/service/quality.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import can
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import OwnedMixin, TimestampMixin, UTCDateTime, VersionedMixin

# The figures an action is taken on: the two on-time rates (percent) and satisfaction
# (the mean rating, 1–5).
IMPROVEMENT_FIGURES = Vocabulary(
    "improvement_figure",
    {
        "response": _l("On-time response rate"),
        "resolution": _l("On-time resolution rate"),
        "satisfaction": _l("Satisfaction"),
    },
    tag_class="tag-muted",
)
IMPROVEMENT_STATUSES = Vocabulary(
    "improvement_status",
    {
        "open": _l("Open"),
        "done": _l("Done"),
    },
)


class ServiceImprovement(VersionedMixin, OwnedMixin, TimestampMixin, db.Model):
    """整改措施: what is done about a department (department_id) or a person (user_id)
    below the standard in one figure; owner: who carries it out, by due_on."""

    __tablename__ = "service_improvements"
    __table_args__ = (Index("ix_service_improvements_status", "status", "due_on"),)
    __audited__ = True
    __audit_title__ = _l("Improvement action")
    __audit_label__ = "subject_label"
    __audit_values__ = {"figure": IMPROVEMENT_FIGURES, "status": IMPROVEMENT_STATUSES}
    __audit_labels__ = {
        "department_id": _l("Department"),
        "user_id": _l("Person"),
        "figure": _l("Figure"),
        "value_then": _l("Value then"),
        "period_start": _l("Period from"),
        "period_end": _l("Period to"),
        "action": _l("Action to take"),
        "done_note": _l("Outcome"),
        "done_at": _l("Done at"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    # The subject: a department or a person (one of the two).
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_departments.id"), nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    figure: Mapped[str] = mapped_column(String(20))
    # The figure when the action was recorded (a percent, or a rating) and its months
    # (first day of the first and of the last month).
    value_then: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    done_note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    department = relationship("ServiceDepartment", lazy="joined")
    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def subject_label(self) -> str:
        if self.department is not None:
            return self.department.name
        return self.user.display_name if self.user is not None else ""

    @classmethod
    def visible_to(cls, user):
        """Those who read the quality figures see every action; anyone else the actions
        they carry out."""
        if can(user, "service.quality"):
            return true()
        return cls.owner_id == user.id
