"""Budgets (P6.1): one per fiscal year, by category and month, approved by the executive.

The marketing manager fills in the grid while the budget is a draft (or after
it was returned); the executive approves it through the approval engine, whose
hooks below are the only place the budget's status changes. After approval a
change is an adjustment with a reason (BudgetAdjustment + audit entry), never
a silent overwrite. Finance or the manager closes a finished year; a closed
year takes no adjustments and no new lines.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import audit, vocab
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.i18n import money
from mktapp.core.permissions import can, visible
from mktapp.core.vocab import Vocabulary
from mktapp.expense.common import CATEGORY_NAMES_ZH, MONTHS, QUARTERS
from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.expense import CATEGORIES, Budget, BudgetAdjustment, BudgetLine

Cells = dict[tuple[str, int], Decimal]

EDITABLE = ("draft", "rejected")
STATUS_LABELS = Vocabulary(
    "budget_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Awaiting approval"),
        "approved": _l("Approved"),
        "rejected": _l("Returned"),
    },
)
# A budget's status tag takes its colour from here, not from a class per status.
STATUS_TAGS = {
    "draft": "tag-muted",
    "pending": "tag-warning",
    "approved": "tag-success",
    "rejected": "tag-danger",
}


class BudgetError(DomainError):
    """A change the budget does not allow; str() is the message for the user (422)."""


class BudgetClosed(BudgetError):
    pass


class NotEditable(BudgetError):
    pass


class YearTaken(BudgetError):
    pass


class AdjustmentInvalid(BudgetError):
    """Bad adjustment input; `field` names the form field the message belongs to."""

    def __init__(self, message, field: str = ""):
        super().__init__(message, field or None)


# --- reading -----------------------------------------------------------------


def cells_of(budget: Budget) -> Cells:
    """Every (category, month) amount of the budget, zero where no line exists."""
    cells: Cells = {(c, m): Decimal("0.00") for c in CATEGORIES for m in MONTHS}
    for line in budget.lines:
        cells[(line.category, line.month)] = line.amount
    return cells


def empty_cells() -> Cells:
    return {(c, m): Decimal("0.00") for c in CATEGORIES for m in MONTHS}


def totals(cells: Cells) -> dict:
    """Row (category), column (month), quarter and grand totals of a grid."""
    rows = {
        c: sum((cells.get((c, m), Decimal(0)) for m in MONTHS), Decimal("0.00")) for c in CATEGORIES
    }
    cols = {
        m: sum((cells.get((c, m), Decimal(0)) for c in CATEGORIES), Decimal("0.00")) for m in MONTHS
    }
    quarters = {
        (c, q): sum((cells.get((c, m), Decimal(0)) for m in months), Decimal("0.00"))
        for c in CATEGORIES
        for q, months in QUARTERS
    }
    quarter_cols = {q: sum((cols[m] for m in months), Decimal("0.00")) for q, months in QUARTERS}
    return {
        "rows": rows,
        "cols": cols,
        "quarters": quarters,
        "quarter_cols": quarter_cols,
        "grand": sum(rows.values(), Decimal("0.00")),
    }


def list_budgets(user: User) -> list[tuple[Budget, Decimal]]:
    """Budgets newest year first, each with its total (2 queries)."""

    budgets = list(db.session.scalars(visible(select(Budget), user).order_by(Budget.year.desc())))
    sums = dict(
        db.session.execute(
            select(BudgetLine.budget_id, func.sum(BudgetLine.amount))
            .where(BudgetLine.budget_id.in_([b.id for b in budgets] or [0]))
            .group_by(BudgetLine.budget_id)
        ).all()
    )
    return [(b, Decimal(sums.get(b.id) or 0)) for b in budgets]


def adjustments(budget: Budget) -> list[BudgetAdjustment]:
    return list(
        db.session.scalars(
            select(BudgetAdjustment)
            .where(BudgetAdjustment.budget_id == budget.id)
            .order_by(BudgetAdjustment.at.desc(), BudgetAdjustment.id.desc())
        )
    )


def budget_for_year(year: int) -> Budget | None:
    return db.session.scalar(select(Budget).where(Budget.year == year))


# --- who may ----------------------------------------------------------------


def may_edit(user: User, budget: Budget) -> bool:
    return can(user, "expense.budget") and budget.status in EDITABLE and not budget.closed


def may_submit(user: User, budget: Budget) -> bool:
    return may_edit(user, budget) and budget.owner_id == user.id


def may_adjust(user: User, budget: Budget) -> bool:
    return can(user, "expense.budget") and budget.status == "approved" and not budget.closed


def may_close(user: User, budget: Budget) -> bool:
    return can(user, "expense.close") and not budget.closed


# --- changes -----------------------------------------------------------------


def _closed_message(budget: Budget) -> str:
    return str(
        _l(
            "The year %(year)s is closed: its budget takes no new lines or adjustments.",
            year=budget.year,
        )
    )


def _write_cells(budget: Budget, cells: Cells) -> None:
    existing = {(line.category, line.month): line for line in budget.lines}
    for (category, month), amount in cells.items():
        if category not in CATEGORIES or month not in MONTHS:
            raise BudgetError(_l("Unknown category or month."))
        line = existing.get((category, month))
        if line is None:
            if amount:
                budget.lines.append(BudgetLine(category=category, month=month, amount=amount))
        elif line.amount != amount:
            line.amount = amount


def create_budget(actor: User, year: int, title: str, notes: str, cells: Cells) -> Budget:
    """A new draft budget for a year that has none (the actor becomes its applicant)."""
    if budget_for_year(year) is not None:
        raise YearTaken(_l("There is already a budget for %(year)s.", year=year))
    budget = Budget(
        year=year,
        title=title.strip(),
        notes=(notes or "").strip(),
        status="draft",
        closed=False,
        owner_id=actor.id,
    )
    db.session.add(budget)
    _write_cells(budget, cells)
    db.session.flush()
    return budget


def update_budget(actor: User, budget: Budget, title: str, notes: str, cells: Cells) -> Budget:
    """Change a draft (or returned) budget's heading and grid."""
    if budget.closed:
        raise BudgetClosed(_closed_message(budget))
    if budget.status not in EDITABLE:
        raise NotEditable(
            _l("An approved or submitted budget cannot be edited; record an adjustment instead.")
        )
    budget.title = title.strip()
    budget.notes = (notes or "").strip()
    _write_cells(budget, cells)
    db.session.flush()
    return budget


