"""Market activities (P3.2): the plan, its approval, budget reservation, list and calendar.

An activity is planned as a draft (numbered HD-<year>-NNNN) by a market specialist,
submitted to the approval engine (the marketing manager; the company leader as well when
the budget reaches the setting "brand.executive_threshold", or when the plan exceeds the
free budget), and once approved it runs (开始, or the daily `flask brand-scan` when its
first day arrives) and ends (结束, or the scan after its last day). It can be cancelled
from draft, approved or running, with a reason.

The engine's hooks are the only place the status moves on approval events. An approved
or running plan is changed through a change request (changes.py).

Budget: an activity's budget lines reserve the expense budget (category, year, month)
while its status is in ACTIVITY_RESERVING; what claims linked to the activity
(ExpenseClaim.link_type "activity") have spent in a category is taken off its lines of
that category, earliest first, so a line never reserves what was already spent.
`budget_cells(year)` adds it all up in SQL (one statement per figure, GROUP BY).
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import ceil

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from mktapp.core import approvals as engine
from mktapp.core import clock, settings, vocab
from mktapp.core.audit import describe_note
from mktapp.core.audit_display import describe
from mktapp.core.commands import mark_once
from mktapp.core.errors import DomainError
from mktapp.core.i18n import money
from mktapp.core.lists import (
    EXPORT_LIMIT,
    Cached,
    Column,
    Filter,
    ListPage,
    ListSpec,
    contains,
    flag,
    integer,
    one_of,
)
from mktapp.core.money import CENT, MAX_AMOUNT, ZERO
from mktapp.core.numbering import next_number
from mktapp.core.permissions import can, visible
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models import Role, User, utcnow
from mktapp.models.brand import (
    ACTIVITY_FORMS,
    ACTIVITY_KINDS,
    ACTIVITY_RESERVING,
    ACTIVITY_STATUSES,
    Activity,
    ActivityBudgetLine,
    ActivityStaff,
)
from mktapp.models.expense import CATEGORIES, Budget, BudgetLine, ExpenseClaim

EDITABLE = frozenset({"draft", "rejected", "withdrawn"})
CHANGEABLE = frozenset({"approved", "running"})
CANCELLABLE = frozenset({"draft", "rejected", "withdrawn", "approved", "running"})
SPENT_STATUSES = ("approved", "paid")

THRESHOLD = settings.SettingSpec(
    "brand.executive_threshold",
    _l("Company leader approves activities from"),
    Decimal("50000.00"),
    kind="money",
    help=_l(
        "Activity plans (and change requests) whose budget reaches this amount also go"
        " to the company leader."
    ),
    group=_l("Market activities"),
)


class ActivityError(DomainError):
    """Something asked of an activity that cannot be done; str() is the message."""


# --- labels and rights ------------------------------------------------------------------------


# An activity's budget lines use the expense categories, with their words.
ACTIVITY_CATEGORIES = Vocabulary("activity_category", CATEGORIES, tag_class="")

status_label = ACTIVITY_STATUSES.label
kind_label = ACTIVITY_KINDS.label
form_label = ACTIVITY_FORMS.label
category_label = ACTIVITY_CATEGORIES.label


def month_text(year: int, month: int) -> str:
    padded = f"{month:02d}"
    return _("%(year)s-%(month)s", year=year, month=padded)


def is_manager(user) -> bool:
    return "marketing_manager" in getattr(user, "role_codes", ())


def _owner_or_manager(user, activity: Activity) -> bool:
    return can(user, "brand.edit") and (activity.owner_id == user.id or is_manager(user))


def may_edit(user, activity: Activity) -> bool:
    """Drafts (and returned or withdrawn plans) by their planner or the manager."""
    return (
        not activity.is_archived
        and activity.status in EDITABLE
        and _owner_or_manager(user, activity)
    )


def may_submit(user, activity: Activity) -> bool:
    return may_edit(user, activity) and activity.owner_id == user.id


def may_run(user, activity: Activity) -> bool:
    """Start, end, cancel and ask for changes: the planner or the manager."""
    return not activity.is_archived and _owner_or_manager(user, activity)


def may_request_change(user, activity: Activity) -> bool:
    return may_run(user, activity) and activity.status in CHANGEABLE


def may_cancel(user, activity: Activity) -> bool:
    return may_run(user, activity) and activity.status in CANCELLABLE


def may_archive(user, activity: Activity) -> bool:
    return may_edit(user, activity) or (may_run(user, activity) and activity.status == "cancelled")


def locked_message(activity: Activity) -> str:
    if activity.status == "pending":
        return _("This plan is under review and cannot be changed. Withdraw it first.")
    if activity.status in CHANGEABLE:
        return _(
            "This plan has been approved and cannot be edited directly. Request a change instead."
        )
    return _("This activity can no longer be changed.")


def executive_threshold() -> Decimal:
    return Decimal(settings.get(THRESHOLD.key))


# --- the plan's input ---------------------------------------------------------------------------


@dataclass
class LineInput:
    category: str
    year: int
    month: int
    amount: Decimal
    note: str = ""


@dataclass
class PlanInput:
    kind: str
    theme: str
    purpose: str
    target_participants: int
    target_leads: int
    target_sales: Decimal
    start_on: date
    end_on: date
    place: str
    content: str
    form: str
    audience: str
    staff: list[tuple[int, str]] = field(default_factory=list)
    lines: list[LineInput] = field(default_factory=list)

    @property
    def budget_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def check(data: PlanInput) -> None:
    """Every problem of a plan at once, as ActivityError.problems (nothing is written)."""
    problems: list[tuple[str | None, str]] = []
    if data.kind not in ACTIVITY_KINDS:
        problems.append(("kind", _("Choose the kind of activity.")))
    if data.form not in ACTIVITY_FORMS:
        problems.append(("form", _("Choose how the activity is held.")))
    if not (data.theme or "").strip():
        problems.append(("theme", _("Give the activity a theme.")))
    if data.start_on and data.end_on and data.end_on < data.start_on:
        problems.append(("end_on", _("The activity cannot end before it starts.")))
    for name in ("target_participants", "target_leads", "target_sales"):
        value = getattr(data, name)
        if value is not None and value < 0:
            problems.append((name, _("Targets cannot be below zero.")))
    seen_staff = set()
    for i, (user_id, _duty) in enumerate(data.staff):
        person = db.session.get(User, user_id)
        if person is None or not person.active:
            problems.append((f"staff-{i}-user_id", _("Choose a colleague.")))
        elif user_id in seen_staff:
            problems.append(
                (
                    f"staff-{i}-user_id",
                    _("%(name)s is already on the staff.", name=person.display_name),
                )
            )
        seen_staff.add(user_id)
    for i, line in enumerate(data.lines):
        if line.category not in CATEGORIES:
            problems.append((f"lines-{i}-category", _("Choose a budget category from the list.")))
        if line.amount is None or not line.amount.is_finite():
            problems.append((f"lines-{i}-amount", _("Enter the amount as a number.")))
        elif line.amount < 0:
            problems.append((f"lines-{i}-amount", _("A budget amount cannot be below zero.")))
        elif line.amount >= MAX_AMOUNT or line.amount != line.amount.quantize(CENT):
            problems.append(
                (f"lines-{i}-amount", _("Use at most two decimals and less than ¥10¹².")),
            )
        if not (1 <= line.month <= 12 and 1990 <= line.year <= 2100):
            problems.append((f"lines-{i}-period", _("Enter a month like 2026-11.")))
    if problems:
        raise ActivityError(problems[0][1], problems[0][0], problems)


def _apply(activity: Activity, data: PlanInput) -> None:
    activity.kind = data.kind
    activity.theme = data.theme.strip()[:200]
    activity.purpose = (data.purpose or "").strip()
    activity.target_participants = data.target_participants or 0
    activity.target_leads = data.target_leads or 0
    activity.target_sales = (data.target_sales or ZERO).quantize(CENT)
    activity.start_on = data.start_on
    activity.end_on = data.end_on
    activity.place = (data.place or "").strip()[:200]
    activity.content = (data.content or "").strip()
    activity.form = data.form
    activity.audience = (data.audience or "").strip()
    # Staff: keep the rows of people who stay (their ids), change duties, add and remove.
    wanted = {user_id: duty.strip()[:200] for user_id, duty in data.staff}
    for row in list(activity.staff):
        if row.user_id not in wanted:
            activity.staff.remove(row)
        else:
            row.duty = wanted.pop(row.user_id)
    for user_id, duty in wanted.items():
        activity.staff.append(ActivityStaff(user_id=user_id, duty=duty))
    activity.budget_lines.clear()
    db.session.flush()
    for line in data.lines:
        activity.budget_lines.append(
            ActivityBudgetLine(
                category=line.category,
                year=line.year,
                month=line.month,
                amount=line.amount.quantize(CENT),
                note=(line.note or "").strip()[:200],
            )
        )


def create_activity(user: User, data: PlanInput) -> Activity:
    if not can(user, "brand.edit"):
        raise ActivityError(_("You cannot plan activities."))
    check(data)
    activity = Activity(owner_id=user.id, status="draft")
    activity.number = next_number("HD", data.start_on.year)
    db.session.add(activity)
    _apply(activity, data)
    db.session.flush()
    return activity


def update_activity(user: User, activity: Activity, data: PlanInput) -> Activity:
    if not may_edit(user, activity):
        raise ActivityError(locked_message(activity))
    check(data)
    _apply(activity, data)
    db.session.flush()
    return activity


def input_of(activity: Activity) -> PlanInput:
    """The activity's current plan as input (to prefill a change request)."""
    return PlanInput(
        kind=activity.kind,
        theme=activity.theme,
        purpose=activity.purpose,
        target_participants=activity.target_participants,
        target_leads=activity.target_leads,
        target_sales=activity.target_sales,
        start_on=activity.start_on,
        end_on=activity.end_on,
        place=activity.place,
        content=activity.content,
        form=activity.form,
        audience=activity.audience,
        staff=[(s.user_id, s.duty) for s in activity.staff],
        lines=[
            LineInput(b.category, b.year, b.month, b.amount, b.note) for b in activity.budget_lines
        ],
    )


