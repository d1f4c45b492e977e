"""Shared helpers of the expense chapter (owned by helper G; helper F adds at the end)."""

from __future__ import annotations

# --- budget remaining for the claim form (helper F) -------------------------------
from calendar import monthrange  # noqa: E402
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from mktapp.extensions import db  # noqa: E402
from mktapp.models import Budget, BudgetLine, ExpenseClaim  # noqa: E402

# Claims that use up budget: under review, approved, paid (not drafts, rejected, withdrawn).
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
