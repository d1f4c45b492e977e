"""After-sales quality (P5.4) and cost (P5.5) figures, and the improvement actions taken on
them.

The population: the tickets RECEIVED in the period (its months, in the company's time
zone), read through the record rules; the whole, and by department, by the person handling
it, by type and by month of receipt. Every figure is an SQL aggregate; no ticket is loaded.

- on-time response rate: of the tickets responded to or whose response deadline was
  missed, those responded to without missing it;
- on-time resolution rate: of the tickets resolved (resolved_at set, or resolved / replied
  / closed) or whose resolution deadline was missed, those resolved without missing it;
- resolution rate: of the tickets resolved, those never reopened;
- working hours to the first response and to the resolution (the pauses excluded, as
  written on the ticket): mean, and median (PostgreSQL percentile_cont; SQLite has no
  such function: there only the two columns are read and the middle taken in Python);
- satisfaction: the mean rating, CSAT% (ratings of 4 or 5 / ratings), how many rated;
- complaints: tickets of type complaint.

Cost (P5.5) goes with its ticket: the cost lines of the tickets received in the period,
by the ticket's department, person, type and month of receipt, so that every figure of a
row is about the same tickets; cost per ticket = cost / the tickets with a cost line. The
period's cost is compared with the approved 客户维护费 budget lines of the same months.

Speed: one GROUP BY (department, person, type, month) pass gives every sum, added up here
into each breakdown; the medians are one more query (grouping sets on PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from operator import add
from statistics import median
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, literal_column, not_, or_, select, tuple_

from mktapp.core import clock, settings
from mktapp.core.errors import DomainError
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import (
    Budget,
    BudgetLine,
    ServiceDepartment,
    ServiceImprovement,
    Ticket,
    TicketCost,
    User,
)
from mktapp.models.service import TICKET_TYPES
from mktapp.models.service_quality import IMPROVEMENT_FIGURES

GROUP = _l("After-sales service")
ON_TIME_STANDARD = settings.SettingSpec(
    "service.on_time_standard",
    _l("On-time standard (%)"),
    90,
    kind="int",
    help=_l(
        "Departments and people whose on-time response or resolution rate is below this "
        "percentage are listed as below the standard on the service quality page."
    ),
    group=GROUP,
)
# core.settings knows money, switches and whole numbers: the mean rating is kept in tenths.
SATISFACTION_STANDARD = settings.SettingSpec(
    "service.satisfaction_standard",
    _l("Satisfaction standard (tenths of a point)"),
    40,
    kind="int",
    help=_l(
        "The lowest mean customer rating (1 to 5) that meets the standard, in tenths of a "
        "point: 40 means 4.0."
    ),
    group=GROUP,
)

CUSTOMER_UPKEEP = "customer"  # the 客户维护费 budget category (models/expense.CATEGORIES)
RESOLVED_STATUSES = ("resolved", "replied", "closed")
DEFAULT_MONTHS = 6
MAX_MONTHS = 24
ACTIONS_SHOWN = 100
ONE = Decimal("0.1")
CENT = Decimal("0.01")


class QualityError(DomainError):
    """An improvement action that cannot be recorded or closed."""


def on_time_standard() -> int:
    return min(100, int(settings.get(ON_TIME_STANDARD.key)))


def satisfaction_standard() -> Decimal:
    tenths = min(50, int(settings.get(SATISFACTION_STANDARD.key)))
    return (Decimal(tenths) / 10).quantize(ONE)


# --- the period ----------------------------------------------------------------------------


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: Any) -> date | None:
    """ "2026-07" -> 2026-07-01; anything else None."""
    try:
        year, month = str(text or "").strip().split("-")
        day = date(int(year), int(month), 1)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


@dataclass(frozen=True)
class Period:
    """Whole months: `first` and `last` are the first days of the first and last month."""

    first: date
    last: date

    @property
    def end(self) -> date:
        """The first day after the period."""
        return add_months(self.last, 1)

    @property
    def months(self) -> list[date]:
        months, day = [], self.first
        while day <= self.last:
            months.append(day)
            day = add_months(day, 1)
        return months

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC moments [start, end): local midnights of its first day and
        of the day after it."""
        return _utc_midnight(self.first), _utc_midnight(self.end)

    @property
    def label(self) -> str:
        first, last = month_key(self.first), month_key(self.last)
        return first if first == last else f"{first} – {last}"


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.zone()).astimezone(UTC)


