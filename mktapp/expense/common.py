"""What the expense chapter's parts share: categories, money input, periods (P6).

Budgets, monitoring and the claim form all use these.
"""

from __future__ import annotations

import calendar
from calendar import monthrange
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.core.money import CENT, MoneyError, parse_money  # noqa: F401 (the chapter's forms use them)
from mktapp.extensions import db
from mktapp.models import Budget, BudgetLine, ExpenseClaim
from mktapp.models.expense import CATEGORIES

MONTHS = tuple(range(1, 13))
QUARTERS = ((1, (1, 2, 3)), (2, (4, 5, 6)), (3, (7, 8, 9)), (4, (10, 11, 12)))


# The policy's own names (business text, for notes written into records and logs).
CATEGORY_NAMES_ZH = {
    "research": "市场调研费",
    "brand": "品牌推广费",
    "activity": "市场活动费",
    "advertising": "广告投放费",
    "commission": "销售提成",
    "customer": "客户维护费",
    "other": "其他",
}


def category_choices() -> list[tuple[str, str]]:
    """(code, label) for a select, in the policy's order."""
    return CATEGORIES.choices()


category_label = CATEGORIES.label


def spread_evenly(total: Decimal, parts: int = 12) -> list[Decimal]:
    """Split an amount into equal parts in whole fen; the leftover fen go to the first parts."""
    cents = int((total / CENT).to_integral_value())
    base, extra = divmod(cents, parts)
    return [Decimal(base + (1 if i < extra else 0)) * CENT for i in range(parts)]


def month_label(month: int) -> str:
    return str(MONTH_LABELS[month - 1])


MONTH_LABELS = (
    _l("Jan"),
    _l("Feb"),
    _l("Mar"),
    _l("Apr"),
    _l("May"),
    _l("Jun"),
    _l("Jul"),
    _l("Aug"),
    _l("Sep"),
    _l("Oct"),
    _l("Nov"),
    _l("Dec"),
)


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def elapsed_share(year: int, today: date | None = None) -> Decimal:
    """How much of the year has passed, 0..1 (today counts as passed)."""
    today = today or clock.today()
    if today.year < year:
        return Decimal(0)
    if today.year > year:
        return Decimal(1)
    days = 366 if calendar.isleap(year) else 365
    return Decimal(today.timetuple().tm_yday) / Decimal(days)


# --- the budget check while filling in a claim (P6.2) --------------------------


CLAIM_STATUSES_SPENDING = ("pending", "approved", "paid")


def budget_remaining(category: str, year: int, month: int) -> tuple[Decimal, Decimal, Decimal]:
    """(budget, spent, remaining) of one category in one month, in one SQL round trip.

    budget: the approved budget's line for that category and month (0 without one);
    spent: the claims of that category incurred that month that are pending,
    approved or paid (archived claims excluded); remaining = budget - spent.
    """
    first = date(year, month, 1)
    last = date(year, month, monthrange(year, month)[1])
    budget_q = (
        select(func.coalesce(func.sum(BudgetLine.amount), 0))
        .join(Budget, Budget.id == BudgetLine.budget_id)
        .where(
            Budget.year == year,
            Budget.status == "approved",
            BudgetLine.category == category,
            BudgetLine.month == month,
        )
        .scalar_subquery()
    )
    spent_q = (
        select(func.coalesce(func.sum(ExpenseClaim.amount), 0))
        .where(
            ExpenseClaim.category == category,
            ExpenseClaim.incurred_on >= first,
            ExpenseClaim.incurred_on <= last,
            ExpenseClaim.status.in_(CLAIM_STATUSES_SPENDING),
            ExpenseClaim.archived_at.is_(None),
        )
        .scalar_subquery()
    )
    budget, spent = db.session.execute(select(budget_q, spent_q)).one()
    cents = Decimal("0.01")
    budget = Decimal(str(budget or 0)).quantize(cents)
    spent = Decimal(str(spent or 0)).quantize(cents)
    return budget, spent, budget - spent
