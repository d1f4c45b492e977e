"""Monitoring (P6.3): budget against actual, spending pace, anomalies and their decisions.

Everything is added up in SQL with GROUP BY: the report runs the same few
statements however many claims there are. "Actual" is what was approved or
paid; claims still under review are shown apart as "committed".

Anomaly rules (each explained on the page in plain words):
  over_budget        a category's actual in a month is above its budget for that month
  pace               a category has spent more than 20 points ahead of the share of the year elapsed
  outlier            one claim is more than 3 x the median claim of its category in the year
  duplicate_invoice  the same invoice number is on two or more claims that were not withdrawn
  split              one applicant's claims of one day and category are each under the
                     approval threshold but together reach it
Each finding is stored once (ExpenseAnomaly.key is unique), notified once to
the marketing manager and finance (the notice's title says what and how much), and
closed by the decision the manager records, which resolves those notices.

When the scan runs: where the figures change (a claim submitted, approved or paid:
expense/claims.py), every day by `flask expense-scan` (the pace rule moves with
the calendar, not with the data), and when finance or the manager asks for it on
the monitoring page (a POST, e.g. after a budget change). Opening the page only reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, extract, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from mktapp.brand.activities import reserved_statement
from mktapp.core import audit, audit_display, clock, settings, vocab
from mktapp.core.errors import DomainError
from mktapp.core.i18n import money
from mktapp.core.money import CENT, ZERO
from mktapp.core.notify import notify, resolve
from mktapp.core.settings import SettingSpec
from mktapp.core.vocab import Vocabulary
from mktapp.expense.common import (
    MONTHS,
    category_label,
    elapsed_share,
    month_label,
    year_bounds,
)
from mktapp.extensions import db
from mktapp.models import Role, User, utcnow
from mktapp.models.expense import CATEGORIES, Budget, BudgetLine, ExpenseAnomaly, ExpenseClaim

ACTUAL_STATUSES = ("approved", "paid")
COMMITTED_STATUSES = ("pending",)
COUNTED_STATUSES = ACTUAL_STATUSES + COMMITTED_STATUSES
PACE_POINTS = Decimal(20)
OUTLIER_FACTOR = Decimal(3)
OUTLIER_MIN_CLAIMS = 3

SPLIT_KEY = "expense.split_threshold"
LEADER_KEY = "expense.leader_threshold"

KINDS = ("over_budget", "pace", "outlier", "duplicate_invoice", "split")
# A kind's tag is coloured by its weight (danger or warning), not by a class of its own.
KIND_LABELS = Vocabulary(
    "anomaly_kind",
    {
        "over_budget": _l("Over budget"),
        "pace": _l("Spending ahead of time"),
        "outlier": _l("Unusually large claim"),
        "duplicate_invoice": _l("Duplicate invoice number"),
        "split": _l("Possibly split claims"),
    },
    tag_class="",
)
RULES = {
    "over_budget": _l(
        "A category's actual spending in a month is higher than the budget for that month."
    ),
    "pace": _l(
        "Since the start of the year a category has used a share of its yearly budget more"
        " than 20 percentage points above the share of the year that has passed."
    ),
    "outlier": _l(
        "A single claim is more than three times the median claim of its category in the year"
        " (categories with at least three claims)."
    ),
    "duplicate_invoice": _l(
        "The same invoice number appears on two or more claims that were not withdrawn."
    ),
    "split": _l(
        "One person's claims of the same day and category are each below the approval"
        " threshold of %(threshold)s but add up to it or more."
    ),
}


class AnomalyError(DomainError):
    """Something asked that cannot be done; str() is the message for the user."""


def split_threshold() -> Decimal:
    """The approval threshold a split claim stays under.

    The company leader's threshold for claims when one is set (a split keeps
    each claim below it); otherwise the split-claim setting.
    """
    if LEADER_KEY in settings.REGISTRY:
        leader = Decimal(settings.get(LEADER_KEY))
        if leader > 0:
            return leader
    return Decimal(settings.get(SPLIT_KEY))


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else (part / whole)


# --- the report ------------------------------------------------------------------


@dataclass
class Cell:
    budget: Decimal = ZERO
    actual: Decimal = ZERO
    committed: Decimal = ZERO
    # Held by approved, running and ended market activities (brand/activities.py).
    reserved: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        """What can still be planned: budget - spent (actual) - reserved."""
        return self.budget - self.actual - self.reserved

    @property
    def over(self) -> bool:
        return self.actual > self.budget

    @property
    def variance(self) -> Decimal:
        """Budget left (negative: over budget)."""
        return self.budget - self.actual


@dataclass
class Row:
    code: str
    label: object  # a lazy string: shown in the reader's language
    months: list[Cell]
    total: Cell
    elapsed: Decimal

    @property
    def spent_share(self) -> Decimal | None:
        return _share(self.total.actual, self.total.budget)

    @property
    def spent_pct(self) -> Decimal | None:
        share = self.spent_share
        return None if share is None else (share * 100).quantize(Decimal("0.1"))

    @property
    def pace_gap(self) -> Decimal | None:
        """Percentage points spent ahead (+) or behind (-) the share of the year elapsed."""
        pct = self.spent_pct
        return None if pct is None else pct - (self.elapsed * 100).quantize(Decimal("0.1"))

    @property
    def ahead(self) -> bool:
        gap = self.pace_gap
        return gap is not None and gap > PACE_POINTS


@dataclass
class Report:
    year: int
    budget: Budget | None
    rows: list[Row]
    month_totals: list[Cell]
    total: Row
    elapsed: Decimal
    as_of: date
    extra: dict = field(default_factory=dict)

    @property
    def elapsed_pct(self) -> Decimal:
        return (self.elapsed * 100).quantize(Decimal("0.1"))


def _claims_in(year: int):
    start, end = year_bounds(year)
    return and_(
        ExpenseClaim.incurred_on >= start,
        ExpenseClaim.incurred_on <= end,
        ExpenseClaim.archived_at.is_(None),
    )


def report(year: int, today: date | None = None) -> Report:
    """Budget against actual by category and month for a year, with what market activities
    reserve: 4 SQL statements (each GROUP BY category and month)."""

    today = today or clock.today()
    budget = db.session.scalar(select(Budget).where(Budget.year == year))
    planned = {}
    if budget is not None:
        planned = {
            (c, m): _money(v)
            for c, m, v in db.session.execute(
                select(BudgetLine.category, BudgetLine.month, func.sum(BudgetLine.amount))
                .where(BudgetLine.budget_id == budget.id)
                .group_by(BudgetLine.category, BudgetLine.month)
            )
        }
    month = extract("month", ExpenseClaim.incurred_on)
    actual_expr = func.sum(
        case((ExpenseClaim.status.in_(ACTUAL_STATUSES), ExpenseClaim.amount), else_=literal(0))
    )
    committed_expr = func.sum(
        case((ExpenseClaim.status.in_(COMMITTED_STATUSES), ExpenseClaim.amount), else_=literal(0))
    )
    # Claims (actual, committed) and what activities reserve, in one statement (UNION ALL).
    claims_part = (
        select(
            ExpenseClaim.category,
            month,
            actual_expr,
            committed_expr,
            literal(0, type_=ExpenseClaim.amount.type),
        )
        .where(_claims_in(year), ExpenseClaim.status.in_(COUNTED_STATUSES))
        .group_by(ExpenseClaim.category, month)
    )
    reserved_part = reserved_statement(year, zeros=2)
    spent, reserved = {}, {}
    for c, m, a, p, r in db.session.execute(claims_part.union_all(reserved_part)):
        key = (c, int(m))
        if a or p:
            spent[key] = (_money(a), _money(p))
        if r:
            reserved[key] = _money(r)
    elapsed = elapsed_share(year, today)
    codes = list(CATEGORIES)
    # Spending in a category the budget does not know still shows (as "other" would hide it).
    codes += sorted(({c for c, _m in spent} | {c for c, _m in reserved}) - set(codes))
    rows = []
    for code in codes:
        cells = []
        for m in MONTHS:
            a, p = spent.get((code, m), (ZERO, ZERO))
            cells.append(Cell(planned.get((code, m), ZERO), a, p, reserved.get((code, m), ZERO)))
        total = Cell(
            sum((c.budget for c in cells), ZERO),
            sum((c.actual for c in cells), ZERO),
            sum((c.committed for c in cells), ZERO),
            sum((c.reserved for c in cells), ZERO),
        )
        # Lazy labels: the report is also computed outside a request (the daily scan).
        rows.append(Row(code, CATEGORIES.get(code, code), cells, total, elapsed))
    month_totals = [
        Cell(
            sum((r.months[i].budget for r in rows), ZERO),
            sum((r.months[i].actual for r in rows), ZERO),
            sum((r.months[i].committed for r in rows), ZERO),
            sum((r.months[i].reserved for r in rows), ZERO),
        )
        for i in range(12)
    ]
    grand = Cell(
        sum((c.budget for c in month_totals), ZERO),
        sum((c.actual for c in month_totals), ZERO),
        sum((c.committed for c in month_totals), ZERO),
        sum((c.reserved for c in month_totals), ZERO),
    )
    total_row = Row("", _l("Total"), month_totals, grand, elapsed)
    return Report(year, budget, rows, month_totals, total_row, elapsed, today)


def years_available() -> list[int]:
    """Years with a budget, plus this year (for the year picker)."""
    years = set(db.session.scalars(select(Budget.year)))
    years.add(clock.today().year)
    return sorted(years, reverse=True)


# --- anomaly detection -------------------------------------------------------------


@dataclass
class Finding:
    kind: str
    key: str
    year: int
    category: str = ""
    month: int | None = None
    claim_id: int | None = None
    detail: dict = field(default_factory=dict)


def _budget_findings(rep: Report) -> list[Finding]:
    """Over budget (rule a) and pace (rule b), read off the report: no claim is loaded."""
    found = []
    if rep.budget is None:
        return found
    for row in rep.rows:
        for m, cell in zip(MONTHS, row.months, strict=True):
            if cell.over:
                found.append(
                    Finding(
                        "over_budget",
                        f"over:{rep.year}:{row.code}:{m}",
                        rep.year,
                        row.code,
                        m,
                        detail={"actual": str(cell.actual), "budget": str(cell.budget)},
                    )
                )
        if row.ahead:
            found.append(
                Finding(
                    "pace",
                    f"pace:{rep.year}:{row.code}",
                    rep.year,
                    row.code,
                    detail={
                        "spent_pct": str(row.spent_pct),
                        "elapsed_pct": str(rep.elapsed_pct),
                        "actual": str(row.total.actual),
                        "budget": str(row.total.budget),
                    },
                )
            )
    return found


def category_medians(year: int) -> dict[str, tuple[Decimal, int]]:
    """{category: (median claim, number of claims)} of a year, by window functions.

    SQLite has no median(): rank the claims per category (row_number, count) and
    average the middle one (odd count) or the middle two (even count).
    """
    base = _claims_in(year) & ExpenseClaim.status.in_(COUNTED_STATUSES)
    ranked = (
        select(
            ExpenseClaim.category.label("category"),
            ExpenseClaim.amount.label("amount"),
            func.row_number()
            .over(partition_by=ExpenseClaim.category, order_by=ExpenseClaim.amount)
            .label("rn"),
            func.count().over(partition_by=ExpenseClaim.category).label("n"),
        )
        .where(base)
        .subquery("ranked")
    )
    rows = db.session.execute(
        select(ranked.c.category, func.avg(ranked.c.amount), func.max(ranked.c.n))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.category)
    ).all()
    return {category: (_money(median), int(n)) for category, median, n in rows}


def _outlier_findings(year: int) -> list[Finding]:
    """Rule c: claims over 3x their category's median of the year (2 statements)."""
    stats = category_medians(year)
    medians = {c: m for c, (m, n) in stats.items() if n >= OUTLIER_MIN_CLAIMS}
    # Always the same two statements (no early return), whatever the data.
    whens = [(ExpenseClaim.category == c, literal(m * OUTLIER_FACTOR)) for c, m in medians.items()]
    limit = case(*whens, else_=None) if whens else literal(None, type_=ExpenseClaim.amount.type)
    rows = db.session.execute(
        select(
            ExpenseClaim.id,
            ExpenseClaim.number,
            ExpenseClaim.category,
            ExpenseClaim.amount,
            ExpenseClaim.incurred_on,
        )
        .where(
            _claims_in(year),
            ExpenseClaim.status.in_(COUNTED_STATUSES),
            ExpenseClaim.category.in_(list(medians)),
            ExpenseClaim.amount > limit,
        )
        .order_by(ExpenseClaim.id)
    ).all()
    return [
        Finding(
            "outlier",
            f"outlier:{claim_id}",
            year,
            category,
            incurred.month,
            claim_id,
            {
                "number": number,
                "amount": str(_money(amount)),
                "median": str(medians[category]),
                "n": stats[category][1],
            },
        )
        for claim_id, number, category, amount, incurred in rows
    ]


