"""Finance's 待付款 queue: approved claims not paid yet, with the total, paid from the list
through the claim's own pay action; and the anomaly scan that runs when a claim is approved."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.core.i18n import money
from mktapp.expense import claims as svc
from mktapp.extensions import db
from mktapp.models import ExpenseAnomaly, ExpenseClaim, Notification, User


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(out, format="PNG")
    return out.getvalue()


def person(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def approved_claim(app, owner="sales1", amount="320.00", reason="拜访客户打车费", **change) -> int:
    """A claim written by `owner` and approved through every step of the engine."""
    with app.test_request_context():
        data = svc.ClaimInput(
            category=change.get("category", "customer"),
            amount=Decimal(amount),
            incurred_on=change.get("incurred_on", clock.today()),
            reason=reason,
            payment_method="bank",
            invoice_number=change.get("invoice_number", ""),
            over_budget_reason="客户集中拜访，已口头报备",
            receipts=[FileStorage(io.BytesIO(png()), filename="发票.png", name="receipt")],
        )
        claim = svc.create_claim(person(owner), data, clock.today())
        svc.submit_claim(person(owner), claim, clock.today())
        while (step := engine.pending_step(engine.current_request(claim))) is not None:
            deciders = {"finance": "finance1", "executive": "boss", "marketing_manager": "manager"}
            who = (
                db.session.get(User, step.assignee_user_id)
                if step.assignee_user_id
                else person(deciders[step.assignee_role])
            )
            engine.approve(step.id, who)
        assert claim.status == "approved"
        db.session.commit()
        return claim.id


def queue_totals(app) -> tuple[int, Decimal]:
    with app.app_context():
        count, total = db.session.execute(
            select(
                func.count(ExpenseClaim.id), func.coalesce(func.sum(ExpenseClaim.amount), 0)
            ).where(ExpenseClaim.status == "approved", ExpenseClaim.archived_at.is_(None))
        ).one()
        return count, Decimal(str(total))


def test_finance_sees_the_approved_unpaid_claims_with_their_total(app, login):
    claim_id = approved_claim(app, amount="321.50", reason="队列里的报销")
    count, total = queue_totals(app)
    page = login("finance1").get("/expense/payments").get_data(as_text=True)
    assert "待付款" in page
    assert money(total) in page and f'<span class="total-value">{count}</span>' in page
    assert f"/expense/claims/{claim_id}" in page and "队列里的报销" in page and "¥321.50" in page
    # Each row pays through the claim's own pay action.
    assert f'action="/expense/claims/{claim_id}/pay"' in page


def test_paying_from_the_queue_records_it_and_returns_to_the_queue(app, login):
    claim_id = approved_claim(app, amount="88.00", reason="从队列付款")
    count, total = queue_totals(app)
    finance = login("finance1")
    response = finance.post(
        f"/expense/claims/{claim_id}/pay",
        {"paid_on": clock.today().isoformat(), "reference": "ZF-Q-001", "from": "queue"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/expense/payments"
    )
    with app.app_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        assert claim.status == "paid" and claim.payment_reference == "ZF-Q-001"
    assert queue_totals(app) == (count - 1, total - Decimal("88.00"))
    page = finance.get("/expense/payments").get_data(as_text=True)
    assert "从队列付款" not in page and money(total - Decimal("88.00")) in page
    # Through htmx the answer is a full load of the queue.
    other = approved_claim(app, amount="12.00")
    answer = finance.post(
        f"/expense/claims/{other}/pay",
        {"paid_on": clock.today().isoformat(), "reference": "ZF-Q-002", "from": "queue"},
        htmx=True,
    )
    assert answer.status_code == 204 and answer.headers["HX-Redirect"].endswith("/expense/payments")


def test_a_payment_without_a_reference_is_refused_at_the_field_and_nothing_changes(app, login):
    claim_id = approved_claim(app, amount="66.00")
    finance = login("finance1")
    data = {"paid_on": clock.today().isoformat(), "reference": " ", "from": "queue"}
    page = finance.post(f"/expense/claims/{claim_id}/pay", data)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "<html" in html  # a plain form gets the queue page back, with the message
    error = re.search(rf'id="pay-{claim_id}-reference-error"[^>]*>([^<]+)<', html)
    assert error and "凭证号" in error.group(1)
    assert '<details class="payment-action" open>' in html
    fragment = finance.post(f"/expense/claims/{claim_id}/pay", data, htmx=True)
    assert fragment.status_code == 422
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="payment_queue"') and "<html" not in text
    assert f'id="pay-{claim_id}-reference-error"' in text
    future = (clock.today().replace(year=clock.today().year + 1)).isoformat()
    late = finance.post(
        f"/expense/claims/{claim_id}/pay", {"paid_on": future, "reference": "ZF9", "from": "queue"}
    )
    assert late.status_code == 422 and f'id="pay-{claim_id}-paid_on-error"' in late.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "approved"


def test_only_finance_opens_the_queue(login):
    for name in ("sales1", "manager", "boss"):
        client = login(name)
        assert client.get("/expense/payments").status_code == 403
        assert 'href="/expense/payments"' not in client.get("/").get_data(as_text=True)
    finance = login("finance1").get("/").get_data(as_text=True)
    assert 'href="/expense/payments"' in finance


def test_the_sidebar_count_of_payments_waiting(app, login):
    approved_claim(app, amount="20.00")
    count, _total = queue_totals(app)
    badge = login("finance1").get("/expense/payments/count").get_data(as_text=True)
    assert f">{count}</span>" in badge and "待付款" in badge
    assert login("sales1").get("/expense/payments/count").status_code == 403


def test_finance_workbench_shows_the_payments_waiting_and_their_total(app, login):
    approved_claim(app, amount="45.00")
    count, total = queue_totals(app)
    page = login("finance1").get("/").get_data(as_text=True)
    card = page.split('class="card payment-card"', 1)[1].split("</section>", 1)[0]
    assert "待付款" in card and money(total) in card
    assert f"去付款（{count} 笔）" in card and 'href="/expense/payments"' in card
    assert 'class="card payment-card"' not in login("sales1").get("/").get_data(as_text=True)


def test_an_approved_claim_over_budget_is_reported_at_once(app, login, demo):
    """The scan runs where the figures change: no one has to open the monitoring page."""
    with app.app_context():
        before = db.session.scalar(select(func.count(ExpenseAnomaly.id)))
    approved_claim(app, amount="990000.00", reason="超大额宣传费", category="brand")
    with app.app_context():
        found = db.session.scalars(
            select(ExpenseAnomaly).where(ExpenseAnomaly.kind == "over_budget")
        ).all()
        assert db.session.scalar(select(func.count(ExpenseAnomaly.id))) > before
        month = f"{clock.today().month}月"
        titles = db.session.scalars(
            select(Notification.title).where(
                Notification.user_id == demo["finance1"], Notification.title.like("费用异常：%")
            )
        ).all()
    assert any(a.category == "brand" and a.month == clock.today().month for a in found)
    assert any(f"{month}超预算 ¥" in t for t in titles), titles