# --- budget: reserved, spent, free ---------------------------------------------------------------


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def reserved_statement(year: int, exclude_activity_id: int | None = None, zeros: int = 0):
    """(category, month, reserved) of a year: one grouped statement.

    Per line: its amount less what the activity's approved or paid claims of the line's
    category spent, the spending taken off the activity's lines of that category in
    date order (a running sum), never below 0.
    """
    spent = (
        select(
            ExpenseClaim.link_id.label("activity_id"),
            ExpenseClaim.category.label("category"),
            func.sum(ExpenseClaim.amount).label("spent"),
        )
        .where(
            ExpenseClaim.link_type == "activity",
            ExpenseClaim.status.in_(SPENT_STATUSES),
            ExpenseClaim.archived_at.is_(None),
        )
        .group_by(ExpenseClaim.link_id, ExpenseClaim.category)
        .subquery("spent")
    )
    L = ActivityBudgetLine
    running = func.sum(L.amount).over(
        partition_by=(L.activity_id, L.category), order_by=(L.year, L.month, L.id)
    )
    conditions = [Activity.status.in_(ACTIVITY_RESERVING), Activity.archived_at.is_(None)]
    if exclude_activity_id is not None:
        conditions.append(Activity.id != exclude_activity_id)
    lines = (
        select(
            L.category.label("category"),
            L.year.label("year"),
            L.month.label("month"),
            L.amount.label("amount"),
            (running - func.coalesce(spent.c.spent, 0)).label("left"),
        )
        .join(Activity, Activity.id == L.activity_id)
        .outerjoin(
            spent, and_(spent.c.activity_id == L.activity_id, spent.c.category == L.category)
        )
        .where(*conditions)
        .subquery("lines")
    )
    reserved = case(
        (lines.c.left <= 0, literal(0)),
        (lines.c.left >= lines.c.amount, lines.c.amount),
        else_=lines.c.left,
    )
    # `zeros` empty figures before the sum, to be UNIONed with other figures (monitoring).
    padding = [literal(0, type_=L.amount.type) for _i in range(zeros)]
    return (
        select(lines.c.category, lines.c.month, *padding, func.sum(reserved))
        .where(lines.c.year == year)
        .group_by(lines.c.category, lines.c.month)
    )