def submit_budget(actor: User, budget: Budget) -> None:
    """Send the budget to the executive for approval."""
    if budget.closed:
        raise BudgetClosed(_closed_message(budget))
    if budget.status not in EDITABLE:
        raise NotEditable(_l("This budget is already under review or approved."))
    if not any(line.amount for line in budget.lines):
        raise BudgetError(_l("Enter at least one amount before submitting the budget."))
    try:
        engine.submit(budget, actor)
    except engine.ApprovalError as error:
        raise BudgetError(str(error)) from error


def adjust(
    actor: User, budget: Budget, category: str, month: int, new_amount: Decimal, reason: str
) -> BudgetAdjustment:
    """Change one cell of an approved budget, with the reason kept in its history."""
    if budget.closed:
        raise BudgetClosed(_closed_message(budget))
    if budget.status != "approved":
        raise NotEditable(_l("Only an approved budget is adjusted; edit a draft directly."))
    if category not in CATEGORIES:
        raise AdjustmentInvalid(_l("Choose a category from the list."), "category")
    if month not in MONTHS:
        raise AdjustmentInvalid(_l("Choose a month from the list."), "month")
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentInvalid(_l("Say why the budget changes."), "reason")
    line = next((x for x in budget.lines if x.category == category and x.month == month), None)
    old = line.amount if line is not None else Decimal("0.00")
    if old == new_amount:
        raise AdjustmentInvalid(_l("That is the current amount; enter the new one."), "new_amount")
    if line is None:
        line = BudgetLine(category=category, month=month, amount=new_amount)
        budget.lines.append(line)
    else:
        line.amount = new_amount
    record = BudgetAdjustment(
        budget_id=budget.id,
        category=category,
        month=month,
        old_amount=old,
        new_amount=new_amount,
        reason=reason,
        author_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    audit.log(
        budget,
        "adjust",
        {"amount": [str(old), str(new_amount)]},
        note=f"{CATEGORY_NAMES_ZH.get(category, category)} {month}月：{reason}",
    )
    return record


def close_budget(actor: User, budget: Budget) -> None:
    """Close the budget's year: no adjustments or new lines afterwards."""
    if not can(actor, "expense.close"):
        raise BudgetError(_l("Only finance or the marketing manager may close a year."))
    if budget.closed:
        raise BudgetClosed(_closed_message(budget))
    budget.closed = True
    db.session.flush()


# --- approval hooks: the only place Budget.status changes ----------------------------


FLOW = engine.Flow(
    doc_type="Budget",
    model=Budget,
    label=_l("Annual marketing budget"),
    steps=[engine.Step("executive", _l("Company leader"), "executive")],
    endpoint="expense.budget_detail",
    id_arg="budget_id",
    applicant=lambda budget: budget.owner,
    title=lambda budget: budget.title or f"{budget.year}年度营销预算",
    review=engine.Review(withdrawn="draft", stamps=()),  # withdrawn: a draft again
)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUS_LABELS)
    audit.describe_action("adjust", _l("Adjusted"))
    audit.describe_action("close", _l("Year closed"))
    describe(
        Budget,
        title=_l("Expense budget"),
        fields={"year": _l("Fiscal year"), "closed": _l("Year closed")},
        values={"status": STATUS_LABELS, "amount": money},  # amount: adjust_line()'s entry
    )
    describe(
        BudgetLine,
        title=_l("Budget line"),
        fields={"category": _l("Category")},
        values={"category": CATEGORIES},
    )
    engine.register_flow(FLOW)
