"""The company working calendar (core/workcal.py): adding and counting working time.

The calculator is checked against a brute-force minute walk (hypothesis), on a calendar
with a lunch break, nights, weekends, the 春节 week off and 调休 Saturdays, inside the
range it precomputes and outside it (where it walks day by day). The dates are fixed
(2026's statutory calendar): these tests do not depend on the frozen day. The company
calendar built from the database is checked at the end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mktapp.core import clock, workcal
from mktapp.core.workcal import DEFAULT_WEEK, Calendar, WorkCalendarError
from mktapp.extensions import db
from mktapp.models import CalendarDay, User

ZONE = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)

# 2026 by the State Council's notice: 春节 Feb 15-23 (weekdays off Feb 16-20 and 23),
# worked on Saturday Feb 14 and Saturday Feb 28; 元旦 Jan 1-3, worked on Sunday Jan 4.
SPRING_OFF = [date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)]
OFF = [date(2026, 1, 1), date(2026, 1, 2), *SPRING_OFF]
WORK = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28)]

# A second week: an early shift, a late one ending near midnight, a Saturday morning.
SHIFTS = {
    0: [(time(6, 0), time(7, 30)), (time(9, 15), time(11, 45)), (time(20, 0), time(23, 50))],
    1: [(time(9, 0), time(17, 0))],
    2: [(time(9, 0), time(17, 0))],
    3: [],
    4: [(time(13, 0), time(13, 1)), (time(14, 0), time(18, 0))],
    5: [(time(9, 0), time(12, 0))],
    6: [],
}


def calendar(week=DEFAULT_WEEK) -> Calendar:
    return Calendar(ZONE, week, OFF, WORK)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZONE)


# --- the brute force: one minute at a time ------------------------------------------------


def day_spans(week, day: date) -> list[tuple[int, int]]:
    if day in OFF:
        return []
    hours = week[0] if day in WORK else week[day.weekday()]
    return [(s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in hours]


def working(week, moment: datetime) -> bool:
    m = moment.hour * 60 + moment.minute
    return any(s <= m < e for s, e in day_spans(week, moment.date()))


def brute_add(week, start: datetime, minutes: int) -> datetime:
    """Walk minute by minute from a local start (on the minute), counting working ones."""
    t = start.replace(tzinfo=None)
    if minutes == 0:
        return start
    while True:
        if working(week, t):
            minutes -= 1
            t += MINUTE
            if minutes == 0:
                return t.replace(tzinfo=ZONE)
        else:
            t += MINUTE


def brute_between(week, a: datetime, b: datetime) -> int:
    t, end = a.replace(tzinfo=None), b.replace(tzinfo=None)
    count = 0
    while t < end:
        count += working(week, t)
        t += MINUTE
    return count


BASE = datetime(2026, 1, 20)  # local; the span covers 春节 and both 调休 Saturdays
SPAN_MINUTES = 55 * 24 * 60

starts = st.integers(0, SPAN_MINUTES).map(lambda k: (BASE + k * MINUTE).replace(tzinfo=ZONE))
weeks = st.sampled_from([DEFAULT_WEEK, SHIFTS])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(week=weeks, start=starts, minutes=st.integers(0, 2400))
def test_adding_working_minutes_agrees_with_a_minute_walk(week, start, minutes):
    got = calendar(week).add_minutes(start, minutes)
    assert got.tzinfo is UTC
    assert got == brute_add(week, start, minutes)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(week=weeks, start=starts, length=st.integers(0, 12 * 24 * 60))
def test_counting_working_minutes_agrees_with_a_minute_walk(week, start, length):
    end = start + length * MINUTE
    cal = calendar(week)
    assert cal.minutes_between(start, end) == brute_between(week, start, end)
    assert cal.minutes_between(end, start) == 0


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    week=weeks,
    start=starts,
    seconds=st.integers(0, 59),
    minutes=st.integers(1, 3000),
)
def test_counting_back_what_was_added_gives_the_same_minutes(week, start, seconds, minutes):
    cal = calendar(week)
    start = start + timedelta(seconds=seconds)
    end = cal.add_minutes(start, minutes)
    assert cal.seconds_between(start, end) == minutes * 60
    assert cal.minutes_between(start, end) == minutes


# Far from 2026 (the range the calendar precomputes is 2025-2027): the day walk.
far_starts = st.sampled_from([datetime(2023, 3, 1), datetime(2027, 12, 20), datetime(2031, 6, 2)])


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    week=weeks,
    base=far_starts,
    offset=st.integers(0, 20 * 24 * 60),
    minutes=st.integers(0, 2400),
    length=st.integers(0, 6 * 24 * 60),
)
def test_outside_the_precomputed_years_the_walk_agrees_too(week, base, offset, minutes, length):
    start = (base + offset * MINUTE).replace(tzinfo=ZONE)
    cal = calendar(week)
    assert cal.add_minutes(start, minutes) == brute_add(week, start, minutes)
    end = start + length * MINUTE
    assert cal.minutes_between(start, end) == brute_between(week, start, end)


# --- examples ------------------------------------------------------------------------


def test_friday_evening_before_a_make_up_saturday_lands_on_saturday():
    # Friday 2026-02-13 17:30 + 60 working minutes: 30 on Friday, 30 on the 调休 Saturday.
    due = calendar().add_minutes(local(2026, 2, 13, 17, 30), 60)
    assert due == local(2026, 2, 14, 9, 30)
    assert due.astimezone(ZONE).isoformat() == "2026-02-14T09:30:00+08:00"


def test_the_spring_festival_week_is_skipped():
    # Saturday 2026-02-14 17:30 + 60: 30 minutes that day, then nothing until Tuesday 24th.
    assert calendar().add_minutes(local(2026, 2, 14, 17, 30), 60) == local(2026, 2, 24, 9, 30)


def test_before_lunch_plus_twenty_minutes_is_after_lunch():
    assert calendar().add_minutes(local(2026, 3, 2, 11, 50), 20) == local(2026, 3, 2, 13, 40)


def test_a_result_at_the_end_of_a_period_is_that_end():
    assert calendar().add_minutes(local(2026, 3, 2, 11, 50), 10) == local(2026, 3, 2, 12, 0)
    assert calendar().add_minutes(local(2026, 3, 2, 17, 0), 60) == local(2026, 3, 2, 18, 0)


def test_counting_across_lunch_leaves_the_break_out():
    cal = calendar()
    assert cal.minutes_between(local(2026, 3, 2, 11, 0), local(2026, 3, 2, 14, 0)) == 90
    assert cal.seconds_between(local(2026, 3, 2, 11, 59, 30), local(2026, 3, 2, 13, 30, 15)) == 45


def test_a_start_at_night_counts_from_the_next_morning():
    assert calendar().add_minutes(local(2026, 3, 2, 22, 0), 30) == local(2026, 3, 3, 9, 30)
    # Friday night: the weekend is skipped.
    assert calendar().add_minutes(local(2026, 3, 6, 23, 0), 30) == local(2026, 3, 9, 9, 30)


def test_the_seconds_of_the_start_are_kept():
    cal = calendar()
    assert cal.add_minutes(local(2026, 3, 2, 9, 0, 37), 10) == local(2026, 3, 2, 9, 10, 37)
    assert cal.add_minutes(local(2026, 3, 2, 11, 59, 30), 1) == local(2026, 3, 2, 13, 30, 30)


def test_seconds_of_working_time_skip_the_break_too():
    cal = calendar()
    assert cal.add_seconds(local(2026, 3, 2, 11, 59, 0), 90) == local(2026, 3, 2, 13, 30, 30)
    assert cal.add_seconds(local(2026, 3, 2, 11, 59, 0), 60) == local(2026, 3, 2, 12, 0, 0)


def test_zero_minutes_is_the_start_itself_and_negative_is_refused():
    night = local(2026, 3, 2, 23, 0)
    assert calendar().add_minutes(night, 0) == night
    assert calendar().add_minutes(night, 0).tzinfo is UTC
    with pytest.raises(ValueError):
        calendar().add_minutes(night, -1)
    with pytest.raises(ValueError):
        calendar().add_minutes(datetime(2026, 3, 2, 9, 0), 5)  # naive


def test_a_start_in_another_zone_is_the_same_moment():
    start = local(2026, 2, 13, 17, 30)
    assert calendar().add_minutes(start.astimezone(UTC), 60) == calendar().add_minutes(start, 60)


def test_working_days_follow_holidays_and_make_up_days():
    cal = calendar()
    assert cal.is_working_day(date(2026, 2, 14))  # 调休 Saturday
    assert not cal.is_working_day(date(2026, 2, 15))  # Sunday
    assert not cal.is_working_day(date(2026, 2, 17))  # 春节
    assert cal.is_working_day(date(2026, 2, 24))


def test_a_calendar_without_working_time_gives_up():
    with pytest.raises(ValueError):
        Calendar(ZONE, {}).add_minutes(local(2026, 3, 2, 9, 0), 1)


def test_overlapping_or_backwards_periods_are_refused():
    with pytest.raises(ValueError):
        Calendar(ZONE, {0: [(time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))]})
    with pytest.raises(ValueError):
        Calendar(ZONE, {0: [(time(12, 0), time(9, 0))]})


# --- the statutory calendar ------------------------------------------------------------


def test_the_statutory_2026_calendar_matches_the_state_council_notice():
    days = workcal.statutory_days(2026)
    weekdays_off = {d.day for d in days if d.kind == "off" and d.day.weekday() < 5}
    expected_off = {
        date(2026, 1, 1),
        date(2026, 1, 2),  # 元旦 Jan 1-3
        *SPRING_OFF,  # 春节 Feb 15-23
        date(2026, 4, 6),  # 清明 Apr 4-6
        date(2026, 5, 1),
        date(2026, 5, 4),
        date(2026, 5, 5),  # 劳动节 May 1-5
        date(2026, 6, 19),  # 端午 Jun 19-21
        date(2026, 9, 25),  # 中秋 Sep 25-27
        *(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),  # 国庆 Oct 1-7
    }
    assert weekdays_off == expected_off
    make_up = {d.day: d.name for d in days if d.kind == "work"}
    assert sorted(make_up) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert make_up[date(2026, 2, 14)] == "春节调休上班"
    assert all(d.name for d in days)


# --- the company's calendar, from the database ---------------------------------------------


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def _days(year: int) -> int:
    return db.session.scalar(
        select(func.count(CalendarDay.id)).where(func.extract("year", CalendarDay.day) == year)
    )


def test_a_fresh_database_knows_this_years_statutory_holidays_without_writing(ctx):
    year = clock.today().year
    first_off = next(d.day for d in workcal.statutory_days(year) if d.kind == "off")
    cal = workcal.company_calendar()
    assert not cal.is_working_day(first_off)
    assert db.session.scalar(select(func.count(CalendarDay.id))) == 0


def test_seeding_a_year_twice_adds_nothing_the_second_time(ctx):
    added = workcal.seed_year(2026)
    assert added == len(workcal.statutory_days(2026)) and _days(2026) == added
    assert workcal.seed_year(2026) == 0
    assert _days(2026) == added
    sources = set(db.session.scalars(select(CalendarDay.source)))
    assert sources == {"library"}


def test_a_day_added_or_removed_changes_the_deadlines_at_once(ctx):
    workcal.seed_year(2026)
    friday = local(2026, 3, 6, 17, 30)
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 9, 9, 30)
    admin = db.session.scalar(select(User).limit(1))
    saturday = workcal.add_day(admin, date(2026, 3, 7), "work", "测试调休")
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 7, 9, 30)
    workcal.remove_day(admin, saturday.id)
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 9, 9, 30)
    monday = workcal.add_day(None, date(2026, 3, 9), "off", "")
    assert monday.source == "manual"
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 10, 9, 30)
    assert workcal.working_minutes_between(friday, local(2026, 3, 10, 9, 30)) == 60
    assert workcal.working_seconds_between(friday, local(2026, 3, 10, 9, 30)) == 3600


def test_adding_a_day_to_a_year_without_days_saves_its_statutory_days_first(ctx):
    workcal.add_day(None, date(2026, 12, 31), "off", "年终盘点")
    assert _days(2026) == len(workcal.statutory_days(2026)) + 1


def test_a_date_already_in_the_calendar_is_refused(ctx):
    workcal.seed_year(2026)
    with pytest.raises(WorkCalendarError) as refused:
        workcal.add_day(None, date(2026, 2, 17), "work", "")
    assert refused.value.field == "day" and refused.value.status == 422
    assert "春节" in refused.value.message
    with pytest.raises(WorkCalendarError) as refused:
        workcal.add_day(None, date(2026, 3, 3), "holiday", "")
    assert refused.value.field == "kind"


def test_the_week_saved_is_the_week_counted(ctx):
    week = {d: list(s) for d, s in DEFAULT_WEEK.items()}
    week[5] = [(time(9, 0), time(12, 0))]  # Saturday mornings
    workcal.set_week(None, week, expected=workcal.week_fingerprint(workcal.week_in_use()))
    assert workcal.week_in_use() == week
    # A Saturday that is no holiday in any year's statutory calendar around it.
    saturday = next(
        local(2026, 3, d, 11, 0) for d in range(1, 32) if date(2026, 3, d).weekday() == 5
    )
    assert workcal.add_working_minutes(saturday, 60) == saturday + timedelta(hours=1)


def test_a_bad_week_is_refused_at_its_field(ctx):
    bad = {0: [(time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))], 1: [(time(10), time(9))]}
    with pytest.raises(WorkCalendarError) as refused:
        workcal.set_week(None, bad)
    fields = {name for name, _ in refused.value.problems}
    assert fields == {"days-0-start2", "days-1-end1"}
    with pytest.raises(WorkCalendarError) as refused:
        workcal.set_week(None, {})
    assert refused.value.field is None


def test_a_week_changed_since_it_was_read_is_a_conflict(ctx):
    read = workcal.week_fingerprint(workcal.week_in_use())
    workcal.set_week(None, {0: [(time(8, 0), time(16, 0))]})
    with pytest.raises(WorkCalendarError) as refused:
        workcal.set_week(None, DEFAULT_WEEK, expected=read)
    assert refused.value.status == 409


def test_a_change_rolled_back_is_not_counted_afterwards(ctx):
    workcal.seed_year(2026)
    friday = local(2026, 3, 6, 17, 30)
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 9, 9, 30)
    inner = db.session.begin_nested()
    workcal.add_day(None, date(2026, 3, 9), "off", "")
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 10, 9, 30)
    inner.rollback()
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 9, 9, 30)
    # Another change to the same number of rows is another calendar, not the one rolled back.
    workcal.add_day(None, date(2026, 3, 10), "off", "")
    assert workcal.add_working_minutes(friday, 60) == local(2026, 3, 9, 9, 30)
    assert workcal.add_working_minutes(local(2026, 3, 9, 17, 30), 60) == local(2026, 3, 11, 9, 30)