def reserved_by_cell(year: int, exclude_activity_id: int | None = None) -> dict:
    """{(category, month): reserved} of a year."""
    return {
        (c, int(m)): _money(v)
        for c, m, v in db.session.execute(reserved_statement(year, exclude_activity_id))
    }


@dataclass
class BudgetCell:
    budget: Decimal = ZERO
    spent: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        return self.budget - self.spent - self.reserved


def budget_cells(year: int, exclude_activity_id: int | None = None) -> dict:
    """{(category, month): BudgetCell} of a year: budget, spent (approved or paid claims by
    the month incurred), reserved by activities; 3 grouped statements."""
    cells: dict = {}
    for c, m, v in db.session.execute(
        select(BudgetLine.category, BudgetLine.month, func.sum(BudgetLine.amount))
        .join(Budget, Budget.id == BudgetLine.budget_id)
        .where(Budget.year == year)
        .group_by(BudgetLine.category, BudgetLine.month)
    ):
        cells.setdefault((c, int(m)), BudgetCell()).budget = _money(v)
    month = func.extract("month", ExpenseClaim.incurred_on)
    for c, m, v in db.session.execute(
        select(ExpenseClaim.category, month, func.sum(ExpenseClaim.amount))
        .where(
            ExpenseClaim.incurred_on >= date(year, 1, 1),
            ExpenseClaim.incurred_on <= date(year, 12, 31),
            ExpenseClaim.status.in_(SPENT_STATUSES),
            ExpenseClaim.archived_at.is_(None),
        )
        .group_by(ExpenseClaim.category, month)
    ):
        cells.setdefault((c, int(m)), BudgetCell()).spent = _money(v)
    for key, value in reserved_by_cell(year, exclude_activity_id).items():
        cells.setdefault(key, BudgetCell()).reserved = value
    return cells


