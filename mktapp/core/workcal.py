"""The company working calendar (工作日历): every deadline in working time goes through here.

The calendar is the weekly working time (per weekday, intervals with breaks: by default
Monday to Friday 09:00-12:00 and 13:30-18:00), the statutory holidays and days off, and
the 调休 make-up working days (a Saturday or Sunday worked with the hours of a working
weekday, Monday's), in the company's time zone (core.clock.zone()).

- Calendar: the pure calculator (no database, no Flask). add_minutes(start, n) is the
  moment n working minutes after start; seconds_between / minutes_between count the
  working time between two moments. Working time is precomputed as the intervals of
  every day of a range of years (the years it knows special days of, and one either
  side), with the working time before each interval: a call is two bisections. Outside
  that range it walks day by day.
- company_calendar(): the company's Calendar from the tables (models/workcal.py), kept
  in the process per database and state of the tables (one query: their row counts,
  sums of ids and latest changes, so that a transaction rolled back, or a test's, never
  leaves a calendar another state would be served), and on flask.g for the rest of the
  request or command (dropped when the tables change or a transaction is rolled back).
- A year from last year to next year that has no row in calendar_days reads as the
  statutory calendar (the `holidays` package): a fresh database already knows 春节, and
  a GET never writes. seed_year() saves a year's statutory days as rows (the settings
  page's button, `flask calendar-seed`, and add_day() on a year without rows first, so
  that adding one day does not drop the year's holidays); saved rows are then the
  calendar for that year, and the administrator edits them.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from mktapp.core import clock
from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models.workcal import DAY_KINDS, CalendarDay, WorkHours, clock_time

Week = Mapping[int, list[tuple[time, time]]]

# Monday to Friday, 09:00-12:00 and 13:30-18:00 (the week when work_hours has no rows).
DEFAULT_WEEK: dict[int, list[tuple[time, time]]] = {
    day: ([(time(9, 0), time(12, 0)), (time(13, 30), time(18, 0))] if day < 5 else [])
    for day in range(7)
}
# The years around today that read as the statutory calendar while they have no rows.
STATUTORY_YEARS = (-1, 0, 1)
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
MAX_WALK_DAYS = 3700  # about ten years: a calendar without working time ends the search
NAME_MAX = 60

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_SECOND = 1_000_000  # microseconds
_DAY = timedelta(days=1)


class WorkCalendarError(DomainError):
    """A change to the working calendar that cannot be made (422; 404 for a missing day,
    409 for working hours changed by someone else meanwhile)."""


def _micros(moment: datetime) -> int:
    """An aware moment as microseconds since the epoch (exact)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the working calendar needs aware datetimes (with a time zone)")
    return (moment - _EPOCH) // _MICRO


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _normalised(week: Week) -> dict[int, tuple[tuple[int, int], ...]]:
    """The week as seconds of the day per weekday, sorted; ValueError for a bad interval."""
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for day in range(7):
        spans = sorted((_seconds(s), _seconds(e)) for s, e in (week.get(day) or ()))
        for k, (s, e) in enumerate(spans):
            if e <= s:
                raise ValueError(f"weekday {day}: an interval must end after it starts")
            if k and s < spans[k - 1][1]:
                raise ValueError(f"weekday {day}: intervals overlap")
        out[day] = tuple(spans)
    return out


@dataclass
class _Table:
    """Every working interval of the days first..last (UTC microseconds), in order, with
    the working time before each (cum) and up to its end (cum_end)."""

    first: date
    last: date
    lo: int  # local midnight starting `first`
    hi: int  # local midnight ending `last`
    starts: list[int]
    ends: list[int]
    cum: list[int]
    cum_end: list[int]