def _duplicate_findings(year: int) -> list[Finding]:
    """Rule d: an invoice number on two or more claims that were not withdrawn."""
    start, end = year_bounds(year)
    invoice = func.upper(func.trim(ExpenseClaim.invoice_number))
    in_year = func.sum(
        case((and_(ExpenseClaim.incurred_on >= start, ExpenseClaim.incurred_on <= end), 1), else_=0)
    )
    rows = db.session.execute(
        select(invoice, func.count(ExpenseClaim.id), func.max(ExpenseClaim.id))
        .where(
            func.trim(ExpenseClaim.invoice_number) != "",
            ExpenseClaim.status != "withdrawn",
            ExpenseClaim.archived_at.is_(None),
        )
        .group_by(invoice)
        .having(func.count(ExpenseClaim.id) >= 2, in_year >= 1)
        .order_by(invoice)
    ).all()
    return [
        Finding(
            "duplicate_invoice",
            f"dup:{number}"[:120],
            year,
            claim_id=last_id,
            detail={"invoice": number, "count": int(n)},
        )
        for number, n, last_id in rows
    ]


def _split_findings(year: int, threshold: Decimal) -> list[Finding]:
    """Rule e: same applicant, day and category; each under the threshold, together at or over it."""
    rows = db.session.execute(
        select(
            ExpenseClaim.owner_id,
            ExpenseClaim.incurred_on,
            ExpenseClaim.category,
            func.count(ExpenseClaim.id),
            func.sum(ExpenseClaim.amount),
            func.max(ExpenseClaim.id),
        )
        .where(
            _claims_in(year),
            ExpenseClaim.status.in_(COUNTED_STATUSES),
            ExpenseClaim.amount < threshold,
        )
        .group_by(ExpenseClaim.owner_id, ExpenseClaim.incurred_on, ExpenseClaim.category)
        .having(func.count(ExpenseClaim.id) >= 2, func.sum(ExpenseClaim.amount) >= threshold)
        .order_by(ExpenseClaim.incurred_on)
    ).all()
    return [
        Finding(
            "split",
            f"split:{owner}:{day.isoformat()}:{category}",
            year,
            category,
            day.month,
            last_id,
            {
                "owner_id": owner,
                "day": day.isoformat(),
                "count": int(n),
                "total": str(_money(total)),
                "threshold": str(threshold),
            },
        )
        for owner, day, category, n, total, last_id in rows
    ]