@dataclass
class Shortfall:
    category: str
    year: int
    month: int
    free: Decimal
    need: Decimal

    @property
    def message(self) -> str:
        return _(
            "%(category)s %(month)s: %(free)s of the budget left, this activity needs %(need)s",
            category=category_label(self.category),
            month=month_text(self.year, self.month),
            free=money(self.free),
            need=money(self.need),
        )


def shortfalls(lines, exclude_activity_id: int | None = None) -> list[Shortfall]:
    """The plan's lines (summed per category and month) that exceed the free budget."""
    need: dict[tuple[str, int, int], Decimal] = {}
    for line in lines:
        key = (line.category, line.year, line.month)
        need[key] = need.get(key, ZERO) + Decimal(line.amount)
    out = []
    years = {}
    for (category, year, month), amount in sorted(need.items(), key=lambda kv: kv[0][1:]):
        if amount <= 0:
            continue
        if year not in years:
            years[year] = budget_cells(year, exclude_activity_id)
        cell = years[year].get((category, month), BudgetCell())
        if amount > cell.free:
            out.append(Shortfall(category, year, month, max(cell.free, ZERO), amount))
    return out


# --- lifecycle -----------------------------------------------------------------------------------


def submit(user: User, activity: Activity, over_budget_reason: str = "") -> list[Shortfall]:
    """Send the plan for approval; over the free budget it needs a reason (stored)."""
    if not may_submit(user, activity):
        if activity.status in EDITABLE and not activity.is_archived:
            raise ActivityError(_("Only the planner can submit this plan."))
        raise ActivityError(locked_message(activity))
    if not activity.budget_lines:
        raise ActivityError(_("Add at least one budget line before submitting."))
    short = shortfalls(activity.budget_lines)
    reason = (over_budget_reason or "").strip()
    if short and not reason:
        # The page lists the lines over budget (category, month, free, needed) above.
        raise ActivityError(
            _("The plan exceeds the free budget. Give a reason to submit it anyway."),
            "over_budget_reason",
        )
    activity.over_budget_reason = reason[:2000] if short else ""
    try:
        engine.submit(activity, user)
    except engine.ApprovalError as error:
        raise ActivityError(str(error)) from None
    return short


