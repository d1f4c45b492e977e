"""Budget pages (P6.1) through the browser's eyes: permissions, the grid, approval, adjust, close."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.expense.forms_budget import cell_name
from mktapp.extensions import db
from mktapp.models import ApprovalRequest, ApprovalStep
from mktapp.models.expense import Budget, BudgetAdjustment, BudgetLine

YEAR = 2032


def grid(**cells) -> dict:
    data = {"year": str(YEAR), "title": f"{YEAR}年度营销预算", "notes": ""}
    for key, value in cells.items():
        category, month = key.rsplit("_", 1)
        data[cell_name(category, int(month))] = value
    return data


def budget_id(app, year=YEAR) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Budget.id).where(Budget.year == year))


def make_approved(app, login) -> int:
    manager = login("manager")
    r = manager.post("/expense/budgets/new", grid(brand_1="1000", brand_2="2000"))
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    bid = budget_id(app)
    assert manager.post(f"/expense/budgets/{bid}/submit").status_code == 303
    with app.app_context():
        # The budget's step (other demo documents may be waiting too).
        step_id = db.session.scalar(
            select(ApprovalStep.id)
            .join(ApprovalStep.request)
            .where(ApprovalStep.status == "pending", ApprovalRequest.doc_type == "Budget")
        )
    boss = login("boss")
    assert boss.post(f"/approvals/steps/{step_id}/approve", {"comment": "同意"}).status_code == 303
    return bid


@pytest.mark.parametrize(
    "url",
    [
        "/expense/budgets",
        "/expense/budgets/new",
        "/expense/monitoring",
        "/expense/anomalies",
        "/expense/monitoring.xlsx",
    ],
)
def test_sales_rep_cannot_open_budgets_or_monitoring(login, url):
    assert login("sales1").get(url).status_code == 403


def test_finance_reads_budgets_but_does_not_draw_them_up(login, app):
    finance = login("finance1")
    assert finance.get("/expense/budgets").status_code == 200
    assert finance.get("/expense/budgets/new").status_code == 403
    bid = budget_id(app, clock.today().year)
    page = finance.get(f"/expense/budgets/{bid}").get_data(as_text=True)
    assert "年度营销预算" in page


def test_sidebar_shows_p6_entries_to_finance_not_to_sales(login):
    page = login("finance1").get("/").get_data(as_text=True)
    assert (
        "/expense/budgets" in page
        and "/expense/monitoring" in page
        and "/expense/anomalies" in page
    )
    assert "/expense/budgets" not in login("sales1").get("/").get_data(as_text=True)


def test_manager_draws_up_a_budget_with_the_grid(login, app):
    manager = login("manager")
    page = manager.get("/expense/budgets/new").get_data(as_text=True)
    assert cell_name("advertising", 11) in page
    r = manager.post("/expense/budgets/new", grid(brand_1="1,000", advertising_11="2500.50"))
    assert r.status_code == 303
    bid = budget_id(app)
    page = manager.get(f"/expense/budgets/{bid}").get_data(as_text=True)
    assert "¥3,500.50" in page
    assert manager.get(f"/expense/budgets/{bid}?view=quarter").status_code == 200


@pytest.mark.parametrize("bad", ["-1", "1.005", "abc", "1000000000000", "NaN"])
def test_a_bad_cell_is_refused_next_to_the_cell_and_nothing_is_written(login, app, bad):
    manager = login("manager")
    r = manager.post("/expense/budgets/new", grid(brand_1="100", activity_3=bad))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    name = cell_name("activity", 3)
    assert re.search(
        rf'name="{name}"[^>]*aria-invalid="true" aria-describedby="{name}-error"', page
    )
    assert f'id="{name}-error"' in page
    assert budget_id(app) is None


def test_missing_title_and_bad_year_are_refused(login, app):
    manager = login("manager")
    data = grid(brand_1="100") | {"title": "", "year": "1800"}
    r = manager.post("/expense/budgets/new", data)
    assert r.status_code == 422
    assert budget_id(app, 1800) is None
    data = grid() | {"year": str(clock.today().year)}
    r = manager.post("/expense/budgets/new", data)
    assert r.status_code == 422 and 'id="year-error"' in r.get_data(as_text=True)


def test_spread_fills_a_row_without_saving(login, app):
    manager = login("manager")
    data = grid() | {"spread": "1", "spread_category": "brand", "spread_amount": "1200"}
    r = manager.post("/expense/budgets/new", data)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert f'name="{cell_name("brand", 7)}" id="{cell_name("brand", 7)}" value="100.00"' in page
    assert ">1,200.00<" in page
    assert budget_id(app) is None
    bad = grid() | {"spread": "1", "spread_category": "brand", "spread_amount": "-3"}
    r = manager.post("/expense/budgets/new", bad)
    assert r.status_code == 422 and 'id="spread_amount-error"' in r.get_data(as_text=True)


def test_htmx_form_post_returns_the_form_fragment(login):
    manager = login("manager")
    r = manager.post("/expense/budgets/new", grid(brand_1="-5"), htmx=True)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="budget_form"') and "<html" not in body


def test_no_csrf_token_is_refused(login, app):
    manager = login("manager")
    r = manager.post("/expense/budgets/new", grid(brand_1="100"), csrf=False)
    assert r.status_code == 400
    assert budget_id(app) is None


def test_approved_budget_is_read_only_and_adjusted_with_a_reason(login, app):
    bid = make_approved(app, login)
    manager = login("manager")
    page = manager.get(f"/expense/budgets/{bid}").get_data(as_text=True)
    assert 'name="c-brand-1"' not in page and "/adjust" in page
    r = manager.get(f"/expense/budgets/{bid}/edit")
    assert r.status_code in (302, 303)
    r = manager.post(f"/expense/budgets/{bid}/edit", grid(brand_1="99999"))
    assert r.status_code in (302, 303)
    r = manager.post(
        f"/expense/budgets/{bid}/adjust",
        {"category": "brand", "month": "1", "new_amount": "1500", "reason": ""},
    )
    assert r.status_code == 422 and 'id="reason-error"' in r.get_data(as_text=True)
    r = manager.post(
        f"/expense/budgets/{bid}/adjust",
        {"category": "brand", "month": "1", "new_amount": "1.001", "reason": "x"},
        htmx=True,
    )
    assert r.status_code == 422 and 'id="new_amount-error"' in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)
    r = manager.post(
        f"/expense/budgets/{bid}/adjust",
        {"category": "brand", "month": "1", "new_amount": "1500", "reason": "展会追加"},
    )
    assert r.status_code == 303
    page = manager.get(f"/expense/budgets/{bid}").get_data(as_text=True)
    assert "展会追加" in page and "+¥500.00" in page
    with app.app_context():
        amount = db.session.scalar(
            select(BudgetLine.amount).where(
                BudgetLine.budget_id == bid, BudgetLine.category == "brand", BudgetLine.month == 1
            )
        )
        assert amount == Decimal("1500.00")


def test_executive_sees_the_budget_waiting_in_the_inbox(login, app):
    manager = login("manager")
    manager.post("/expense/budgets/new", grid(brand_1="1000"))
    manager.post(f"/expense/budgets/{budget_id(app)}/submit")
    inbox = login("boss").get("/approvals/").get_data(as_text=True)
    assert f"{YEAR}年度营销预算" in inbox


def test_closing_needs_confirmation_then_refuses_adjustments(login, app):
    bid = make_approved(app, login)
    finance = login("finance1")
    r = finance.post(f"/expense/budgets/{bid}/close", {}, htmx=True)
    assert r.status_code == 422 and 'id="close_panel"' in r.get_data(as_text=True)
    assert finance.post(f"/expense/budgets/{bid}/close", {"confirm": "y"}).status_code == 303
    manager = login("manager")
    r = manager.post(
        f"/expense/budgets/{bid}/adjust",
        {"category": "brand", "month": "1", "new_amount": "1500", "reason": "x"},
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'class="form-alert"' in page
    assert f"{YEAR} 年度已关账" in page or f"The year {YEAR} is closed" in page
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(BudgetAdjustment.id)).where(BudgetAdjustment.budget_id == bid)
            )
            == 0
        )
    assert (
        login("sales1").post(f"/expense/budgets/{bid}/close", {"confirm": "y"}).status_code == 403
    )


def test_unknown_budget_is_404(login):
    assert login("manager").get("/expense/budgets/99999").status_code == 404