def default_period(today: date | None = None) -> Period:
    """The last six months, the current one included."""
    last = month_start(today or clock.today())
    return Period(add_months(last, 1 - DEFAULT_MONTHS), last)


def period_of(first: Any, last: Any, today: date | None = None) -> Period:
    """The period asked for ("2026-07", "2026-12"): the default one for what is missing or
    not a month, in order, at most MAX_MONTHS long (ending at `last`)."""
    default = default_period(today)
    start, end = parse_month(first), parse_month(last)
    end = end or (default.last if start is None or start <= default.last else start)
    start = start or add_months(end, 1 - DEFAULT_MONTHS)
    if start > end:
        start, end = end, start
    start = max(start, add_months(end, 1 - MAX_MONTHS))
    return Period(start, end)


# --- months in SQL ----------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_bucket(column, months: list[date]):
    """Which of `months` (consecutive, first days, in the company's time zone) a stored UTC
    moment within them falls in, as its index: a CASE on the months' bounds, worked out here
    with the zone's rules. The same on SQLite and PostgreSQL, and cheaper than converting
    every row's time to local time before grouping."""
    whens = [(column < _utc_midnight(add_months(m, 1)), i) for i, m in enumerate(months[:-1])]
    return case(*whens, else_=len(months) - 1) if whens else literal(0)


# --- the figures -------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE, ROUND_HALF_UP)


def _hours(minutes: Any) -> Decimal | None:
    if minutes is None:
        return None
    return (Decimal(str(minutes)) / 60).quantize(ONE, ROUND_HALF_UP)


# What a group of tickets adds up to, in the order _cells() gives them.
SUMS = (
    "tickets",
    "complaints",
    "response_due",
    "response_on_time",
    "resolution_due",
    "resolution_on_time",
    "resolved",
    "first_time",
    "response_total",
    "response_n",
    "resolution_total",
    "resolution_n",
    "rated",
    "rating_sum",
    "satisfied",
    "cost",
    "cost_tickets",
)


@dataclass
class Figures:
    """The figures of one row: the whole period, a department, a person, a type, a month."""

    key: Any
    label: str
    tickets: int = 0
    complaints: int = 0
    response_due: int = 0  # responded to, or the response deadline missed
    response_on_time: int = 0
    resolution_due: int = 0  # resolved, or the resolution deadline missed
    resolution_on_time: int = 0
    resolved: int = 0
    first_time: int = 0  # resolved and never reopened
    response_total: int = 0  # working minutes to the first response, and of how many
    response_n: int = 0
    resolution_total: int = 0  # working minutes to the resolution (resolved tickets)
    resolution_n: int = 0
    response_median: Decimal | None = None  # working hours
    resolution_median: Decimal | None = None
    rated: int = 0
    rating_sum: int = 0
    satisfied: int = 0  # rated 4 or 5
    cost: Decimal = field(default_factory=lambda: Decimal("0.00"))
    cost_tickets: int = 0  # tickets with a cost line

    @classmethod
    def of(cls, key: Any, label: str, sums: list) -> Figures:
        """A row from its sums (in the order of SUMS)."""
        figures = cls(key, label, **dict(zip(SUMS, sums, strict=True)))
        figures.cost = Decimal(figures.cost).quantize(CENT)
        return figures

    @property
    def response_avg(self) -> Decimal | None:
        return _hours(Decimal(self.response_total) / self.response_n) if self.response_n else None

    @property
    def resolution_avg(self) -> Decimal | None:
        if not self.resolution_n:
            return None
        return _hours(Decimal(self.resolution_total) / self.resolution_n)

    @property
    def response_rate(self) -> Decimal | None:
        return _pct(self.response_on_time, self.response_due)

    @property
    def resolution_rate(self) -> Decimal | None:
        return _pct(self.resolution_on_time, self.resolution_due)

    @property
    def first_time_rate(self) -> Decimal | None:
        return _pct(self.first_time, self.resolved)

    @property
    def rating(self) -> Decimal | None:
        if not self.rated:
            return None
        return (Decimal(self.rating_sum) / Decimal(self.rated)).quantize(CENT, ROUND_HALF_UP)

    @property
    def csat(self) -> Decimal | None:
        return _pct(self.satisfied, self.rated)

    @property
    def cost_per_ticket(self) -> Decimal | None:
        if not self.cost_tickets:
            return None
        return (self.cost / self.cost_tickets).quantize(CENT, ROUND_HALF_UP)

    def value(self, figure: str) -> Decimal | None:
        """The figure an improvement action is about."""
        return {
            "response": self.response_rate,
            "resolution": self.resolution_rate,
            "satisfaction": self.rating,
        }[figure]