def detect(year: int, rep: Report | None = None) -> list[Finding]:
    """Every finding for a year under the five rules (3 statements beyond the report)."""
    rep = rep or report(year)
    return (
        _budget_findings(rep)
        + _outlier_findings(year)
        + _duplicate_findings(year)
        + _split_findings(year, split_threshold())
    )


def _insert_once(finding: Finding) -> bool:
    """Store a finding unless its key is known; True when this call stored it (race-safe)."""
    values = {
        "kind": finding.kind,
        "key": finding.key,
        "year": finding.year,
        "category": finding.category,
        "month": finding.month,
        "claim_id": finding.claim_id,
        "detail": json.dumps(finding.detail, ensure_ascii=False),
        "detected_at": utcnow(),
        "status": "open",
        "decision": "",
    }
    dialect = db.session.get_bind().dialect.name
    table = ExpenseAnomaly.__table__
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = (
            module.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id)
        )
        # RETURNING gives a row only when this statement inserted it.
        return db.session.execute(statement).first() is not None
    # pragma: no cover - other databases: plain insert after the key check
    return db.session.execute(table.insert().values(**values)).rowcount == 1


def watchers() -> list[User]:
    """Who hears of a new anomaly: the marketing manager(s) and finance."""
    return list(
        db.session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.code.in_(["marketing_manager", "finance"]), User.active.is_(True))
            .distinct()
            .order_by(User.id)
        )
    )