def _check_today(today: date | None) -> date:
    return today or clock.today()


def start(user: User, activity: Activity) -> None:
    if activity.status != "approved" or not may_run(user, activity):
        raise ActivityError(_("Only an approved activity can be started."))
    activity.status = "running"


def end(user: User, activity: Activity) -> None:
    if activity.status != "running" or not may_run(user, activity):
        raise ActivityError(_("Only an activity in progress can be ended."))
    activity.status = "ended"


def cancel(user: User, activity: Activity, reason: str) -> None:
    if not may_cancel(user, activity):
        raise ActivityError(_("This activity cannot be cancelled now."))
    reason = (reason or "").strip()
    if not reason:
        raise ActivityError(_("Say why the activity is cancelled."), "reason")
    if activity.status == "pending":
        raise ActivityError(_("Withdraw the plan from review before cancelling it."))
    activity.status = "cancelled"
    activity.cancel_reason = reason[:2000]


def archive(user: User, activity: Activity) -> None:
    if not may_archive(user, activity):
        raise ActivityError(_("Only a draft or a cancelled activity can be archived."))
    activity.archived_at = utcnow()


def scan(today: date | None = None) -> tuple[int, int]:
    """Move approved activities whose first day has come to running, and running (or
    approved) ones whose last day has passed to ended. (started, ended)."""
    today = _check_today(today)
    started = ended = 0
    rows = db.session.scalars(
        select(Activity).where(
            Activity.archived_at.is_(None),
            or_(
                and_(Activity.status == "approved", Activity.start_on <= today),
                and_(Activity.status == "running", Activity.end_on < today),
            ),
        )
    ).all()
    # Each move is made where the status is still what this run read (mark_once): of two
    # runs at the same instant one moves an activity, and a run after it finds it moved.
    moves: dict[tuple[str, str], list[Activity]] = {}
    for activity in rows:
        target = "ended" if activity.end_on < today else "running"
        moves.setdefault((activity.status, target), []).append(activity)
    for (status, target), group in sorted(moves.items()):
        moved = len(mark_once(group, "status", target, expected=status))
        if target == "ended":
            ended += moved
        else:
            started += moved
    db.session.flush()
    return started, ended


# --- the approval flow ------------------------------------------------------------------------------


def needs_executive(activity: Activity) -> bool:
    return activity.budget_total >= executive_threshold() or bool(activity.over_budget_reason)


def executive_when_label() -> str:
    """When the company leader decides too (the plan's and a change request's flows)."""
    return _(
        "Budget of %(amount)s or more, or over the free budget",
        amount=money(executive_threshold()),
    )


def _last_comment(doc) -> str:
    request = engine.current_request(doc)
    if request is None:
        return ""
    decided = [s for s in request.steps if s.status == "approved" and s.decided_at]
    decided.sort(key=lambda s: (s.decided_at, s.seq))
    return (decided[-1].comment or "").strip() if decided else ""