def _sum_columns() -> list:
    """The SQL aggregates of SUMS but the cost (counts with FILTER: the same on both
    databases)."""
    t = Ticket
    responded = t.first_response_at.is_not(None)
    resolved = _resolved()
    # A reopened ticket's earlier resolution time counts once it is resolved again.
    resolution = case((resolved, t.resolution_minutes))

    def count_if(condition):
        return func.count().filter(condition)

    return [
        func.count(),
        count_if(t.ticket_type == "complaint"),
        count_if(or_(responded, t.response_breached)),
        count_if(and_(responded, not_(t.response_breached))),
        count_if(or_(resolved, t.resolution_breached)),
        count_if(and_(resolved, not_(t.resolution_breached))),
        count_if(resolved),
        count_if(and_(resolved, t.reopen_count == 0)),
        func.sum(t.response_minutes),
        func.count(t.response_minutes),
        func.sum(resolution),
        func.count(resolution),
        func.count(t.rating),
        func.sum(t.rating),
        count_if(t.rating >= 4),
    ]


def _resolved():
    return or_(Ticket.resolved_at.is_not(None), Ticket.status.in_(RESOLVED_STATUSES))


def _keys(months: list[date]) -> list:
    """The groups every breakdown adds up from: (department, person, type, month index)."""
    t = Ticket
    return [t.department_id, t.owner_id, t.ticket_type, month_bucket(t.received_at, months)]


Cells = list[tuple[tuple, list]]


def _cells(conditions: list, months: list[date]) -> Cells:
    """The sums (SUMS) per (department, person, type, month index) of the tickets meeting
    `conditions`, received within `months`: one GROUP BY over them (a few thousand groups
    at most, which add up exactly to any coarser breakdown), and one over their cost lines
    (a ticket is in one group, so its count of tickets with cost is exact)."""
    keys = _keys(months)
    found = {
        tuple(row[:4]): [*(value or 0 for value in row[4:]), Decimal(0), 0]
        for row in db.session.execute(
            select(*keys, *_sum_columns()).where(*conditions).group_by(*keys)
        )
    }
    cost = (
        select(
            *keys,
            func.sum(TicketCost.amount),
            func.count(func.distinct(TicketCost.ticket_id)),
        )
        .select_from(Ticket)
        .join(TicketCost, TicketCost.ticket_id == Ticket.id)
        .where(*conditions)
        .group_by(*keys)
    )
    for *key, amount, tickets in db.session.execute(cost):
        found[tuple(key)][-2:] = [Decimal(amount or 0), tickets]
    return list(found.items())


def _rollup(cells: Cells, position: int | None, label) -> dict[Any, Figures]:
    """The cells added up by their key at `position` (None: all of them), each row named
    by `label(key)`."""
    sums: dict[Any, list] = {}
    for key, values in cells:
        k = None if position is None else key[position]
        before = sums.get(k)
        sums[k] = values if before is None else list(map(add, before, values))
    return {k: Figures.of(k, label(k), values) for k, values in sums.items()}


