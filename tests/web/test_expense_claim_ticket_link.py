"""An expense claim that paid for an after-sales ticket (P5.5, link_type "ticket" beside
activities): the rep picks one of the tickets they see, the claim page and its history
name it, the ticket counts what was claimed for it; a claim for an activity and a ticket
at once, or for a ticket the rep may not see, is refused with nothing written."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.core.audit_display import audit_history
from mktapp.expense import claims as svc
from mktapp.extensions import db
from mktapp.models import Activity, Customer, ExpenseClaim, Ticket, User
from mktapp.service import claims_link, tickets
from mktapp.service import departments as depts

EN = {"Accept-Language": "en"}
OPTION = re.compile(r"<option\b", re.I)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def receive(by: str, customer_id: int, title: str, **over) -> Ticket:
    return tickets.receive(
        user(by),
        customer_id=customer_id,
        channel="phone",
        ticket_type="complaint",
        priority="medium",
        title=title,
        **over,
    )


@pytest.fixture
def setup(app, demo):
    """A customer of sales1 with a ticket, a customer of sales2 with a ticket (which
    sales1 may not see), and an approved market activity."""
    with app.app_context():
        depts.ensure_departments()
        mine = Customer(
            name="报销工单甲方有限公司", name_key="报销工单甲方", owner_id=demo["sales1"]
        )
        other = Customer(
            name="别人的报销客户有限公司", name_key="别人的报销客户", owner_id=demo["sales2"]
        )
        db.session.add_all([mine, other])
        db.session.flush()
        ticket = receive("sales1", mine.id, "展台灯箱损坏需上门维修")
        hidden = receive("service1", other.id, "别人的客户投诉")
        start = clock.today() + timedelta(days=20)
        activity = Activity(
            number="HD-2026-9911",
            kind="expo",
            theme="报销关联测试展",
            start_on=start,
            end_on=start + timedelta(days=1),
            status="approved",
            owner_id=demo["market1"],
            place="杭州",
        )
        db.session.add(activity)
        db.session.commit()
        return {
            "customer": mine.id,
            "ticket": ticket.id,
            "number": ticket.number,
            "hidden": hidden.id,
            "hidden_number": hidden.number,
            "activity": activity.id,
        }


def good(**change):
    values = {
        "category": "customer",
        "amount": "260.00",
        "incurred_on": clock.today().isoformat(),
        "payment_method": "bank",
        "reason": "上门维修往返车费",
        "over_budget_reason": "客户维护费本月已用完",
        "action": "draft",
    }
    values.update(change)
    return values


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ExpenseClaim.id)))


def test_rep_links_a_claim_to_a_ticket_of_their_customer(app, login, setup):
    c = login("sales1")
    form = html.unescape(c.get("/expense/claims/new").get_data(as_text=True))
    assert f"{setup['number']} · 报销工单甲方有限公司 · 展台灯箱损坏需上门维修" in form
    assert setup["hidden_number"] not in form  # only the tickets the rep sees
    response = c.post("/expense/claims/new", data=good(ticket_id=setup["ticket"]))
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        claim = db.session.scalar(
            select(ExpenseClaim).where(ExpenseClaim.reason == "上门维修往返车费")
        )
        assert (claim.link_type, claim.link_id) == ("ticket", setup["ticket"])
        claim_id = claim.id
        ticket = db.session.get(Ticket, setup["ticket"])
        assert [x.id for x in claims_link.claims_of(ticket)] == [claim_id]
        assert claims_link.claimed_total(ticket) == Decimal("260.00")
    page = c.get(f"/expense/claims/{claim_id}", headers=EN).get_data(as_text=True)
    assert "Paid for (after-sales ticket)" in page
    assert f'<a href="/service/tickets/{setup["ticket"]}">{setup["number"]}</a>' in page
    zh = c.get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    assert setup["number"] in zh and "Paid for" not in zh
    # the edit form shows the ticket chosen
    edit = c.get(f"/expense/claims/{claim_id}/edit").get_data(as_text=True)
    assert re.search(rf'<option[^>]*selected[^>]*value="{setup["ticket"]}"', edit) or re.search(
        rf'<option[^>]*value="{setup["ticket"]}"[^>]*selected', edit
    )


def test_claim_history_names_the_ticket_it_paid_for(app, login, setup):
    c = login("sales1")
    c.post("/expense/claims/new", data=good(ticket_id=setup["ticket"]))
    with app.test_request_context(headers=EN):
        claim = db.session.scalar(select(ExpenseClaim).where(ExpenseClaim.link_type == "ticket"))
        entry = audit_history(claim)[-1]
        shown = {change.key: change.after.text for change in entry.changes}
        assert shown["link_id"] == setup["number"]
        assert shown["link_type"] == "After-sales ticket"


def test_claim_for_an_activity_and_a_ticket_at_once_is_refused(app, login, setup):
    before = count(app)
    c = login("sales1")
    response = c.post(
        "/expense/claims/new",
        data=good(ticket_id=setup["ticket"], activity_id=setup["activity"]),
        headers=EN,
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "choose a market activity or an after-sales ticket, not both" in text
    assert 'aria-describedby="ticket_id-error"' in text or 'id="ticket_id-error"' in text
    assert count(app) == before
    # the activity alone is still fine
    response = c.post("/expense/claims/new", data=good(activity_id=setup["activity"]))
    assert response.status_code in (302, 303)
    with app.app_context():
        claim = db.session.scalar(select(ExpenseClaim).where(ExpenseClaim.link_type == "activity"))
        assert claim.link_id == setup["activity"]


@pytest.mark.parametrize("which", ["hidden", "missing", "garbage"])
def test_ticket_the_rep_may_not_see_is_refused(app, login, setup, which):
    value = {"hidden": setup["hidden"], "missing": 987654, "garbage": "abc"}[which]
    before = count(app)
    c = login("sales1")
    response = c.post("/expense/claims/new", data=good(ticket_id=value), headers=EN)
    assert response.status_code == 422
    assert "Choose a ticket from the list." in response.get_data(as_text=True)
    assert count(app) == before


def test_a_linked_claim_cannot_be_submitted_once_its_ticket_is_out_of_sight(app, login, setup):
    """Checked again on submit: the claim was saved for a ticket the rep no longer sees."""
    c = login("sales1")
    c.post("/expense/claims/new", data=good(ticket_id=setup["ticket"]))
    with app.app_context():
        claim = db.session.scalar(select(ExpenseClaim).where(ExpenseClaim.link_type == "ticket"))
        claim.link_id = setup["hidden"]
        db.session.commit()
        claim_id = claim.id
    response = c.post(f"/expense/claims/{claim_id}/submit", headers=EN)
    assert response.status_code == 422
    assert "Choose a ticket from the list." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "draft"


def test_claims_of_a_ticket_leave_out_returned_and_withdrawn_claims(app, setup, demo):
    with app.test_request_context():
        rep = user("sales1")
        made = []
        for amount, status in (("100.00", "draft"), ("50.50", "rejected"), ("30.00", "withdrawn")):
            data = svc.ClaimInput(
                category="customer",
                amount=Decimal(amount),
                incurred_on=clock.today(),
                reason="配件快递费",
                payment_method="bank",
                over_budget_reason="客户维护费本月已用完",
                ticket_id=setup["ticket"],
            )
            claim = svc.create_claim(rep, data, clock.today())
            claim.status = status
            made.append(claim)
        db.session.flush()
        ticket = db.session.get(Ticket, setup["ticket"])
        assert claims_link.claims_of(ticket) == [made[0]]
        assert claims_link.claims_of(ticket, user("sales2")) == []  # not theirs to see
        assert claims_link.claimed_total(ticket) == Decimal("100.00")
        assert claims_link.claimed_total(db.session.get(Ticket, setup["hidden"])) == Decimal("0.00")
        db.session.rollback()


def test_ticket_choices_stay_within_a_select_newest_open_first(app, login, setup):
    """More tickets than a select may list: the newest open or recently closed, newest
    first, plus the claim's own ticket however old; never more than 50 options."""
    with app.app_context():
        now = clock.now()
        ids = []
        for i in range(60):
            ticket = receive(
                "sales1",
                setup["customer"],
                f"批量工单{i:02d}",
                received_at=now - timedelta(days=100 + i),
            )
            ids.append(ticket.id)
        # the ten newest of these were closed long ago: they give way to older open ones
        for ticket_id in ids[:10]:
            ticket = db.session.get(Ticket, ticket_id)
            ticket.status = "closed"
            ticket.closed_at = now - timedelta(days=95)
        db.session.commit()
        rep = user("sales1")
        choices = svc.ticket_choices(rep)
        chosen = [tid for tid, _label in choices]
        assert len(chosen) == svc.TICKET_CHOICES
        assert chosen[0] == setup["ticket"]  # received today: the newest
        assert not set(ids[:10]) & set(chosen)
        assert chosen[1:] == ids[10:58]
        with_current = [tid for tid, _label in svc.ticket_choices(rep, ids[0])]
        assert len(with_current) == svc.TICKET_CHOICES and ids[0] in with_current
        assert with_current.index(ids[0]) == 1  # in its place by date, after today's
    page = login("sales1").get("/expense/claims/new").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="ticket_id".*?</select>', page, re.S).group(0)
    assert len(OPTION.findall(select_html)) <= 50


def test_tickets_closed_long_ago_are_offered_while_there_are_few(app, setup):
    with app.app_context():
        old = receive(
            "sales1",
            setup["customer"],
            "去年的维修",
            received_at=clock.now() - timedelta(days=300),
        )
        old.status = "closed"
        old.closed_at = clock.now() - timedelta(days=290)
        db.session.commit()
        chosen = [tid for tid, _label in svc.ticket_choices(user("sales1"))]
        assert chosen == [setup["ticket"], old.id]
