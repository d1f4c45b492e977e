"""The one reader of the clock: now() in UTC, today() in the company's time zone.

Nothing else in mktapp calls date.today() or datetime.now() (a test greps for it).
Keeping the clock in one place lets the demo company be built "as of" any day
(anchored()), and lets the test suite run on a frozen date: the suite freezes the
process clock, so every reading here follows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"

# Set only by anchored() (the demo seeder, single-threaded): how far the company's
# clock stands from the machine's.
_offset = timedelta(0)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The company's time zone (the app's TIMEZONE setting; Asia/Shanghai outside an app)."""

    name = DEFAULT_TIMEZONE
    if has_app_context():
        name = current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    return _zone(name)


def now() -> datetime:
    """This moment, timezone-aware, in UTC (how every time is stored)."""
    return datetime.now(UTC) + _offset


def local_now() -> datetime:
    """This moment in the company's time zone (for a form's default time of day)."""
    return now().astimezone(zone())


def today() -> date:
    """The company's local date: what "today" means for deadlines, budgets and reports."""
    return local_now().date()


def local(moment: datetime) -> datetime:
    """A stored (UTC; naive means UTC) moment in the company's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def local_date(moment: datetime) -> date:
    """The company's local date of a stored (UTC) moment."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone()).date()


@contextmanager
def anchored(day: date | None) -> Iterator[date]:
    """Within the block, today() is `day` (the time of day runs on as usual).

    The demo seeder builds the company's year "as of" a given day through this, so
    the records its services stamp (created, submitted, approved at) agree with the
    dates it picks. Not for request handling: it moves the clock of the whole process.
    """
    global _offset
    previous = _offset
    if day is not None:
        _offset = previous + (day - today())  # whole days: the time of day is kept
    try:
        yield today()
    finally:
        _offset = previous


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Within the block, now() reads `moment` and runs on from it (the demo works each
    record through its services at the minute each step happened). Like anchored(), for
    the single-threaded seeder only: it moves the clock of the whole process."""
    global _offset
    previous = _offset
    _offset = previous + (moment - now())
    try:
        yield now()
    finally:
        _offset = previous