class Calendar:
    """The working calendar as a calculator (see the module). `week`: weekday (0 Monday)
    -> its working intervals [(start, end)]; `days_off`: dates not worked; `workdays`: 调休
    make-up days worked with Monday's hours (or the first working weekday's). A date in
    both is a day off."""

    def __init__(
        self,
        zone: ZoneInfo,
        week: Week,
        days_off: Iterable[date] = (),
        workdays: Iterable[date] = (),
    ):
        self.zone = zone
        self._week = _normalised(week)
        self.days_off = frozenset(days_off)
        self.workdays = frozenset(workdays) - self.days_off
        self._makeup = self._week[0] or next((s for s in self._week.values() if s), ())
        self._table: _Table | None = None
        self._lock = threading.Lock()

    # --- the days ----------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return bool(self._day_seconds(day))

    def _day_seconds(self, day: date) -> tuple[tuple[int, int], ...]:
        if day in self.days_off:
            return ()
        if day in self.workdays:
            return self._makeup
        return self._week[day.weekday()]

    def _spans(self, day: date) -> list[tuple[int, int]]:
        """The day's working intervals as UTC microseconds."""
        out = []
        for s, e in self._day_seconds(day):
            # Wall-clock times of that day in the zone (a DST change moves the UTC times).
            start = datetime.combine(day, time(s // 3600, s // 60 % 60, s % 60), tzinfo=self.zone)
            end = datetime.combine(day, time(e // 3600, e // 60 % 60, e % 60), tzinfo=self.zone)
            out.append((_micros(start), _micros(end)))
        return out

    # --- the precomputed range ---------------------------------------------------------

    def _range_around(self, moment: int) -> tuple[date, date]:
        special = self.days_off | self.workdays
        if special:
            return date(min(special).year - 1, 1, 1), date(max(special).year + 1, 12, 31)
        year = _moment(moment).astimezone(self.zone).year
        return date(year - 1, 1, 1), date(year + 1, 12, 31)

    def _tab(self, moment: int) -> _Table:
        table = self._table
        if table is None:
            with self._lock:
                if self._table is None:
                    self._table = self._build(*self._range_around(moment))
                table = self._table
        return table

    def _build(self, first: date, last: date) -> _Table:
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        day = first
        while day <= last:
            for s, e in self._spans(day):
                starts.append(s)
                ends.append(e)
                cum.append(total)
                total += e - s
                cum_end.append(total)
            day += _DAY
        lo = _micros(datetime.combine(first, time(0), tzinfo=self.zone))
        hi = _micros(datetime.combine(last + _DAY, time(0), tzinfo=self.zone))
        return _Table(first, last, lo, hi, starts, ends, cum, cum_end)

    # --- adding working time -----------------------------------------------------------

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment `minutes` working minutes after `start` (aware, any zone), in UTC.

        A start outside working time counts from the next working moment; a result at
        the end of an interval is that end (12:00, not 13:30). 0 minutes: start itself."""
        if minutes < 0:
            raise ValueError("working minutes to add cannot be negative")
        return self.add_seconds(start, minutes * 60)

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        """The moment `seconds` working seconds after `start` (as add_minutes)."""
        if seconds < 0:
            raise ValueError("working time to add cannot be negative")
        t = _micros(start)
        if seconds == 0:
            return start.astimezone(UTC)
        amount = seconds * _SECOND
        table = self._tab(t)
        if table.lo <= t:
            i = bisect_right(table.ends, t)  # the first interval ending after t
            if i < len(table.ends):
                s = table.starts[i]
                target = table.cum[i] + (t - s if t > s else 0) + amount
                if table.cum_end and target <= table.cum_end[-1]:
                    j = bisect_left(table.cum_end, target, i)
                    return _moment(table.starts[j] + target - table.cum[j])
        return _moment(self._walk_add(t, amount))

    def _walk_add(self, t: int, amount: int) -> int:
        day = _moment(t).astimezone(self.zone).date()
        for _ in range(MAX_WALK_DAYS):
            for s, e in self._spans(day):
                if e <= t:
                    continue
                s = max(s, t)
                if e - s >= amount:
                    return s + amount
                amount -= e - s
            day += _DAY
        raise ValueError("the working calendar has no working time in the next ten years")

    # --- counting working time ---------------------------------------------------------

    def seconds_between(self, a: datetime, b: datetime) -> int:
        """Working seconds in [a, b) (whole seconds); 0 when b is not after a."""
        ta, tb = _micros(a), _micros(b)
        if tb <= ta:
            return 0
        table = self._tab(ta)
        if table.lo <= ta and tb <= table.hi:
            return (self._position(table, tb) - self._position(table, ta)) // _SECOND
        return self._walk_between(ta, tb) // _SECOND

    def minutes_between(self, a: datetime, b: datetime) -> int:
        """Working minutes in [a, b) (whole minutes)."""
        return self.seconds_between(a, b) // 60

    @staticmethod
    def _position(table: _Table, t: int) -> int:
        """Working microseconds from the start of the table's range to t."""
        i = bisect_right(table.starts, t) - 1
        if i < 0:
            return 0
        return table.cum[i] + min(t, table.ends[i]) - table.starts[i]

    def _walk_between(self, ta: int, tb: int) -> int:
        day = _moment(ta).astimezone(self.zone).date()
        last = _moment(tb).astimezone(self.zone).date()
        total = 0
        while day <= last:
            for s, e in self._spans(day):
                lo, hi = max(s, ta), min(e, tb)
                if hi > lo:
                    total += hi - lo
            day += _DAY
        return total


# --- the statutory calendar (the `holidays` package) --------------------------------------


@dataclass(frozen=True)
class StatutoryDay:
    day: date
    kind: str  # "off" / "work"
    name: str
    source: str = "library"


_SUBSTITUTED = re.compile(r"^休息日（由 (\d{4}-\d{2}-\d{2}) 调休）$")
_SUFFIX = re.compile(r"（[^）]*）$")


@lru_cache(maxsize=32)
def statutory_days(year: int) -> tuple[StatutoryDay, ...]:
    """China's statutory days off and 调休 make-up working days of `year`, as the
    `holidays` package knows them (Chinese names), in date order. A year whose State
    Council notice the package does not have yet is its estimate by the rules, without
    make-up days."""
    import holidays  # noqa: PLC0415  (a large package: only when a year is needed)

    calendar = holidays.China(years=year, language="zh_CN")
    named = sorted(calendar.items())
    real = [(d, _SUFFIX.sub("", n)) for d, n in named if not _SUBSTITUTED.match(n)]

    def nearest(day: date) -> str:
        if not real:
            return ""
        return min(real, key=lambda item: (abs((item[0] - day).days), item[0]))[1]

    days: list[StatutoryDay] = []
    made_up: dict[date, str] = {}
    for day, name in named:
        found = _SUBSTITUTED.match(name)
        if found:
            base = nearest(day)
            made_up[date.fromisoformat(found.group(1))] = base
            name = f"{base}假期" if base else "休息日"
        days.append(StatutoryDay(day, "off", name[:NAME_MAX]))
    for day in sorted(d for d in calendar.weekend_workdays if d.year == year):
        base = made_up.get(day) or nearest(day)
        days.append(StatutoryDay(day, "work", f"{base}调休上班" if base else "调休上班"))
    return tuple(sorted(days, key=lambda d: d.day))


# --- the company's calendar ---------------------------------------------------------------

_CACHE_LIMIT = 16
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
_G_KEY = "_workcal_calendar"


def week_from_rows(rows: Iterable[WorkHours]) -> dict[int, list[tuple[time, time]]]:
    week: dict[int, list[tuple[time, time]]] = {day: [] for day in range(7)}
    for row in sorted(rows, key=lambda r: (r.weekday, r.start_minute)):
        week[row.weekday].append((_time(row.start_minute), _time(row.end_minute)))
    return week


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60) if minute < 1440 else time(23, 59)


def week_in_use() -> dict[int, list[tuple[time, time]]]:
    """The company's working week (the default while no hours were saved)."""
    rows = db.session.scalars(select(WorkHours)).all()
    return week_from_rows(rows) if rows else {d: list(s) for d, s in DEFAULT_WEEK.items()}


def week_fingerprint(week: Week) -> str:
    """A short digest of a week: an edit form carries the one it was read at."""
    text = ";".join(
        f"{d}:" + ",".join(f"{_minute(s)}-{_minute(e)}" for s, e in sorted(week.get(d) or ()))
        for d in range(7)
    )
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _database_key() -> str:
    bind = db.session.get_bind()
    return str(getattr(bind, "engine", bind).url)


def _state() -> tuple:
    """What the calendar tables hold, in short (one statement): per table the number of
    rows, the sum of their ids and the latest change."""
    parts = []
    for model in (CalendarDay, WorkHours):
        parts += [
            select(func.count(model.id)).scalar_subquery(),
            select(func.coalesce(func.sum(model.id), 0)).scalar_subquery(),
            select(func.max(model.updated_at)).scalar_subquery(),
        ]
    return tuple(db.session.execute(select(*parts)).one())


def company_calendar() -> Calendar:
    """The company's working calendar, as the tables hold it now (see the module)."""
    year = clock.today().year
    if has_app_context():
        found = g.get(_G_KEY)
        if found is not None and found[0] == year:
            return found[1]
    key = (_database_key(), _state(), year)
    with _cache_lock:
        calendar = _cache.get(key)
        if calendar is not None:
            _cache.move_to_end(key)
    if calendar is None:
        calendar = _build_company_calendar(year)
        with _cache_lock:
            _cache[key] = calendar
            while len(_cache) > _CACHE_LIMIT:
                _cache.popitem(last=False)
    if has_app_context():
        setattr(g, _G_KEY, (year, calendar))
    return calendar


def _build_company_calendar(year: int) -> Calendar:
    week = week_in_use()
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    saved_years = {day.year for day, _ in rows}
    off = {day for day, kind in rows if kind == "off"}
    work = {day for day, kind in rows if kind == "work"}
    for y in (year + k for k in STATUTORY_YEARS):
        if y not in saved_years:
            for d in statutory_days(y):
                (off if d.kind == "off" else work).add(d.day)
    return Calendar(clock.zone(), week, off, work)


def forget() -> None:
    """Drop the calendar kept for this request or command (the tables changed)."""
    if has_app_context():
        g.pop(_G_KEY, None)


def clear() -> None:
    """Forget every calendar kept in the process (tests, after emptying the database)."""
    forget()
    with _cache_lock:
        _cache.clear()


def _after_flush(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (WorkHours, CalendarDay)):
            forget()
            return


def _after_rollback(session: Session, _previous_transaction) -> None:
    forget()


def init_app(app) -> None:
    """The request's calendar is dropped when the tables change or a transaction is
    rolled back (called by workcal_views.setup)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Session, "after_soft_rollback", _after_rollback):
        event.listen(Session, "after_soft_rollback", _after_rollback)


def add_working_minutes(start: datetime, minutes: int) -> datetime:
    """The moment `minutes` working minutes after `start`, in UTC (company calendar)."""
    return company_calendar().add_minutes(start, minutes)


def add_working_seconds(start: datetime, seconds: int) -> datetime:
    """The moment `seconds` working seconds after `start`, in UTC (company calendar)."""
    return company_calendar().add_seconds(start, seconds)


def working_minutes_between(a: datetime, b: datetime) -> int:
    return company_calendar().minutes_between(a, b)


def working_seconds_between(a: datetime, b: datetime) -> int:
    return company_calendar().seconds_between(a, b)


# --- what the administrator changes ---------------------------------------------------------


def _check_year(year: int, field: str | None = "year") -> None:
    if not isinstance(year, int) or not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise WorkCalendarError(
            _l(
                "Choose a year between %(first)s and %(last)s.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            ),
            field,
        )


def saved_days(year: int) -> list[CalendarDay]:
    """The saved days of `year`, in date order."""
    return list(
        db.session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def reads_statutory(year: int) -> bool:
    """Whether `year` has no saved day and reads as the statutory calendar."""
    today_year = clock.today().year
    return year - today_year in STATUTORY_YEARS and not saved_days(year)


def saved_years() -> list[int]:
    """The years that have saved days, in order."""
    days = db.session.scalars(select(CalendarDay.day)).all()
    return sorted({d.year for d in days})


def seed_year(year: int, user=None) -> int:
    """Save `year`'s statutory days off and make-up days (the `holidays` package) that
    are not in the calendar yet (a date already there, by hand or not, is kept as it
    is). Returns how many days were added; 0 the second time."""
    _check_year(year)
    present = {d.day for d in saved_days(year)}
    added = 0
    for found in statutory_days(year):
        if found.day in present:
            continue
        db.session.add(
            CalendarDay(
                day=found.day,
                kind=found.kind,
                name=found.name,
                source="library",
                created_by_id=getattr(user, "id", None),
            )
        )
        added += 1
    db.session.flush()
    forget()
    return added


def add_day(user, day: date, kind: str, name: str) -> CalendarDay:
    """Add a day off ("off") or a 调休 make-up working day ("work"). A year without saved
    days gets its statutory days first (see the module). A date already in the calendar
    is refused: remove it first."""
    if kind not in DAY_KINDS:
        raise WorkCalendarError(_l("Choose a day off or a make-up working day."), "kind")
    if not isinstance(day, date):
        raise WorkCalendarError(_l("Enter the date."), "day")
    _check_year(day.year, "day")
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise WorkCalendarError(_l("Keep the name within %(n)s characters.", n=NAME_MAX), "name")
    year_days = saved_days(day.year)
    clash = next((d for d in year_days if d.day == day), None)
    if clash is not None:
        raise WorkCalendarError(
            _l(
                "%(date)s is already in the calendar (%(what)s). Remove it first to change it.",
                date=day.isoformat(),
                what=clash.name or DAY_KINDS.label(clash.kind),
            ),
            "day",
        )
    statutory = next((d for d in statutory_days(day.year) if d.day == day), None)
    if not year_days and statutory is not None:
        raise WorkCalendarError(
            _l(
                "%(date)s is already a statutory day (%(what)s). Save the statutory holidays "
                "of %(year)s first to change it.",
                date=day.isoformat(),
                what=statutory.name,
                year=day.year,
            ),
            "day",
        )
    if not year_days:
        seed_year(day.year, user)
    record = CalendarDay(
        day=day, kind=kind, name=name, source="manual", created_by_id=getattr(user, "id", None)
    )
    db.session.add(record)
    db.session.flush()
    forget()
    return record


def remove_day(user, day_id: int) -> None:
    """Take a day out of the calendar (the date is then an ordinary day of its weekday)."""
    record = db.session.get(CalendarDay, day_id)
    if record is None:
        raise WorkCalendarError(_l("There is no such day in the calendar."), status=404)
    db.session.delete(record)
    db.session.flush()
    forget()


def set_week(user, week: Week, expected: str | None = None) -> None:
    """Save the weekly working time: per weekday (0 Monday) its intervals, each ending
    after it starts, not overlapping, within the day, to the minute; the week must have
    some working time. `expected`: the week's fingerprint when the form was read (a save
    over someone else's change is refused with 409)."""
    problems: list[tuple[str | None, str]] = []
    clean: dict[int, list[tuple[int, int]]] = {}
    for weekday in range(7):
        spans = list(week.get(weekday) or ())
        minutes: list[tuple[int, int, int]] = []
        for k, (start, end) in enumerate(spans):
            if start.second or end.second or start.microsecond or end.microsecond:
                problems.append((f"days-{weekday}-start{k + 1}", str(_l("Whole minutes only."))))
                continue
            s, e = _minute(start), _minute(end)
            if e <= s:
                problems.append(
                    (f"days-{weekday}-end{k + 1}", str(_l("The end must be after the start.")))
                )
                continue
            minutes.append((s, e, k))
        minutes.sort()
        for (s0, e0, _k0), (s1, _e1, k1) in zip(minutes, minutes[1:], strict=False):
            if s1 < e0:
                problems.append(
                    (
                        f"days-{weekday}-start{k1 + 1}",
                        str(
                            _l(
                                "Overlaps %(start)s–%(end)s on the same day.",
                                start=clock_time(s0),
                                end=clock_time(e0),
                            )
                        ),
                    )
                )
        clean[weekday] = [(s, e) for s, e, _k in minutes]
    if not problems and not any(clean.values()):
        problems.append((None, str(_l("Give at least one day some working hours."))))
    if problems:
        raise WorkCalendarError(problems[0][1], problems[0][0], problems)
    current = week_in_use()
    if expected is not None and expected != week_fingerprint(current):
        raise WorkCalendarError(
            _l(
                "Someone changed the working hours after you opened this page, so nothing was "
                "saved. Save again to replace their hours with yours."
            ),
            status=409,
        )
    rows = {(r.weekday, r.start_minute): r for r in db.session.scalars(select(WorkHours))}
    wanted = {(d, s): e for d, spans in clean.items() for s, e in spans}
    for key, row in rows.items():
        if key not in wanted:
            db.session.delete(row)
        elif row.end_minute != wanted[key]:
            row.end_minute = wanted[key]
    for (weekday, start), end in sorted(wanted.items()):
        if (weekday, start) not in rows:
            db.session.add(WorkHours(weekday=weekday, start_minute=start, end_minute=end))
    db.session.flush()
    forget()