def scan(year: int, rep: Report | None = None) -> list[ExpenseAnomaly]:
    """Detect, store each new finding once and notify the watchers once; returns the new ones.

    The caller commits. Known findings cost one statement (the keys of the year).
    """
    findings = detect(year, rep)
    if not findings:
        return []
    keys = [f.key for f in findings]
    known = set(db.session.scalars(select(ExpenseAnomaly.key).where(ExpenseAnomaly.key.in_(keys))))
    fresh = [f for f in findings if f.key not in known]
    stored = [f.key for f in fresh if _insert_once(f)]
    if not stored:
        return []
    anomalies = list(
        db.session.scalars(
            select(ExpenseAnomaly).where(ExpenseAnomaly.key.in_(stored)).order_by(ExpenseAnomaly.id)
        )
    )
    _notify(anomalies)
    return anomalies


def anomaly_task(anomaly: ExpenseAnomaly) -> str:
    """The task an anomaly's notices name: the manager's decision on it."""
    return f"anomaly:{anomaly.id}"


def _notify(anomalies: list[ExpenseAnomaly]) -> None:

    people = watchers()
    for anomaly in anomalies:
        if has_request_context():
            url = url_for("expense.anomaly_detail", anomaly_id=anomaly.id)
        else:
            url = current_app.url_map.bind("localhost").build(
                "expense.anomaly_detail", {"anomaly_id": anomaly.id}
            )
        for user in people:
            with force_locale(user.locale or "zh_Hans"):
                notify(
                    user,
                    headline(anomaly),
                    body=describe(anomaly),
                    url=url,
                    task=anomaly_task(anomaly),
                    once=anomaly_task(anomaly),
                )


