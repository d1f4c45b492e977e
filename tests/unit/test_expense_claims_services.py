"""Expense claim services (P6.2): numbering, amounts, 大写, the budget check, the flow."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from mktapp.core import approvals as engine
from mktapp.core import clock, settings
from mktapp.expense import claims as svc
from mktapp.expense.common import budget_remaining
from mktapp.extensions import db
from mktapp.models import ApprovalEvent, Budget, BudgetLine, ExpenseClaim, User

TODAY = date(2026, 3, 20)


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        # These tests make the budgets they need; the demo's budgets would collide.
        from sqlalchemy import delete

        from mktapp.models import Budget, BudgetAdjustment, BudgetLine

        for model in (BudgetAdjustment, BudgetLine, Budget):
            db.session.execute(delete(model))
        yield demo
        db.session.rollback()


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def data(**change) -> svc.ClaimInput:
    values = {
        "category": "customer",
        "amount": Decimal("320.00"),
        "incurred_on": date(2026, 3, 10),
        "reason": "客户商务宴请餐费",
        "payment_method": "bank",
        "payee_account": "招商银行 6225 0000 1234 张伟",
        "invoice_number": "2631088001",
        "over_budget_reason": "",
    }
    values.update(change)
    return svc.ClaimInput(**values)


def budget(year=2026, month=3, category="customer", amount="5000", status="approved"):
    b = Budget(year=year, title=f"{year} 年营销费用预算", status=status)
    b.lines.append(BudgetLine(category=category, month=month, amount=Decimal(amount)))
    db.session.add(b)
    db.session.flush()
    return b


def claim(owner="sales1", **change) -> ExpenseClaim:
    change.setdefault("over_budget_reason", "本月客户集中拜访")
    return svc.create_claim(user(owner), data(**change), TODAY)


# --- 大写 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, words",
    [
        ("1234.5", "壹仟贰佰叁拾肆元伍角"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("1005", "壹仟零伍元整"),
        ("1000", "壹仟元整"),
        ("10.05", "壹拾元零伍分"),
        ("0.5", "伍角"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("100500", "壹拾万零伍佰元整"),
        ("10001000", "壹仟万壹仟元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("12345678.9", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("2680.50", "贰仟陆佰捌拾元伍角"),
        ("1.005", "壹元零壹分"),  # rounded half-up to the fen
    ],
)
def test_amount_in_chinese_capitals(amount, words):
    assert svc.amount_in_chinese(Decimal(amount)) == words


# --- amounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [("1234.5", "1234.50"), ("1,234.50", "1234.50"), ("¥88", "88.00"), (" 0.01 ", "0.01")],
)
def test_amounts_people_type_are_understood(raw, value):
    assert svc.parse_amount(raw) == Decimal(value)


@pytest.mark.parametrize(
    "raw", ["0", "-5", "0.00", "1.234", "1000000000000", "1e12", "NaN", "Infinity", "abc", ""]
)
def test_impossible_amounts_are_refused(raw):
    with pytest.raises(svc.ClaimError) as error:
        svc.parse_amount(raw)
    assert error.value.field == "amount" and error.value.message


def test_the_largest_amount_below_a_trillion_is_accepted():
    assert svc.parse_amount("999999999999.99") == Decimal("999999999999.99")


# --- numbering and writing ---------------------------------------------------------


def test_claims_are_numbered_by_year_of_creation(ctx):
    first, second = claim(), claim(owner="sales2")
    assert first.number == "BX-2026-0001" and second.number == "BX-2026-0002"
    assert first.status == "draft" and first.owner_id == ctx["sales1"]
    late = data(incurred_on=date(2026, 12, 30), over_budget_reason="年底集中结算")
    later = svc.create_claim(user("sales1"), late, date(2027, 1, 2))
    assert later.number == "BX-2027-0001"


def test_date_in_the_future_is_refused(ctx):
    with pytest.raises(svc.ClaimError) as error:
        claim(incurred_on=TODAY + timedelta(days=1))
    assert error.value.field == "incurred_on"


def test_unknown_category_and_payment_method_are_refused(ctx):
    with pytest.raises(svc.ClaimError) as error:
        claim(category="travel", payment_method="barter")
    fields = {f for f, _m in error.value.problems}
    assert fields == {"category", "payment_method"}


def test_receipt_is_required_above_the_setting(ctx):
    with pytest.raises(svc.ClaimError) as error:
        claim(amount=Decimal("500.01"))
    assert error.value.field == "receipt"
    assert claim(amount=Decimal("500.00")).amount == Decimal("500.00")
    settings.set_value("expense.receipt_required_above", "1000")
    assert claim(amount=Decimal("900.00")).amount == Decimal("900.00")


def test_administrator_alone_cannot_claim(ctx):
    with pytest.raises(svc.NotAllowed):
        claim(owner="admin")


# --- the budget check -----------------------------------------------------------------


def test_budget_remaining_counts_pending_approved_and_paid_claims_of_the_month(ctx):
    budget()
    budget(year=2025, amount="99999")  # another year does not count
    pending = claim(amount=Decimal("300"))
    svc.submit_claim(user("sales1"), pending, TODAY)
    approved = claim(amount=Decimal("200"))
    approved.status = "approved"
    paid = claim(amount=Decimal("100.50"))
    paid.status = "paid"
    claim(amount=Decimal("50"))  # a draft does not count
    rejected = claim(amount=Decimal("70"))
    rejected.status = "rejected"
    claim(amount=Decimal("40"), category="other")  # another category
    claim(amount=Decimal("30"), incurred_on=date(2026, 2, 28))  # another month
    archived = claim(amount=Decimal("20"))
    archived.status = "paid"
    archived.archived_at = archived.created_at
    db.session.flush()
    assert budget_remaining("customer", 2026, 3) == (
        Decimal("5000.00"),
        Decimal("600.50"),
        Decimal("4399.50"),
    )


def test_budget_not_yet_approved_counts_as_none(ctx):
    budget(status="pending")
    assert budget_remaining("customer", 2026, 3)[0] == Decimal("0.00")


def test_over_budget_needs_a_reason_and_the_hard_stop_refuses(ctx):
    budget(amount="1000")
    with pytest.raises(svc.ClaimError) as error:
        svc.create_claim(user("sales1"), data(amount=Decimal("1000.01")), TODAY)
    fields = {f for f, _m in error.value.problems}
    assert "over_budget_reason" in fields
    ok = claim(amount=Decimal("480"), over_budget_reason="")
    assert ok.over_budget_reason == ""  # within budget: no reason kept
    settings.set_value("expense.hard_stop_over_budget", "1")
    with pytest.raises(svc.ClaimError) as error:
        svc.create_claim(
            user("sales1"),
            data(amount=Decimal("1000.01"), over_budget_reason="急需"),
            TODAY,
        )
    amount_problems = [m for f, m in error.value.problems if f == "amount"]
    assert amount_problems and "not accepted" in amount_problems[0]


# --- the flow --------------------------------------------------------------------------


def decide(claim_, username, outcome="approve", comment=""):
    step = engine.pending_step(engine.current_request(claim_))
    if outcome == "approve":
        engine.approve(step.id, user(username), comment)
    else:
        engine.reject(step.id, user(username), comment or "发票抬头不符")
    return step


def test_claim_goes_head_finance_leader_then_paid(ctx):
    c = claim()
    svc.submit_claim(user("sales1"), c, TODAY)
    assert c.status == "pending" and c.submitted_at is not None
    assert decide(c, "sales3").code == "head"
    assert decide(c, "finance1").code == "finance"
    assert c.status == "pending"
    assert decide(c, "boss").code == "leader"
    assert c.status == "approved" and c.approved_at is not None
    today = clock.today()
    with pytest.raises(svc.NotAllowed):
        svc.record_payment(user("sales3"), c, today, "ZF1", today)
    with pytest.raises(svc.ClaimError):
        svc.record_payment(user("finance1"), c, today + timedelta(days=1), "ZF1", today)
    with pytest.raises(svc.ClaimError):  # before the approval
        svc.record_payment(user("finance1"), c, today - timedelta(days=2), "ZF1", today)
    with pytest.raises(svc.ClaimError):
        svc.record_payment(user("finance1"), c, today, "  ", today)
    svc.record_payment(user("finance1"), c, today, "ZF20260320001", today)
    assert c.status == "paid" and c.payment_reference == "ZF20260320001"
    with pytest.raises(svc.ClaimError):
        svc.record_payment(user("finance1"), c, today, "again", today)
    actions = [e.action for e in engine.timeline(c)]
    assert actions == ["submit", "approve", "approve", "approve"]


def test_leader_threshold_skips_the_company_leader_for_small_claims(ctx):
    settings.set_value("expense.leader_threshold", "5000")
    c = claim()
    svc.submit_claim(user("sales1"), c, TODAY)
    decide(c, "sales3")
    decide(c, "finance1")
    assert c.status == "approved"
    steps = {s.code: s.status for s in engine.current_request(c).steps}
    assert steps["leader"] == "skipped"


def test_pending_and_approved_claims_cannot_be_edited_rejected_ones_can(ctx):
    c = claim()
    svc.submit_claim(user("sales1"), c, TODAY)
    with pytest.raises(svc.ClaimLocked):
        svc.update_claim(user("sales1"), c, data(amount=Decimal("1")), TODAY)
    decide(c, "sales3")
    decide(c, "finance1", "reject", "发票抬头不符，请重开")
    assert c.status == "rejected"
    with pytest.raises(svc.NotAllowed):
        svc.update_claim(user("sales2"), c, data(), TODAY)
    svc.update_claim(
        user("sales1"), c, data(invoice_number="2631088999", over_budget_reason="急需"), TODAY
    )
    svc.submit_claim(user("sales1"), c, TODAY)
    assert c.status == "pending"
    assert [r.round for r in engine.requests_for(c)] == [1, 2]
    for who in ("sales3", "finance1", "boss"):
        decide(c, who)
    assert c.status == "approved"
    with pytest.raises(svc.ClaimLocked) as error:
        svc.update_claim(user("sales1"), c, data(), TODAY)
    assert "approved" in error.value.message


def test_withdrawn_claim_can_be_resubmitted_and_drafts_archived(ctx):
    c = claim()
    svc.submit_claim(user("sales1"), c, TODAY)
    engine.withdraw(c, user("sales1"))
    assert c.status == "withdrawn"
    with pytest.raises(svc.ClaimError):
        svc.archive_claim(user("sales1"), c)
    svc.submit_claim(user("sales1"), c, TODAY)
    assert c.status == "pending"
    draft = claim()
    with pytest.raises(svc.NotAllowed):
        svc.archive_claim(user("sales2"), draft)
    svc.archive_claim(user("sales1"), draft)
    assert draft.is_archived


def test_group_leader_claim_goes_to_the_manager(ctx):
    c = claim(owner="sales3")
    svc.submit_claim(user("sales3"), c, TODAY)
    step = engine.pending_step(engine.current_request(c))
    assert step.assignee_role == "marketing_manager"


def test_record_rule_on_claims(ctx):
    from mktapp.core.permissions import visible

    mine = claim()
    claim(owner="market2")

    def seen(name):
        return set(db.session.scalars(visible(select(ExpenseClaim.id), user(name), ExpenseClaim)))

    everyone = seen("manager")
    assert len(everyone) == 2 and seen("finance1") == everyone and seen("boss") == everyone
    assert seen("sales1") == {mine.id} and seen("sales3") == {mine.id}
    assert seen("sales2") == set() and seen("admin") == set()
    assert (
        db.session.scalar(select(ApprovalEvent.id).where(ApprovalEvent.doc_type == "ExpenseClaim"))
        is None
    )