def _medians(conditions: list, months: list[date]) -> list[dict[Any, Any]]:
    """The median working minutes to the first response and to the resolution: for the
    whole (key None), then per department, person, type and month index. PostgreSQL:
    percentile_cont over grouping sets, one query. SQLite has neither: the two columns are
    read with their groups (no more than that) and the middle taken here."""
    t = Ticket
    keys = _keys(months)
    resolution = case((_resolved(), t.resolution_minutes))
    found: list[dict[Any, Any]] = [{} for _ in range(len(keys) + 1)]
    if _dialect() == "postgresql":
        # grouping(): a bit per key (the first is the highest), set when not grouped by it.
        which = {0b1111: 0, 0b0111: 1, 0b1011: 2, 0b1101: 3, 0b1110: 4}
        stmt = (
            select(
                func.grouping(*keys),
                *keys,
                func.percentile_cont(0.5).within_group(t.response_minutes),
                func.percentile_cont(0.5).within_group(resolution),
            )
            .where(*conditions)
            .group_by(func.grouping_sets(literal_column("()"), *(tuple_(k) for k in keys)))
        )
        for bits, *key, response, resolved in db.session.execute(stmt):
            n = which[bits]
            found[n][None if n == 0 else key[n - 1]] = (response, resolved)
        return found
    stmt = select(*keys, t.response_minutes, resolution).where(
        *conditions, or_(t.response_minutes.is_not(None), resolution.is_not(None))
    )
    rows = db.session.execute(stmt).all()
    if not rows:
        return found
    columns = list(zip(*rows, strict=True))
    for index in (0, 1):
        values = columns[4 + index]
        measured = [v for v in values if v is not None]
        if measured:
            found[0].setdefault(None, [None, None])[index] = median(measured)
        for n in range(1, len(keys) + 1):
            groups: dict[Any, list] = defaultdict(list)
            for key, value in zip(columns[n - 1], values, strict=True):
                if value is not None:
                    groups[key].append(value)
            for key, numbers in groups.items():
                found[n].setdefault(key, [None, None])[index] = median(numbers)
    return found


def _scope(user, period: Period, department_id: int | None) -> list:
    start, end = period.bounds()
    conditions = [Ticket.received_at >= start, Ticket.received_at < end]
    if user is not None:
        conditions.append(Ticket.visible_to(user))
    if department_id:
        conditions.append(Ticket.department_id == department_id)
    return conditions


@dataclass(frozen=True)
class Below:
    """A department or a person below the standard in one figure."""

    kind: str  # "department" / "user"
    subject_id: int
    label: str
    figure: str
    value: Decimal
    standard: Decimal

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.subject_id}"


@dataclass
class Report:
    period: Period
    department_id: int | None
    total: Figures
    by_department: list[Figures]
    by_person: list[Figures]
    by_type: list[Figures]
    by_month: list[Figures]
    budget: Decimal | None  # the approved 客户维护费 lines of the period's months
    budget_by_month: dict[str, Decimal]
    on_time_standard: int
    satisfaction_standard: Decimal
    below: list[Below]

    @property
    def budget_used(self) -> Decimal | None:
        """Cost as a percentage of the budget."""
        if not self.budget:
            return None
        return (self.total.cost * 100 / self.budget).quantize(ONE, ROUND_HALF_UP)


def department_names(include_archived: bool = True) -> dict[int, str]:
    stmt = select(ServiceDepartment.id, ServiceDepartment.name).order_by(
        ServiceDepartment.sort, ServiceDepartment.id
    )
    if not include_archived:
        stmt = stmt.where(ServiceDepartment.archived_at.is_(None))
    return dict(db.session.execute(stmt).all())


def _user_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    )


def _budget(period: Period) -> tuple[Decimal | None, dict[str, Decimal]]:
    """The approved budgets' 客户维护费 lines of the period's months (None: no approved
    budget covers any of them)."""
    rows = db.session.execute(
        select(Budget.year, BudgetLine.month, func.sum(BudgetLine.amount))
        .join(Budget, Budget.id == BudgetLine.budget_id)
        .where(
            Budget.status == "approved",
            Budget.year >= period.first.year,
            Budget.year <= period.last.year,
            BudgetLine.category == CUSTOMER_UPKEEP,
        )
        .group_by(Budget.year, BudgetLine.month)
    ).all()
    wanted = {month_key(m) for m in period.months}
    by_month = {
        key: Decimal(amount or 0).quantize(CENT)
        for year, month, amount in rows
        if (key := f"{year:04d}-{month:02d}") in wanted
    }
    years = set(
        db.session.scalars(
            select(Budget.year).where(
                Budget.status == "approved",
                Budget.year >= period.first.year,
                Budget.year <= period.last.year,
            )
        )
    )
    if not years:
        return None, {}
    return sum(by_month.values(), Decimal("0.00")), by_month