# --- reading and deciding ------------------------------------------------------------


def _person_of(anomaly: ExpenseAnomaly, d: dict) -> User | None:
    """Whose claims a "split" anomaly is about (loaded with the list, or by id)."""
    owner = getattr(anomaly, "_person", None)
    if owner is None and d.get("owner_id"):
        owner = db.session.get(User, d.get("owner_id"))
    return owner


def detail_of(anomaly: ExpenseAnomaly) -> dict:
    try:
        return json.loads(anomaly.detail or "{}")
    except ValueError:
        return {}


def headline(anomaly: ExpenseAnomaly) -> str:
    """A notice's title: what was found and how much, in the current language
    ("费用异常：品牌宣传费 11月超预算 ¥3,000.00")."""

    d = detail_of(anomaly)
    cat = category_label(anomaly.category) if anomaly.category else ""
    if anomaly.kind == "over_budget":
        excess = _money(d.get("actual", 0)) - _money(d.get("budget", 0))
        return str(
            _l(
                "Spending anomaly: %(category)s, %(month)s over budget by %(amount)s",
                category=cat,
                month=month_label(anomaly.month) if anomaly.month else "",
                amount=money(excess),
            )
        )
    if anomaly.kind == "pace":
        return str(
            _l(
                "Spending anomaly: %(category)s ahead of time, %(spent)s%% of the year's"
                " budget spent (%(amount)s)",
                category=cat,
                spent=d.get("spent_pct", "?"),
                amount=money(d.get("actual", 0)),
            )
        )
    if anomaly.kind == "outlier":
        return str(
            _l(
                "Spending anomaly: claim %(number)s of %(amount)s, over 3 x the usual",
                number=d.get("number", ""),
                amount=money(d.get("amount", 0)),
            )
        )
    if anomaly.kind == "duplicate_invoice":
        return str(
            _l(
                "Spending anomaly: invoice number %(invoice)s on %(count)s claims",
                invoice=d.get("invoice", ""),
                count=d.get("count", "?"),
            )
        )
    if anomaly.kind == "split":
        owner = _person_of(anomaly, d)
        return str(
            _l(
                "Spending anomaly: %(count)s claims by %(person)s on %(day)s, together %(amount)s",
                count=d.get("count", "?"),
                person=owner.display_name if owner else "?",
                day=d.get("day", ""),
                amount=money(d.get("total", 0)),
            )
        )
    return str(_l("Spending anomaly: %(kind)s", kind=KIND_LABELS.label(anomaly.kind)))