def check_approval(doc, lines, actor: User, exclude_activity_id: int | None = None) -> str:
    """On the final approval: over the free budget only the company leader may approve, and
    a reason must be on record. Returns the text to keep as the over-budget reason."""
    short = shortfalls(lines, exclude_activity_id)
    if not short:
        return ""
    if "executive" not in actor.role_codes:
        raise engine.ApprovalError(
            _(
                "Over the free budget (%(lines)s): only the company leader may approve it."
                " Return it to the planner so that it is resubmitted with a reason.",
                lines="; ".join(s.message for s in short),
            )
        )
    comment = _last_comment(doc)
    reason = (getattr(doc, "over_budget_reason", "") or getattr(doc, "reason", "")).strip()
    if not comment and not reason:
        raise engine.ApprovalError(
            _("Over the free budget: write the reason for approving it in the comment.")
        )
    return "\n".join(
        part
        for part in (
            reason,
            _(
                "Approved over budget by %(name)s: %(comment)s",
                name=actor.display_name,
                comment=comment,
            )
            if comment
            else "",
        )
        if part
    )


def on_approved(activity: Activity, actor: User) -> None:
    """Approved (the engine has moved it): over the free budget only with the leader's
    reason, kept. Its own lines are left out of the reserved budget they are checked
    against: they reserve it from now on."""
    reason = check_approval(activity, activity.budget_lines, actor, exclude_activity_id=activity.id)
    if reason:
        activity.over_budget_reason = reason[:4000]


def activity_title(activity: Activity) -> str:
    return f"市场活动 {activity.number} · {activity.theme[:60]} · {money(activity.budget_total)}"


FLOW = engine.Flow(
    doc_type="Activity",
    model=Activity,
    label=_l("Market activity plan"),
    steps=engine.manager_then_leader(needs_executive, LazyString(executive_when_label)),
    endpoint="brand.activity",
    id_arg="activity_id",
    applicant=lambda activity: activity.owner,
    title=activity_title,
    review=engine.STANDARD_REVIEW,
    on_approved=on_approved,
    settings=[THRESHOLD.key],
)

# --- the list ----------------------------------------------------------------------------------------


def _year(raw: str) -> int | None:
    value = integer(raw)
    return value if value is not None and 1990 <= value <= 2100 else None


ACTIVITIES = ListSpec(
    "activity",
    columns=[
        Column("number", _l("No."), lambda a: a.number, sort=Activity.number),
        Column("theme", _l("Theme"), lambda a: a.theme, sort=Activity.theme),
        Column("kind", _l("Kind"), lambda a: kind_label(a.kind), sort=Activity.kind),
        Column("start", _l("Dates"), sort=Activity.start_on, export=False),
        Column("starts", _l("Starts"), lambda a: a.start_on, screen=False),
        Column("ends", _l("Ends"), lambda a: a.end_on, screen=False),
        Column("place", _l("Place"), lambda a: a.place, sort=Activity.place),
        Column("form", _l("Form"), lambda a: form_label(a.form), screen=False),
        Column("planner", _l("Planner"), lambda a: a.owner.display_name if a.owner else ""),
        Column(
            "participants",
            _l("Target participants"),
            lambda a: a.target_participants,
            screen=False,
        ),
        Column("leads", _l("Target leads"), lambda a: a.target_leads, screen=False),
        Column("sales", _l("Target sales"), lambda a: a.target_sales, screen=False),
        Column("budget", _l("Budget"), lambda a: a.budget_total, cls="num"),
        Column("status", _l("Status"), lambda a: status_label(a.status), sort=Activity.status),
    ],
    filters=[
        Filter("status", one_of(*ACTIVITY_STATUSES)),
        Filter("kind", one_of(*ACTIVITY_KINDS)),
        Filter("year", _year, default=None),
        Filter("archived", flag, default=False),
    ],
    default_sort="start",
    default_dir="desc",
    tie=Activity.id,
    # The rows, kept rendered until an activity changes (tests/web/test_brand_activities:
    # a repeated search runs fewer statements; bench/brand.py measured no clear gain).
    cache=Cached(depends=("activities",), rules=(Activity,)),
)
ActivityQuery = ACTIVITIES.Query