def report(user, period: Period, department_id: int | None = None) -> Report:
    """Every breakdown of the period (optionally one department's tickets only): one
    aggregate over the tickets, one for the medians, and the names and the budget."""
    conditions = _scope(user, period, department_id)
    months = period.months
    cells = _cells(conditions, months)
    medians = _medians(conditions, months)
    names = department_names()
    people = _user_names({key[1] for key, _sums in cells})
    nobody = str(_l("Not assigned"))
    labels = [month_key(m) for m in months]
    everything = str(_l("All tickets"))
    total = _rollup(cells, None, lambda k: everything).get(None) or Figures(None, everything)
    departments = _rollup(cells, 0, lambda k: names.get(k, "—"))
    persons = _rollup(cells, 1, lambda k: people.get(k, nobody))
    types = _rollup(cells, 2, TICKET_TYPES.label)
    by_month = {i: Figures(i, label) for i, label in enumerate(labels)}
    by_month.update(_rollup(cells, 3, lambda i: labels[i]))
    for rows, found in zip(
        ({None: total}, departments, persons, types, by_month), medians, strict=True
    ):
        for key, (response, resolution) in found.items():
            if key in rows:
                rows[key].response_median = _hours(response)
                rows[key].resolution_median = _hours(resolution)
    for i, row in by_month.items():
        row.key = labels[i]

    budget, budget_by_month = _budget(period)
    order = {key: i for i, key in enumerate(names)}
    type_order = {code: i for i, code in enumerate(TICKET_TYPES)}
    rep = Report(
        period=period,
        department_id=department_id,
        total=total,
        by_department=sorted(departments.values(), key=lambda f: order.get(f.key, len(order))),
        by_person=sorted(persons.values(), key=lambda f: (f.key is None, f.label)),
        by_type=sorted(types.values(), key=lambda f: type_order.get(f.key, len(type_order))),
        by_month=list(by_month.values()),
        budget=budget,
        budget_by_month=budget_by_month,
        on_time_standard=on_time_standard(),
        satisfaction_standard=satisfaction_standard(),
        below=[],
    )
    rep.below = below_standard(rep)
    return rep


def below_standard(rep: Report) -> list[Below]:
    """Departments and people under the standard: an on-time rate below the on-time
    standard, or a mean rating below the satisfaction standard."""
    on_time = Decimal(rep.on_time_standard)
    found = []
    for kind, rows in (("department", rep.by_department), ("user", rep.by_person)):
        for row in rows:
            if row.key is None:
                continue
            for figure, standard in (
                ("response", on_time),
                ("resolution", on_time),
                ("satisfaction", rep.satisfaction_standard),
            ):
                value = row.value(figure)
                if value is not None and value < standard:
                    found.append(Below(kind, row.key, row.label, figure, value, standard))
    return found


def subject_figures(kind: str, subject_id: int, period: Period) -> Figures:
    """A department's or a person's figures in a period (all departments, for a person)."""
    column = Ticket.department_id if kind == "department" else Ticket.owner_id
    conditions = [*_scope(None, period, None), column == subject_id]
    found = _rollup(_cells(conditions, period.months), None, str)
    return found.get(None) or Figures(subject_id, "")


# --- improvement actions ----------------------------------------------------------------------


def service_department() -> ServiceDepartment | None:
    return db.session.scalar(select(ServiceDepartment).where(ServiceDepartment.code == "service"))


def may_record(user) -> bool:
    """The service group's leader and the marketing manager record improvement actions."""
    if not can(user, "service.quality"):
        return False
    if "marketing_manager" in user.role_codes:
        return True
    department = service_department()
    return department is not None and department.leader_id == user.id


def may_complete(user, improvement: ServiceImprovement) -> bool:
    """Who recorded such actions, and the person carrying this one out."""
    return may_record(user) or improvement.owner_id == user.id


def _subject(text: str) -> tuple[str, Any] | None:
    kind, _sep, raw = str(text or "").partition(":")
    if kind not in ("department", "user") or not raw.isdigit():
        return None
    if kind == "department":
        record = db.session.get(ServiceDepartment, int(raw))
    else:
        record = db.session.get(User, int(raw))
    return (kind, record) if record is not None else None


