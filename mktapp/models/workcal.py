"""The company working calendar (工作日历, DESIGN word WorkCalendar; core/workcal.py).

- WorkHours: the weekly working time, one row per working interval of a weekday
  (0 = Monday .. 6 = Sunday), from start_minute to end_minute after local midnight
  (09:00-12:00 is 540-720). No rows at all means the default week (core.workcal).
- CalendarDay: a date that is not an ordinary day of its weekday: "off" (a statutory
  holiday or another day off) or "work" (a 调休 make-up working day, worked with the
  hours of a working weekday). One row per date. source says whether it came from the
  statutory calendar (the `holidays` package) or was entered by the administrator.

Both are settings the administrator edits (audited); any change moves the "workcal"
data version (core/fragments.py), for cached fragments that show working-time deadlines.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import TimestampMixin

DAY_KINDS = Vocabulary(
    "calendar_day_kind",
    {"off": _l("Day off"), "work": _l("Make-up working day")},
    tag_class="daykind-{code}",
)
# The short tag of a day in the year's list: 休 / 班.
DAY_KIND_TAGS = Vocabulary(
    "calendar_day_tag",
    {"off": _l("Off"), "work": _l("Work")},
    tag_class="daykind-{code}",
)
DAY_SOURCES = Vocabulary(
    "calendar_day_source",
    {"library": _l("Statutory calendar"), "manual": _l("Entered by hand")},
)
WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def weekday_name(value) -> str:
    """0 -> 星期一 (a weekday number as its name; anything else as it is)."""
    if isinstance(value, int) and 0 <= value <= 6:
        return str(WEEKDAY_NAMES[value])
    return "" if value is None else str(value)


def clock_time(value) -> str:
    """540 -> 09:00 (minutes after midnight as a time of day)."""
    if not isinstance(value, int):
        return "" if value is None else str(value)
    return f"{value // 60:02d}:{value % 60:02d}"


class WorkHours(TimestampMixin, db.Model):
    """One working interval of a weekday (工作时间)."""

    __tablename__ = "work_hours"
    __table_args__ = (UniqueConstraint("weekday", "start_minute", name="uq_work_hours_start"),)
    __audited__ = True
    __audit_title__ = _l("Working hours")
    __audit_labels__ = {
        "weekday": _l("Weekday"),
        "start_minute": _l("Starts at"),
        "end_minute": _l("Ends at"),
    }
    __audit_values__ = {
        "weekday": weekday_name,
        "start_minute": clock_time,
        "end_minute": clock_time,
    }
    __fragment_versions__ = ("workcal",)

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    @property
    def label(self) -> str:
        return f"{weekday_name(self.weekday)} {clock_time(self.start_minute)}–{clock_time(self.end_minute)}"


class CalendarDay(TimestampMixin, db.Model):
    """A statutory holiday, a day off or a 调休 make-up working day (one per date)."""

    __tablename__ = "calendar_days"
    __audited__ = True
    __audit_label__ = "label"
    __audit_title__ = _l("Calendar day")
    __audit_labels__ = {
        "day": _l("Date"),
        "kind": _l("Kind of day"),
        "name": _l("Name"),
        "source": _l("Source"),
        "created_by_id": _l("Entered by"),
    }
    __audit_values__ = {"kind": DAY_KINDS, "source": DAY_SOURCES}
    __fragment_versions__ = ("workcal",)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(10), default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} {self.name}".strip()
