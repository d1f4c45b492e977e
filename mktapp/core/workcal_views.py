"""The working calendar's settings page (工作日历, for the administrator): the weekly
working time, a year's statutory holidays and 调休 make-up working days, a day added or
removed by hand, and a year filled from the statutory calendar. The calculator and the
changes themselves are core/workcal.py; `flask calendar-seed` fills years from a cron job
or a deployment script.
"""

from __future__ import annotations

import re
from datetime import time

import click
from flask import Blueprint, request, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import FieldList, FormField, HiddenField, IntegerField, RadioField, StringField
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import TimeInput

from mktapp.core import clock, nav, vocab, workcal
from mktapp.core.actions import record_action
from mktapp.core.audit import acting_as
from mktapp.core.forms import (
    AppForm,
    LocalDateField,
    RowForm,
    put_error,
    sensible_date,
)
from mktapp.core.htmx import render
from mktapp.core.permissions import require
from mktapp.extensions import db
from mktapp.models import CalendarDay
from mktapp.models.workcal import DAY_KIND_TAGS, DAY_KINDS, DAY_SOURCES, WEEKDAY_NAMES

bp = Blueprint("workcal", __name__, url_prefix="/settings/calendar")

TEMPLATE = "core/workcal.html"
INTERVALS = 2  # working intervals per weekday on the form (morning, afternoon)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")


class TimeOfDayField(StringField):
    """A time of day typed as HH:MM (a browser's time input); empty is no time."""

    widget = TimeInput()

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        found = _CLOCK.fullmatch(text)
        if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59:
            raise ValueError(_l("Enter a time like 09:00."))
        self.data = time(int(found.group(1)), int(found.group(2)))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""


class DayHoursRow(RowForm):
    """One weekday's working time: up to two intervals."""

    start1 = TimeOfDayField(_l("Starts at"))
    end1 = TimeOfDayField(_l("Ends at"))
    start2 = TimeOfDayField(_l("Starts at"))
    end2 = TimeOfDayField(_l("Ends at"))


class WeekForm(AppForm):
    days = FieldList(FormField(DayHoursRow), min_entries=7, max_entries=7)
    read = HiddenField()  # the week as it was read (workcal.week_fingerprint)


class CalendarDayForm(AppForm):
    day = LocalDateField(
        _l("Date"), validators=[InputRequired(message=_l("Enter the date.")), sensible_date]
    )
    kind = RadioField(
        _l("Kind of day"),
        choices=lambda: DAY_KINDS.choices(),
        default="off",
        validators=[InputRequired(message=_l("Choose a day off or a make-up working day."))],
    )
    name = StringField(
        _l("Name"),
        validators=[Length(max=workcal.NAME_MAX)],
        description=_l("For example: Spring Festival, National Day make-up working day."),
    )


class SeedForm(AppForm):
    year = IntegerField(
        validators=[
            InputRequired(),
            NumberRange(workcal.EARLIEST_YEAR, workcal.LATEST_YEAR),
        ]
    )


def _week_form(week=None) -> WeekForm:
    """The week form holding `week` (the saved one by default)."""
    week = week if week is not None else workcal.week_in_use()
    rows = []
    for weekday in range(7):
        spans = list(week.get(weekday) or ())[:INTERVALS]
        row = {}
        for k, (start, end) in enumerate(spans, start=1):
            row[f"start{k}"], row[f"end{k}"] = start, end
        rows.append(row)
    return WeekForm(formdata=None, data={"days": rows, "read": workcal.week_fingerprint(week)})


def _week_of(form: WeekForm) -> dict[int, list[tuple[time, time]]]:
    """The week the form holds; both ends of an interval are needed."""
    week: dict[int, list[tuple[time, time]]] = {}
    problems: list[tuple[str | None, str]] = []
    for weekday, entry in enumerate(form.days.entries):
        spans = []
        for k in range(1, INTERVALS + 1):
            start, end = entry.form[f"start{k}"].data, entry.form[f"end{k}"].data
            if start is None and end is None:
                continue
            if start is None:
                problems.append((f"days-{weekday}-start{k}", _("Enter when it starts.")))
            elif end is None:
                problems.append((f"days-{weekday}-end{k}", _("Enter when it ends.")))
            else:
                spans.append((start, end))
        week[weekday] = spans
    if problems:
        raise workcal.WorkCalendarError(problems[0][1], problems[0][0], problems)
    return week


def _year_arg() -> int:
    year = request.args.get("year", type=int)
    if year is None or not workcal.EARLIEST_YEAR <= year <= workcal.LATEST_YEAR:
        return clock.today().year
    return year


