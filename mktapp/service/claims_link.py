"""Expense claims linked to an after-sales ticket (P5.5): what was claimed for its cost.

A claim says what it paid for (ExpenseClaim.link_type "ticket", link_id the ticket's id;
see expense/claims.py). A returned or withdrawn claim claims nothing; an archived one
neither. A draft or a claim under review counts: it is money asked for the ticket.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import ExpenseClaim, Ticket

# The claims that no longer ask for money (expense/claims.py STATUSES).
NOT_CLAIMING = ("rejected", "withdrawn")


def _of(ticket: Ticket):
    return (
        ExpenseClaim.link_type == "ticket",
        ExpenseClaim.link_id == ticket.id,
        ExpenseClaim.status.not_in(NOT_CLAIMING),
        ExpenseClaim.archived_at.is_(None),
    )


def claims_of(ticket: Ticket, user: Any = None) -> list[ExpenseClaim]:
    """The claims made for this ticket, oldest first; with a user, only those they may see."""
    stmt = select(ExpenseClaim).where(*_of(ticket))
    if user is not None:
        stmt = visible(stmt, user, ExpenseClaim)
    return list(db.session.scalars(stmt.order_by(ExpenseClaim.incurred_on, ExpenseClaim.id)))


def claimed_total(ticket: Ticket) -> Decimal:
    """What the ticket's claims ask for in all (every reader sees the same total)."""
    total = db.session.scalar(select(func.sum(ExpenseClaim.amount)).where(*_of(ticket)))
    return Decimal(total or 0).quantize(Decimal("0.01"))