def describe(anomaly: ExpenseAnomaly) -> str:
    """One sentence saying what was found, in the current language."""

    d = detail_of(anomaly)
    cat = category_label(anomaly.category) if anomaly.category else ""
    if anomaly.kind == "over_budget":
        return str(
            _l(
                "%(category)s, %(year)s-%(month)02d: actual %(actual)s against a budget of %(budget)s.",
                category=cat,
                year=anomaly.year,
                month=anomaly.month or 0,
                actual=money(d.get("actual", 0)),
                budget=money(d.get("budget", 0)),
            )
        )
    if anomaly.kind == "pace":
        return str(
            _l(
                "%(category)s: %(spent)s%% of the year's budget spent with %(elapsed)s%% of the"
                " year elapsed (%(actual)s of %(budget)s).",
                category=cat,
                spent=d.get("spent_pct", "?"),
                elapsed=d.get("elapsed_pct", "?"),
                actual=money(d.get("actual", 0)),
                budget=money(d.get("budget", 0)),
            )
        )
    if anomaly.kind == "outlier":
        return str(
            _l(
                "Claim %(number)s (%(category)s) is %(amount)s, more than 3 x the category's"
                " median of %(median)s over %(n)s claims.",
                number=d.get("number", ""),
                category=cat,
                amount=money(d.get("amount", 0)),
                median=money(d.get("median", 0)),
                n=d.get("n", "?"),
            )
        )
    if anomaly.kind == "duplicate_invoice":
        return str(
            _l(
                "Invoice number %(invoice)s is on %(count)s claims.",
                invoice=d.get("invoice", ""),
                count=d.get("count", "?"),
            )
        )
    if anomaly.kind == "split":
        owner = _person_of(anomaly, d)
        return str(
            _l(
                "%(person)s claimed %(count)s times for %(category)s on %(day)s, together"
                " %(total)s, each under the threshold of %(threshold)s.",
                person=owner.display_name if owner else "?",
                count=d.get("count", "?"),
                category=cat,
                day=d.get("day", ""),
                total=money(d.get("total", 0)),
                threshold=money(d.get("threshold", 0)),
            )
        )
    return anomaly.key


