"""Budgets (P6.1): the grid's validation, approval through the engine, adjustments, closing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.expense import budget as svc
from mktapp.expense.common import MoneyError, parse_money, spread_evenly
from mktapp.expense.forms_budget import cell_name, parse_grid
from mktapp.extensions import db
from mktapp.models import AuditLog, User
from mktapp.models.expense import Budget, BudgetAdjustment, BudgetLine

YEAR = 2031


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def draft(cells=None, year=YEAR) -> Budget:
    cells = cells or {("brand", 1): Decimal("1000.00"), ("brand", 2): Decimal("500.00")}
    return svc.create_budget(user("manager"), year, f"{year}年度营销预算", "", cells)


def approved(year=YEAR) -> Budget:
    budget = draft(year=year)
    svc.submit_budget(user("manager"), budget)
    step = engine.pending_step(engine.current_request(budget))
    engine.approve(step.id, user("boss"))
    return budget


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "0.00"),
        ("1,234.5", "1234.50"),
        ("¥12000", "12000.00"),
        ("０.５", "0.50"),
        ("0", "0.00"),
    ],
)
def test_grid_cell_accepts_ordinary_amounts(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["-1", "1.234", "1e12", "1000000000000", "abc", "NaN", "Infinity"])
def test_grid_cell_refuses_bad_amounts(text):
    with pytest.raises(MoneyError):
        parse_money(text)


def test_parse_grid_reports_each_bad_cell_by_name(app):
    with app.test_request_context():
        cells, errors, raw = parse_grid(
            {
                cell_name("brand", 1): "100",
                cell_name("brand", 2): "-5",
                cell_name("other", 12): "1.999",
            }
        )
    assert cells[("brand", 1)] == Decimal("100.00")
    assert set(errors) == {cell_name("brand", 2), cell_name("other", 12)}
    assert raw[cell_name("brand", 2)] == "-5"
    assert len(cells) == 7 * 12 - 2


def test_spreading_a_year_evenly_keeps_every_fen():
    parts = spread_evenly(Decimal("1000.00"))
    assert len(parts) == 12 and sum(parts) == Decimal("1000.00")
    assert max(parts) - min(parts) == Decimal("0.01")


def test_a_year_has_one_budget(ctx):
    draft()
    with pytest.raises(svc.YearTaken):
        draft()


def test_budget_goes_through_the_executive_and_becomes_read_only(ctx):
    budget = draft()
    assert budget.status == "draft" and svc.may_edit(user("manager"), budget)
    svc.submit_budget(user("manager"), budget)
    assert budget.status == "pending"
    step = engine.pending_step(engine.current_request(budget))
    assert step.assignee_role == "executive"
    with pytest.raises(svc.NotEditable):
        svc.update_budget(user("manager"), budget, "x", "", {})
    engine.approve(step.id, user("boss"))
    assert budget.status == "approved"
    assert not svc.may_edit(user("manager"), budget)
    with pytest.raises(svc.NotEditable):
        svc.update_budget(user("manager"), budget, "x", "", {("brand", 3): Decimal(1)})


def test_rejected_budget_can_be_edited_and_resubmitted(ctx):
    budget = draft()
    svc.submit_budget(user("manager"), budget)
    step = engine.pending_step(engine.current_request(budget))
    engine.reject(step.id, user("boss"), "广告费偏高")
    assert budget.status == "rejected"
    svc.update_budget(user("manager"), budget, budget.title, "", {("advertising", 6): Decimal(9)})
    svc.submit_budget(user("manager"), budget)
    assert budget.status == "pending"
    assert engine.current_request(budget).round == 2


def test_withdrawn_budget_is_a_draft_again(ctx):
    budget = draft()
    svc.submit_budget(user("manager"), budget)
    engine.withdraw(budget, user("manager"))
    assert budget.status == "draft"


def test_an_empty_budget_cannot_be_submitted(ctx):
    budget = draft(cells={("brand", 1): Decimal(0)})
    with pytest.raises(svc.BudgetError):
        svc.submit_budget(user("manager"), budget)


def test_adjustment_keeps_old_and_new_amount_and_reason(ctx):
    budget = approved()
    record = svc.adjust(user("manager"), budget, "brand", 1, Decimal("1500.00"), "春节投放追加")
    db.session.flush()
    assert (record.old_amount, record.new_amount) == (Decimal("1000.00"), Decimal("1500.00"))
    assert svc.cells_of(budget)[("brand", 1)] == Decimal("1500.00")
    assert [a.reason for a in svc.adjustments(budget)] == ["春节投放追加"]
    log = db.session.scalar(
        select(AuditLog).where(
            AuditLog.record_type == "Budget",
            AuditLog.record_id == budget.id,
            AuditLog.action == "adjust",
        )
    )
    assert log is not None and "春节投放追加" in log.note and "品牌推广费" in log.note


def test_adjusting_an_empty_cell_adds_its_line(ctx):
    budget = approved()
    svc.adjust(user("manager"), budget, "research", 7, Decimal("800.00"), "新增调研")
    assert svc.cells_of(budget)[("research", 7)] == Decimal("800.00")


@pytest.mark.parametrize(
    "category, month, amount, reason, field",
    [
        ("brand", 1, Decimal("1500"), "  ", "reason"),
        ("nope", 1, Decimal("1500"), "x", "category"),
        ("brand", 13, Decimal("1500"), "x", "month"),
        ("brand", 1, Decimal("1000.00"), "x", "new_amount"),
    ],
)
def test_bad_adjustments_change_nothing(ctx, category, month, amount, reason, field):
    budget = approved()
    with pytest.raises(svc.AdjustmentInvalid) as error:
        svc.adjust(user("manager"), budget, category, month, amount, reason)
    assert error.value.field == field
    assert db.session.scalar(select(func.count(BudgetAdjustment.id))) == 1 - 1 + _demo_adjustments()


def _demo_adjustments() -> int:
    # The demo data holds one adjustment on this year's budget.
    return 1


def test_a_draft_is_not_adjusted(ctx):
    with pytest.raises(svc.NotEditable):
        svc.adjust(user("manager"), draft(), "brand", 1, Decimal(5), "x")


def test_a_closed_year_refuses_adjustments_and_new_lines(ctx):
    budget = approved()
    svc.close_budget(user("finance1"), budget)
    assert budget.closed
    with pytest.raises(svc.BudgetClosed) as error:
        svc.adjust(user("manager"), budget, "brand", 1, Decimal(5), "x")
    assert str(YEAR) in str(error.value)
    other = draft(year=YEAR + 1)
    svc.close_budget(user("manager"), other)
    with pytest.raises(svc.BudgetClosed):
        svc.update_budget(user("manager"), other, "x", "", {("brand", 5): Decimal(1)})
    with pytest.raises(svc.BudgetClosed):
        svc.submit_budget(user("manager"), other)
    lines = db.session.scalar(
        select(func.count(BudgetLine.id)).where(BudgetLine.budget_id == other.id)
    )
    assert lines == 2


def test_only_finance_or_the_manager_closes_a_year(ctx):
    budget = approved()
    with pytest.raises(svc.BudgetError):
        svc.close_budget(user("sales1"), budget)
    assert not budget.closed


def test_demo_has_this_years_approved_budget_and_last_year_closed_from_march(ctx):
    today = clock.today()
    this = svc.budget_for_year(today.year)
    last = svc.budget_for_year(today.year - 1)
    following = svc.budget_for_year(today.year + 1)
    assert this.status == "approved" and not this.closed
    assert last.status == "approved" and last.closed == (today.month >= 3)
    # Next year's budget is approved ahead of the new year, from November.
    assert (following is not None and following.status == "approved") == (today.month >= 11)
    total = svc.totals(svc.cells_of(this))["grand"]
    assert Decimal("1200000") <= total <= Decimal("2000000")
    assert len(svc.adjustments(this)) == 1