def _filtered(user, query):
    stmt = visible(select(Activity), user, Activity)
    stmt = stmt.where(
        Activity.archived_at.is_not(None) if query.archived else Activity.archived_at.is_(None)
    )
    if query.q:
        stmt = stmt.where(contains(query.q, Activity.theme, Activity.number, Activity.place))
    if query.status:
        stmt = stmt.where(Activity.status == query.status)
    if query.kind:
        stmt = stmt.where(Activity.kind == query.kind)
    if query.year:
        stmt = stmt.where(
            Activity.start_on <= date(query.year, 12, 31),
            Activity.end_on >= date(query.year, 1, 1),
        )
    return stmt


_ROW_PARTS = (
    joinedload(Activity.owner).options(lazyload(User.roles)),
    selectinload(Activity.budget_lines),
)


def list_activities(user, query, page_size: int) -> ListPage:
    """One page of activities with the counts by status of the filtered set
    (`page.by_status`; 3 queries)."""
    base = _filtered(user, query)
    counts = dict(
        db.session.execute(
            base.with_only_columns(Activity.status, func.count(Activity.id)).group_by(
                Activity.status
            )
        ).all()
    )
    # The count is the sum of the counts by status (one grouped statement), so the page
    # is read here, in the spec's order, rather than by ACTIVITIES.page, which counts again.
    total = sum(counts.values())
    page = min(query.page, max(1, ceil(total / page_size)))
    rows = db.session.scalars(
        ACTIVITIES.ordered(base, query)
        .options(*_ROW_PARTS)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    result = ListPage(list(rows.unique()), total, page, page_size, {})
    result.by_status = [(code, counts[code]) for code in ACTIVITY_STATUSES if counts.get(code)]
    return result


def export_activities(user, query, limit: int = EXPORT_LIMIT) -> list[Activity]:
    return ACTIVITIES.export_rows(_filtered(user, query).options(*_ROW_PARTS), query, limit)


def years_with_activities(user) -> list[int]:
    first = db.session.scalar(
        visible(select(func.min(Activity.start_on)), user, Activity).where(
            Activity.archived_at.is_(None)
        )
    )
    this = clock.today().year
    start = min(first.year if first else this, this)
    return list(range(this + 1, start - 1, -1))


# --- the month calendar ----------------------------------------------------------------------------------


@dataclass
class Bar:
    activity: Activity
    col: int  # 1..7 (Monday = 1)
    span: int
    lane: int  # 1-based row inside the week
    cut_left: bool
    cut_right: bool


@dataclass
class Week:
    days: list  # 7 dates
    bars: list
    lanes: int


@dataclass
class MonthGrid:
    first: date
    weeks: list
    today: date
    activities: list  # those touching the month itself, by start

    @property
    def count(self) -> int:
        return len(self.activities)

    @property
    def prev(self) -> str:
        return f"{self.first - timedelta(days=1):%Y-%m}"

    @property
    def next(self) -> str:
        last = _calendar.monthrange(self.first.year, self.first.month)[1]
        return f"{self.first + timedelta(days=last):%Y-%m}"


def parse_month(raw: str | None, today: date) -> date:
    try:
        year, month = (int(x) for x in (raw or "").split("-"))
        if 1990 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1)
    except ValueError:
        pass
    return date(today.year, today.month, 1)