def related_claims(anomaly: ExpenseAnomaly) -> list[ExpenseClaim]:
    """The claims a finding is about (for its page)."""
    d = detail_of(anomaly)
    query = select(ExpenseClaim).order_by(ExpenseClaim.incurred_on, ExpenseClaim.id)
    if anomaly.kind == "duplicate_invoice":
        query = query.where(
            func.upper(func.trim(ExpenseClaim.invoice_number)) == d.get("invoice", ""),
            ExpenseClaim.archived_at.is_(None),
        )
    elif anomaly.kind == "split":
        day = date.fromisoformat(d["day"]) if d.get("day") else None
        query = query.where(
            ExpenseClaim.owner_id == d.get("owner_id"),
            ExpenseClaim.incurred_on == day,
            ExpenseClaim.category == anomaly.category,
            ExpenseClaim.status.in_(COUNTED_STATUSES),
            ExpenseClaim.archived_at.is_(None),
        )
    elif anomaly.kind == "outlier" and anomaly.claim_id:
        query = query.where(ExpenseClaim.id == anomaly.claim_id)
    elif anomaly.kind == "over_budget" and anomaly.month:
        start = date(anomaly.year, anomaly.month, 1)
        end = date(anomaly.year + (anomaly.month == 12), anomaly.month % 12 + 1, 1)
        query = (
            query.where(
                ExpenseClaim.category == anomaly.category,
                ExpenseClaim.incurred_on >= start,
                ExpenseClaim.incurred_on < end,
                ExpenseClaim.status.in_(ACTUAL_STATUSES),
                ExpenseClaim.archived_at.is_(None),
            )
            .order_by(None)
            .order_by(ExpenseClaim.amount.desc())
            .limit(20)
        )
    else:
        return []
    return list(db.session.scalars(query))


def prime_people(anomalies: list[ExpenseAnomaly]) -> None:
    """Load the people the descriptions name in one query (not one per anomaly)."""
    splits = [a for a in anomalies if a.kind == "split"]
    ids = {detail_of(a).get("owner_id") for a in splits} - {None}
    if not ids:
        return
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    for anomaly in splits:
        # Kept on the object: the session's identity map holds its users only weakly.
        anomaly._person = people.get(detail_of(anomaly).get("owner_id"))


def list_anomalies(
    year: int | None = None, status: str | None = None, limit: int | None = None
) -> list[ExpenseAnomaly]:
    """Anomalies, open first, newest first, with who decided and the people they name."""

    query = select(ExpenseAnomaly).options(selectinload(ExpenseAnomaly.decided_by))
    if year:
        query = query.where(ExpenseAnomaly.year == year)
    if status in ("open", "closed"):
        query = query.where(ExpenseAnomaly.status == status)
    query = query.order_by(
        case((ExpenseAnomaly.status == "open", 0), else_=1),
        ExpenseAnomaly.detected_at.desc(),
        ExpenseAnomaly.id.desc(),
    )
    if limit:
        query = query.limit(limit)
    rows = list(db.session.scalars(query))
    prime_people(rows)
    return rows


def open_count(year: int | None = None) -> int:
    query = select(func.count(ExpenseAnomaly.id)).where(ExpenseAnomaly.status == "open")
    if year:
        query = query.where(ExpenseAnomaly.year == year)
    return db.session.scalar(query) or 0


def decide(actor: User, anomaly: ExpenseAnomaly, decision: str) -> ExpenseAnomaly:
    """Record the decision taken about a finding, which closes it."""

    decision = (decision or "").strip()
    if not decision:
        raise AnomalyError(_l("Write down the decision taken."))
    if anomaly.status != "open":
        raise AnomalyError(_l("This anomaly is already closed."))
    anomaly.status = "closed"
    anomaly.decision = decision
    anomaly.decided_by_id = actor.id
    anomaly.decided_at = utcnow()
    db.session.flush()
    audit.log(anomaly, "decide", {"decision": ["", decision]}, note=decision)
    # Decided: the notices that reported it are done, for everyone they went to.

    resolve(anomaly_task(anomaly))
    return anomaly


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, KIND_LABELS)
    settings.register(
        SettingSpec(
            SPLIT_KEY,
            _l("Split-claim threshold"),
            Decimal("5000.00"),
            kind="money",
            help=_l(
                "Claims of one applicant, day and category that are each below this amount"
                " but together reach it are reported as a possible split."
            ),
            group=_l("Marketing expenses"),
        )
    )
    # decide() logs its decision on the anomaly; the daily scan marks what it changes.
    audit_display.describe(
        ExpenseAnomaly, title=_l("Spending anomaly"), fields={"decision": _l("Decision taken")}
    )
    audit.describe_action("decide", _l("Decided"))
    audit.describe_note("expense-scan", _l("Daily check: spending anomalies"))
