"""What a user sees of approval notices once the approval is done, of the leader's
workbench (newest approvals first, with the count), and of who a step waits on."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.expense import claims as svc
from mktapp.extensions import db
from mktapp.models import ExpenseClaim, Notification, User


def person(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def submitted_claim(app, owner="sales1", amount="120.00", reason="客户拜访停车费") -> int:
    with app.test_request_context():
        receipts = []
        if Decimal(amount) > 500:
            out = io.BytesIO()
            Image.new("RGB", (8, 8), (200, 40, 40)).save(out, format="PNG")
            receipts = [FileStorage(io.BytesIO(out.getvalue()), filename="发票.png", name="r")]
        data = svc.ClaimInput(
            category="customer",
            amount=Decimal(amount),
            incurred_on=clock.today(),
            reason=reason,
            payment_method="bank",
            over_budget_reason="客户集中拜访，已口头报备",
            receipts=receipts,
        )
        claim = svc.create_claim(person(owner), data, clock.today())
        svc.submit_claim(person(owner), claim, clock.today())
        db.session.commit()
        return claim.id


def pending_step_id(app, claim_id: int) -> int:
    with app.app_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        return engine.pending_step(engine.current_request(claim)).id


def bell(client) -> int:
    html = client.get("/notifications/bell", htmx=True).get_data(as_text=True)
    match = re.search(r'class="badge">(\d+)<', html)
    return int(match.group(1)) if match else 0


def test_an_approval_notice_is_dealt_with_once_the_approver_decides(app, login):
    claim_id = submitted_claim(app, reason="等部门负责人审批")
    leader = login("sales3")
    before = bell(leader)
    page = leader.get("/notifications/?unread=1").get_data(as_text=True)
    assert "等部门负责人审批" in page
    assert 'action="/notifications/' in page  # unread: opening it marks it read

    response = leader.post(
        f"/approvals/steps/{pending_step_id(app, claim_id)}/approve", {"comment": "同意"}
    )
    assert response.status_code == 303

    assert bell(leader) == before - 1
    assert "等部门负责人审批" not in leader.get("/notifications/?unread=1").get_data(as_text=True)
    page = leader.get("/notifications/").get_data(as_text=True)
    item = page.split("等部门负责人审批", 1)[0].rsplit("<li", 1)[1]
    assert "resolved" in item and f'<a href="/expense/claims/{claim_id}">' in item
    rest = page.split("等部门负责人审批", 1)[1].split("</li>", 1)[0]
    assert "已处理" in rest


def test_a_withdrawn_claim_leaves_no_approval_notice_waiting(app, login):
    claim_id = submitted_claim(app, reason="申请人撤回的报销")
    leader = login("sales3")
    before = bell(leader)
    owner = login("sales1")
    assert owner.post(f"/approvals/ExpenseClaim/{claim_id}/withdraw").status_code == 303
    assert bell(leader) == before - 1
    with app.app_context():
        notes = db.session.scalars(
            select(Notification).where(Notification.url == f"/expense/claims/{claim_id}")
        ).all()
        assert notes and all(n.resolved_at is not None for n in notes)


def test_the_leaders_workbench_shows_the_newest_approvals_first_and_their_count(app, login):
    for reason in ("第一张待领导审批", "第二张待领导审批"):
        claim_id = submitted_claim(app, owner="sales1", amount="900.00", reason=reason)
        # Department head and finance approve: the company leader is next.
        for name in ("sales3", "finance1"):
            login(name).post(f"/approvals/steps/{pending_step_id(app, claim_id)}/approve")
    with app.test_request_context():
        boss = person("boss")
        total = engine.inbox_count(boss)
        newest = engine.inbox(boss, limit=5, newest_first=True)
        oldest = engine.inbox(boss, limit=1)
    assert total >= 2 and newest[0].request.submitted_at >= oldest[0].request.submitted_at
    page = login("boss").get("/").get_data(as_text=True)
    card = page.split("待我审批", 1)[1].split("</section>", 1)[0]
    assert f"共 {total} 项待您审批，最新的排在前面。" in card
    shown = re.findall(r'<a href="/expense/claims/\d+">([^<]+)</a>', card)
    assert shown[: len(newest)] == [s.request.title for s in newest][: len(shown)]
    assert card.index("第二张待领导审批") < card.index("第一张待领导审批")


def test_the_approval_panel_names_the_finance_approver_not_the_role_twice(app, login):
    claim_id = submitted_claim(app, reason="等财务审批")
    login("sales3").post(f"/approvals/steps/{pending_step_id(app, claim_id)}/approve")
    with app.app_context():
        name = person("finance1").display_name
    page = login("manager").get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    panel = page.split('id="approval_panel"', 1)[1].split("</ol>", 1)[0]
    step = panel.split("<strong>财务</strong>", 1)[1].split("</span>", 1)[0]
    assert name in step and "财务" not in step