def _page(
    year: int,
    status: int = 200,
    block: str | None = None,
    week_form: WeekForm | None = None,
    day_form: CalendarDayForm | None = None,
    days_error: str | None = None,
):
    """The settings page for `year` (htmx: `block` alone)."""
    this_year = clock.today().year
    saved = workcal.saved_days(year)
    statutory = not saved and year - this_year in workcal.STATUTORY_YEARS
    days = saved or (list(workcal.statutory_days(year)) if statutory else [])
    years = sorted(
        set(workcal.saved_years()) | {this_year + k for k in workcal.STATUTORY_YEARS} | {year}
    )
    return render(
        TEMPLATE,
        block=block,
        status=status,
        year=year,
        years=years,
        days=days,
        saved=bool(saved),
        statutory=statutory,
        week_form=week_form or _week_form(),
        day_form=day_form or CalendarDayForm(formdata=None),
        seed_form=SeedForm(formdata=None, data={"year": year}),
        days_error=days_error,
        weekday_names=WEEKDAY_NAMES,
        intervals=range(1, INTERVALS + 1),
    )


def _here(year: int) -> str:
    return url_for("workcal.index", year=year)


@bp.get("/")
@require("settings.manage")
def index():
    """The working calendar: weekly hours and a year's holidays and make-up days."""
    return _page(_year_arg(), block="calendar_days")


@bp.post("/week")
@require("settings.manage")
def save_week():
    """Save the weekly working time."""
    year = _year_arg()
    form = WeekForm()

    def refused(error, form):
        if error.status == 409:  # saving again now replaces the hours saved meanwhile
            form.read.data = workcal.week_fingerprint(workcal.week_in_use())
        return _page(
            year,
            status=409 if error.status == 409 else 422,
            block="week_form",
            week_form=put_error(form, error),
        )

    return record_action(
        None,
        lambda _none, form: workcal.set_week(
            current_user, _week_of(form), expected=form.read.data or None
        ),
        message=_("Working hours saved."),
        then=_here(year),
        on_error=refused,
        form=form,
    )


@bp.post("/days")
@require("settings.manage")
def add_day():
    """Add a day off or a 调休 make-up working day."""
    year = _year_arg()
    form = CalendarDayForm()
    filled: list[int] = []

    def add(_none, form):
        day = form.day.data
        if day is not None and not workcal.saved_days(day.year):
            filled.append(day.year)
        return workcal.add_day(current_user, day, form.kind.data, form.name.data)

    def done(record: CalendarDay) -> str:
        text = _("%(date)s added to the calendar.", date=record.day.isoformat())
        if filled:
            text += " " + _(
                "The statutory holidays of %(year)s were saved with it.", year=filled[0]
            )
        return text

    return record_action(
        None,
        add,
        message=done,
        then=lambda record: _here(record.day.year),
        on_error=lambda error, form: _page(
            year,
            status=409 if error.status == 409 else 422,
            block="day_form",
            day_form=put_error(form, error),
        ),
        form=form,
    )


@bp.post("/days/<int:day_id>/remove")
@require("settings.manage")
def remove_day(day_id: int):
    """Take a day out of the calendar."""
    record = db.session.get(CalendarDay, day_id)
    year = record.day.year if record is not None else _year_arg()
    label = record.label if record is not None else ""
    return record_action(
        record,
        lambda record, form: workcal.remove_day(current_user, day_id),
        message=_("%(day)s removed from the calendar.", day=label),
        then=_here(year),
        on_error=lambda error, form: _page(year, status=422, days_error=error.message),
    )


@bp.post("/seed")
@require("settings.manage")
def seed():
    """Fill a year from the statutory calendar (days already there are kept)."""
    form = SeedForm()
    year = form.year.data if isinstance(form.year.data, int) else _year_arg()

    def done(added: int) -> str:
        if not added:
            return _("All statutory days of %(year)s were in the calendar already.", year=year)
        return _("%(n)s statutory days of %(year)s added to the calendar.", n=added, year=year)

    return record_action(
        None,
        lambda _none, form: workcal.seed_year(form.year.data, current_user),
        message=done,
        then=lambda added: _here(year),
        on_error=lambda error, form: _page(_year_arg(), status=422, days_error=error.message),
        form=form,
    )


@click.command("calendar-seed")
@with_appcontext
@click.option(
    "--year", "years", type=int, multiple=True, help="Year to fill (default: this year and next)."
)
def calendar_seed(years: tuple[int, ...]) -> None:
    """Fill the working calendar with China's statutory holidays and make-up working days
    for a year (the days already there are kept: safe to run again)."""
    today = clock.today()
    with acting_as(None, note="calendar-seed"):
        for year in years or (today.year, today.year + 1):
            try:
                added = workcal.seed_year(year)
            except workcal.WorkCalendarError as error:
                raise click.BadParameter(str(error), param_hint="--year") from None
            db.session.commit()
            click.echo(f"{year}: {added} days added")


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, vocabularies, the
    calendar's cache hooks, the command); called by register(app)."""
    nav.add("admin", nav.NavEntry("workcal.index", _l("Working calendar"), ("settings.manage",)))
    vocab.expose(app, DAY_KINDS, DAY_KIND_TAGS, DAY_SOURCES)
    workcal.init_app(app)
    app.cli.add_command(calendar_seed)


def register(app) -> None:
    """Its blueprint, and what it adds to the registries."""
    app.register_blueprint(bp)
    setup(app)