def month_grid(user, first: date, today: date) -> MonthGrid:
    """The weeks (Monday to Sunday) that show `first`'s month, with each activity as a bar
    per week it touches, stacked in lanes so bars never overlap (1 query)."""
    last = first.replace(day=_calendar.monthrange(first.year, first.month)[1])
    grid_start = first - timedelta(days=first.weekday())
    grid_end = last + timedelta(days=6 - last.weekday())
    activities = list(
        db.session.scalars(
            visible(select(Activity), user, Activity)
            .where(
                Activity.archived_at.is_(None),
                Activity.start_on <= grid_end,
                Activity.end_on >= grid_start,
            )
            .options(lazyload(Activity.owner))
            .order_by(Activity.start_on, Activity.end_on.desc(), Activity.id)
        ).unique()
    )
    weeks = []
    day = grid_start
    while day <= grid_end:
        week_end = day + timedelta(days=6)
        lanes: list[int] = []  # per lane, the last column taken
        bars = []
        for a in activities:
            if a.end_on < day or a.start_on > week_end:
                continue
            s = max(a.start_on, day)
            e = min(a.end_on, week_end)
            col = (s - day).days + 1
            span = (e - s).days + 1
            lane = next((i for i, taken in enumerate(lanes) if taken < col), None)
            if lane is None:
                lanes.append(col + span - 1)
                lane = len(lanes) - 1
            else:
                lanes[lane] = col + span - 1
            bars.append(Bar(a, col, span, lane + 1, a.start_on < day, a.end_on > week_end))
        weeks.append(Week([day + timedelta(days=i) for i in range(7)], bars, len(lanes)))
        day = week_end + timedelta(days=1)
    in_month = [a for a in activities if a.start_on <= last and a.end_on >= first]
    return MonthGrid(first, weeks, today, in_month)


def staff_conditions() -> list:
    """The conditions on User of the colleagues who may staff an activity: active, with a
    role other than administrator (also the "activity_staff" picker source)."""

    return [User.active.is_(True), User.roles.any(Role.code != "admin")]


def staff_people() -> list[User]:
    """The colleagues who may staff an activity, market people first (one query)."""
    return list(db.session.scalars(select(User).where(*staff_conditions()).order_by(User.id)))


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, ACTIVITY_STATUSES, ACTIVITY_KINDS, ACTIVITY_FORMS, ACTIVITY_CATEGORIES)
    settings.register(THRESHOLD)
    engine.register_flow(FLOW)
    describe(
        Activity,
        title=_l("Market activity"),
        fields={
            "kind": _l("Kind"),
            "theme": _l("Theme"),
            "purpose": _l("Activity purpose"),
            "target_participants": _l("Target participants"),
            "target_leads": _l("Target leads"),
            "target_sales": _l("Target sales"),
            "start_on": _l("Starts"),
            "end_on": _l("Ends"),
            "place": _l("Place"),
            "content": _l("Activity content"),
            "form": _l("Form"),
            "audience": _l("Target audience"),
            "status": _l("Status"),
            "over_budget_reason": _l("Reason for exceeding the budget"),
            "cancel_reason": _l("Reason for cancelling"),
            "submitted_at": _l("Submitted"),
            "approved_at": _l("Approved"),
            "number": _l("No."),
            "archived_at": _l("Archived"),
            # the plan as a change request stores it (brand/changes.py)
            "staff": _l("Staff"),
            "lines": _l("Budget lines"),
            "over_budget": _l("Over budget"),
        },
        values={"status": status_label, "kind": kind_label, "form": form_label},
    )
    describe(
        ActivityBudgetLine,
        title=_l("Activity budget line"),
        fields={"category": _l("Category")},
        values={"category": CATEGORIES},
    )
    describe(
        ActivityStaff,
        title=_l("Activity staff"),
        fields={"user_id": _l("Colleague"), "duty": _l("Duty")},
    )
    describe_note("brand-scan", _l("Daily check: activities started and ended on their dates"))
