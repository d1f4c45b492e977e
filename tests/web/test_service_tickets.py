"""After-sales tickets through the browser's eyes: received by the service group and
routed by type, each step of the flow, the clock paused while waiting, the reply before
closing, the satisfaction link, costs, bad input (nothing written), who sees what, the
list, the desk, the customer page and the hourly scan."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import (
    Contract,
    Customer,
    Notification,
    ServiceDepartment,
    SurveyInvitation,
    Ticket,
    TicketCost,
    TicketEvent,
    TicketRoute,
)
from mktapp.service import departments as depts
from mktapp.service import tickets as svc

EN = {"Accept-Language": "en"}


@pytest.fixture
def setup(app, demo):
    """A customer of sales1 with a signed contract, a customer of sales2, and the repair
    type routed to a technical department with its engineer."""
    with app.app_context():
        c1 = Customer(name="售后测试甲方有限公司", name_key="售后测试甲方", owner_id=demo["sales1"])
        c2 = Customer(
            name="别人的售后客户有限公司", name_key="别人的售后客户", owner_id=demo["sales2"]
        )
        db.session.add_all([c1, c2])
        db.session.flush()
        contract = Contract(
            number="HT-2026-9001",
            title="会议平板采购",
            customer_id=c1.id,
            owner_id=demo["sales1"],
            status="executing",
            draft_date=clock.today() - timedelta(days=60),
            signed_on=clock.today() - timedelta(days=50),
            after_sales_terms="整机保修一年，48 小时内上门。",
        )
        db.session.add(contract)
        depts.ensure_departments()
        tech = ServiceDepartment(code="tech", name="技术部", leader_id=demo["market2"], sort=5)
        db.session.add(tech)
        db.session.flush()
        db.session.add(TicketRoute(ticket_type="repair", department_id=tech.id))
        db.session.commit()
        return {"mine": c1.id, "other": c2.id, "contract": contract.id, "tech": tech.id}


def receive(c, customer_id, **over):
    data = {
        "customer_id": customer_id,
        "channel": "phone",
        "ticket_type": "complaint",
        "priority": "high",
        "title": "会议平板无法开机",
        "description": "客户来电：昨天起无法开机。",
    }
    data.update(over)
    return c.post("/service/tickets/new", data=data)


def the_ticket(app, **where):
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).filter_by(**where)).first()
        db.session.expunge_all()
        return ticket


def test_service_agent_receives_a_ticket_numbered_and_routed_by_type(app, login, setup, demo):
    c = login("service1")
    page = c.get(f"/service/tickets/new?customer_id={setup['mine']}")
    assert page.status_code == 200
    assert "HT-2026-9001" in page.get_data(as_text=True)  # the customer's signed contract
    response = receive(c, setup["mine"], ticket_type="repair", contract_id=setup["contract"])
    assert response.status_code in (302, 303)
    ticket = the_ticket(app, customer_id=setup["mine"])
    assert re.fullmatch(rf"SH-{clock.today().year}-\d{{4}}", ticket.number)
    assert ticket.department_id == setup["tech"]
    assert ticket.owner_id == demo["market2"]  # the technical department's leader
    assert ticket.status == "received"
    assert ticket.response_by > ticket.received_at
    assert ticket.resolution_by > ticket.response_by
    detail = c.get(f"/service/tickets/{ticket.id}").get_data(as_text=True)
    assert "整机保修一年" in detail  # the contract's after-sales terms
    assert "技术部" in detail


def test_bad_ticket_input_is_refused_and_nothing_is_written(app, login, setup):
    c = login("service1")
    assert receive(c, setup["mine"], title="").status_code == 422
    assert receive(c, setup["mine"], priority="asap").status_code == 422
    assert receive(c, setup["mine"], contract_id="999999").status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_sales_rep_cannot_open_a_ticket_for_another_reps_customer(app, login, setup):
    c = login("sales1")
    assert c.get(f"/service/tickets/new?customer_id={setup['other']}").status_code == 404
    assert receive(c, setup["other"]).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_sales_rep_sees_only_tickets_of_own_customers(app, login, setup):
    receive(login("service1"), setup["other"])
    ticket = the_ticket(app, customer_id=setup["other"])
    assert login("sales1").get(f"/service/tickets/{ticket.id}").status_code == 404
    assert login("sales2").get(f"/service/tickets/{ticket.id}").status_code == 200
    assert login("admin").get("/service/tickets/").status_code == 403


def test_the_whole_flow_with_a_pause_a_reply_and_the_satisfaction_link(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    base = f"/service/tickets/{t.id}"
    # Reply before the resolution: refused.
    assert (
        agent.post(f"{base}/reply", data={"channel": "phone", "content": "已处理"}).status_code
        == 409
    )
    assert agent.post(f"{base}/start").status_code in (302, 303)
    assert agent.post(
        f"{base}/pause", data={"waiting": "waiting_parts", "note": "等配件"}
    ).status_code in (302, 303)
    assert the_ticket(app, id=t.id).status == "waiting_parts"
    assert "Paused" in agent.get(base, headers=EN).get_data(as_text=True)
    assert agent.post(f"{base}/resume").status_code in (302, 303)
    assert agent.post(f"{base}/resolve", data={"resolution": "更换电源板。"}).status_code in (
        302,
        303,
    )
    assert agent.post(
        f"{base}/reply", data={"channel": "wechat", "content": "已更换电源板，请试用。"}
    ).status_code in (302, 303)
    assert agent.post(f"{base}/close").status_code in (302, 303)
    t = the_ticket(app, id=t.id)
    assert t.status == "closed" and t.invitation_id is not None
    with app.app_context():
        kinds = list(
            db.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == t.id))
        )
        invitation = db.session.get(SurveyInvitation, t.invitation_id)
        token = invitation.token
    assert {"received", "status", "resolution", "reply"} <= set(kinds)
    page = agent.get(base).get_data(as_text=True)
    assert f"/research/i/{token}" in page or token in page
    # The customer answers the link once.
    public = app.test_client()
    form = public.get(f"/research/i/{token}")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    with app.app_context():
        from mktapp.models import SurveyQuestion

        questions = {
            q.key: q.id
            for q in db.session.scalars(
                select(SurveyQuestion).where(SurveyQuestion.survey_id == invitation.survey_id)
            )
        }
    answer = {"csrf_token": csrf, f"q{questions['service-rating']}": "5"}
    answer[f"q{questions['service-comment']}"] = "很及时"
    sent = public.post(f"/research/i/{token}", data=answer)
    assert sent.status_code in (302, 303), sent.get_data(as_text=True)[:800]
    t = the_ticket(app, id=t.id)
    assert t.rating == 5 and t.rating_comment == "很及时"
    # The same link again: gone.
    again = public.post(f"/research/i/{token}", data=answer)
    assert again.status_code == 410
    assert "已" in again.get_data(as_text=True) or "already" in again.get_data(as_text=True)


def test_an_expired_satisfaction_link_is_gone(app, login, setup):
    with app.app_context():
        from mktapp.research.public import satisfaction_invitation

        invitation = satisfaction_invitation(
            None, setup["mine"], clock.now() - timedelta(minutes=1)
        )
        db.session.commit()
        token = invitation.token
    assert app.test_client().get(f"/research/i/{token}").status_code == 410


def test_a_closed_ticket_cannot_be_edited_paused_or_noted(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    base = f"/service/tickets/{t.id}"
    for step, data in (
        ("resolve", {"resolution": "远程指导后恢复。"}),
        ("reply", {"channel": "phone", "content": "已电话告知。"}),
        ("close", {}),
    ):
        assert agent.post(f"{base}/{step}", data=data).status_code in (302, 303)
    assert agent.post(f"{base}/pause", data={"waiting": "waiting_customer"}).status_code == 409
    assert agent.post(f"{base}/note", data={"body": "补充"}).status_code == 409
    edit = agent.post(f"{base}/edit", data={"title": "改", "channel": "phone"})
    assert edit.status_code == 409
    assert the_ticket(app, id=t.id).title == "会议平板无法开机"


def test_a_reopened_ticket_keeps_its_history_and_its_missed_deadline(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    with app.app_context():
        row = db.session.get(Ticket, t.id)
        row.resolution_breached = True
        db.session.commit()
    base = f"/service/tickets/{t.id}"
    agent.post(f"{base}/resolve", data={"resolution": "已处理。"})
    assert agent.post(f"{base}/reopen", data={"reason": ""}).status_code == 422
    assert agent.post(f"{base}/reopen", data={"reason": "问题复现"}).status_code in (302, 303)
    t = the_ticket(app, id=t.id)
    assert t.status == "in_progress" and t.reopen_count == 1 and t.resolution_breached


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "parts", "amount": "-5"}, "amount"),
        ({"kind": "parts", "amount": "12.345"}, "amount"),
        ({"kind": "labour", "hours": "2", "rate": ""}, "rate"),
        ({"kind": "teleport", "amount": "10"}, "kind"),
    ],
)
def test_a_bad_cost_line_is_refused_at_its_field(app, login, setup, data, field):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    data = {"spent_on": clock.today().isoformat(), **data}
    response = agent.post(f"/service/tickets/{t.id}/costs", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(TicketCost.id))) == 0


def test_labour_cost_is_hours_times_rate(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    data = {"kind": "labour", "hours": "1.5", "rate": "120", "spent_on": clock.today().isoformat()}
    assert agent.post(f"/service/tickets/{t.id}/costs", data=data).status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(TicketCost.amount)) == Decimal("180.00")


def test_list_desk_and_customer_page_show_the_ticket(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"], priority="urgent")
    t = the_ticket(app, customer_id=setup["mine"])
    listing = agent.get("/service/tickets/")
    assert listing.status_code == 200 and t.number in listing.get_data(as_text=True)
    rows = agent.get("/service/tickets/?q=售后测试", htmx=True)
    assert rows.status_code == 200 and 'id="ticket_rows"' in rows.get_data(as_text=True)
    assert "<html" not in rows.get_data(as_text=True)
    assert t.number in agent.get("/service/desk").get_data(as_text=True)
    customer = agent.get(f"/sales/customers/{setup['mine']}").get_data(as_text=True)
    assert t.number in customer
    export = agent.get("/service/tickets/list.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"


def test_scan_warns_and_marks_missed_deadlines_once(app, login, setup, demo):
    agent = login("service1")
    receive(agent, setup["mine"], priority="urgent")
    t = the_ticket(app, customer_id=setup["mine"])
    with app.app_context():
        later = t.resolution_by + timedelta(days=3)
        assert svc.scan(later)[1] == 2  # response and resolution both missed
        db.session.commit()
        assert svc.scan(later) == (0, 0)
        db.session.commit()
        row = db.session.get(Ticket, t.id)
        assert row.response_breached and row.resolution_breached
        notices = db.session.scalar(
            select(func.count(Notification.id)).where(Notification.title.contains(t.number))
        )
        assert notices >= 1


@pytest.mark.parametrize(
    "sort", ["number", "customer", "department", "owner", "received", "status"]
)
def test_the_list_sorts_by_each_column_both_ways(app, login, setup, sort):
    agent = login("service1")
    receive(agent, setup["mine"])
    number = the_ticket(app, customer_id=setup["mine"]).number
    for direction in ("asc", "desc"):
        rows = agent.get(f"/service/tickets/?sort={sort}&dir={direction}&q=售后测试", htmx=True)
        assert rows.status_code == 200 and number in rows.get_data(as_text=True)


def test_the_list_shows_a_step_taken_at_once_and_each_readers_own_tickets(app, login, setup):
    agent = login("service1")
    receive(agent, setup["mine"])
    t = the_ticket(app, customer_id=setup["mine"])
    rows = agent.get("/service/tickets/", headers=EN, htmx=True).get_data(as_text=True)
    assert "Logged" in rows
    agent.post(f"/service/tickets/{t.id}/start")
    rows = agent.get("/service/tickets/", headers=EN, htmx=True).get_data(as_text=True)
    assert "Being handled" in rows and "Logged" not in rows
    # The same list for another reader is drawn for their scope: sales2 sees none of it.
    other = login("sales2").get("/service/tickets/", headers=EN).get_data(as_text=True)
    assert t.number not in other
    mine = login("service2").get("/service/tickets/?scope=mine", headers=EN)
    assert t.number not in mine.get_data(as_text=True)