def record_improvement(
    user,
    *,
    subject: str,
    figure: str,
    action: str,
    owner_id: int | None,
    due_on: date | None,
    period: Period,
) -> ServiceImprovement:
    """Record what will be done about a figure of a department or a person, by whom and by
    when; the figure of `period` is kept as the value then. Every problem at its field."""
    if not may_record(user):
        raise QualityError(
            _l("Only the service group's leader or the marketing manager records this."),
            status=403,
        )
    problems: list[tuple[str | None, str]] = []
    found = _subject(subject)
    if found is None:
        problems.append(("subject", str(_l("Choose a department or a person."))))
    if figure not in IMPROVEMENT_FIGURES:
        problems.append(("figure", str(_l("Choose the figure that was low."))))
    text = (action or "").strip()
    if not text:
        problems.append(("action", str(_l("Describe the action to take."))))
    elif len(text) > 2000:
        problems.append(("action", str(_l("At most %(n)s characters.") % {"n": 2000})))
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        problems.append(("owner_id", str(_l("Choose who carries it out."))))
    if due_on is None:
        problems.append(("due_on", str(_l("Enter the due date."))))
    elif due_on < clock.today():
        problems.append(("due_on", str(_l("The due date cannot be in the past."))))
    value = None
    if found is not None and figure in IMPROVEMENT_FIGURES:
        value = subject_figures(found[0], found[1].id, period).value(figure)
        if value is None:
            problems.append(
                (
                    "figure",
                    str(
                        _l("There is no such figure for them in %(period)s.")
                        % {"period": period.label}
                    ),
                )
            )
    if problems:
        raise QualityError(problems[0][1], problems[0][0], problems)
    kind, record = found
    improvement = ServiceImprovement(
        department_id=record.id if kind == "department" else None,
        user_id=record.id if kind == "user" else None,
        figure=figure,
        value_then=value,
        period_start=period.first,
        period_end=period.last,
        action=text,
        owner_id=owner.id,
        due_on=due_on,
        status="open",
        done_note="",
        created_by_id=user.id,
    )
    db.session.add(improvement)
    db.session.flush()
    return improvement


def complete(user, improvement: ServiceImprovement, note: str) -> None:
    """The action is done: what came of it."""
    if not may_complete(user, improvement):
        raise QualityError(_l("You may not close this action."), status=403)
    if improvement.status != "open":
        raise QualityError(_l("This action is already done."), status=409)
    text = (note or "").strip()
    if not text:
        raise QualityError(_l("Say what was done."), "note")
    if len(text) > 2000:
        raise QualityError(_l("At most %(n)s characters.") % {"n": 2000}, "note")
    improvement.status = "done"
    improvement.done_note = text
    improvement.done_at = clock.now()


@dataclass
class FollowUp:
    """An action with its figure in the month after its due month (or this month so far)."""

    improvement: ServiceImprovement
    month: date
    so_far: bool  # the month is the current one, not over yet
    value: Decimal | None

    @property
    def improved(self) -> bool | None:
        if self.value is None:
            return None
        return self.value > self.improvement.value_then


def follow_up_month(improvement: ServiceImprovement, today: date | None = None) -> date:
    current = month_start(today or clock.today())
    return min(add_months(month_start(improvement.due_on), 1), current)


def improvements(user, limit: int = ACTIONS_SHOWN) -> list[FollowUp]:
    """The actions (open ones first, then the latest done), each followed up: the figures
    of the follow-up months, in one aggregate added up by department and by person."""
    rows = list(
        db.session.scalars(
            select(ServiceImprovement)
            .where(ServiceImprovement.visible_to(user))
            .order_by(
                (ServiceImprovement.status != "open"),
                ServiceImprovement.due_on.desc(),
                ServiceImprovement.id.desc(),
            )
            .limit(limit)
        )
    )
    if not rows:
        return []
    today = clock.today()
    current = month_start(today)
    months = {follow_up_month(r, today) for r in rows}
    span = Period(min(months), max(months)).months
    spans = []
    for month in sorted(months):
        start, end = Period(month, month).bounds()
        spans.append(and_(Ticket.received_at >= start, Ticket.received_at < end))
    cells = _cells([or_(*spans)], span)
    values: dict[tuple[str, str, Any], Figures] = {}
    for kind, position in (("department", 0), ("user", 1)):
        keyed = [(((key[3], key[position]),), sums) for key, sums in cells]
        for (i, subject), figures in _rollup(keyed, 0, str).items():
            values[(kind, month_key(span[i]), subject)] = figures
    followed = []
    for r in rows:
        month = follow_up_month(r, today)
        kind, subject_id = (
            ("department", r.department_id) if r.department_id else ("user", r.user_id)
        )
        figures = values.get((kind, month_key(month), subject_id))
        value = figures.value(r.figure) if figures is not None else None
        followed.append(FollowUp(r, month, month == current, value))
    return followed
