"""Issue 14 (P5.3–P5.5) in a real browser: the service group receives a repair by phone for
a customer with a signed contract, the type sends it to the technical department, which
waits for parts (the clock stops), resumes and resolves it; service replies to the
customer and closes it; the customer answers the satisfaction link; the quality page
counts it. And a ticket received on a Friday at 17:30 before a 调休 Saturday is due on
that Saturday morning."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mktapp.core import clock, workcal
from mktapp.extensions import db
from mktapp.models import CalendarDay, Contract, ServiceDepartment, Ticket, TicketRoute, User
from mktapp.service import tickets as svc
from tests.e2e.browser import htmx_settled, sign_in, snap

TICKET_URL = re.compile(r"/service/tickets/(\d+)$")


def as_user(new_context, username: str, locale: str = "zh-CN"):
    context, _watch = new_context(locale=locale)
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page


def signed_contract(live_server) -> tuple[int, int, str]:
    """A signed contract of the demo and its customer: (contract id, customer id, number)."""
    with live_server.app.app_context():
        contract = db.session.scalars(
            select(Contract)
            .where(Contract.signed_on.is_not(None), Contract.status == "executing")
            .order_by(Contract.signed_on.desc(), Contract.id)
        ).first()
        result = (contract.id, contract.customer_id, contract.number)
        db.session.remove()
    return result


def repair_department(live_server) -> tuple[str, str]:
    """Where a repair goes in the demo: the department's name and its leader's username."""
    with live_server.app.app_context():
        route = db.session.scalar(select(TicketRoute).where(TicketRoute.ticket_type == "repair"))
        department = db.session.get(ServiceDepartment, route.department_id)
        result = (department.name, department.leader.username)
        db.session.remove()
    return result


def on_time_counts(new_context) -> list[tuple[int, int]]:
    """The quality page's on-time response and resolution: (on time, of) each, this period."""
    context, page = as_user(new_context, "manager", locale="en-US")
    page.goto("/service/quality")
    counts = []
    for kpi in (page.locator(".kpi").nth(1), page.locator(".kpi").nth(2)):
        note = kpi.locator(".kpi-note").inner_text()
        found = re.search(r"(\d+) of (\d+)", note.replace(",", ""))
        counts.append((int(found.group(1)), int(found.group(2))))
    context.close()
    return counts


@pytest.mark.slow(24)
def test_repair_routed_paused_resolved_replied_closed_rated_and_counted(new_context, live_server):
    contract_id, customer_id, contract_number = signed_contract(live_server)
    department, engineer = repair_department(live_server)
    before = on_time_counts(new_context)

    # service1 takes the call from the customer's page.
    context, page = as_user(new_context, "service1")
    page.goto(f"/sales/customers/{customer_id}")
    page.locator(".page-head").get_by_role("link", name="新建工单").click()
    page.wait_for_url(re.compile(rf"/service/tickets/new\?customer_id={customer_id}$"))
    page.locator("#contract_id").select_option(str(contract_id))
    page.locator("#channel").select_option("phone")
    page.locator("#ticket_type").select_option("repair")
    page.locator("#priority").select_option("high")
    page.locator("#title").fill("会议平板触控失灵")
    page.locator("#description").fill("客户来电：触控屏左下角无响应，重启无效。")
    page.get_by_role("button", name="受理工单").click()
    page.wait_for_url(TICKET_URL)
    ticket_id = int(TICKET_URL.search(page.url).group(1))
    expect(page.locator("main")).to_contain_text(department)
    expect(page.locator("main")).to_contain_text(contract_number)
    snap(page, "service-ticket-received-zh.png", full_page=True)
    context.close()

    # The technical department takes it in hand, waits for parts, resumes and resolves it.
    context, page = as_user(new_context, engineer)
    page.goto(f"/service/tickets/{ticket_id}")
    page.get_by_role("button", name="开始处理").click()
    expect(page.locator(".page-head")).to_contain_text("处理中")
    page.locator("summary", has_text="等待客户或配件").click()
    page.locator("#waiting").select_option("waiting_parts")
    page.locator("#note").fill("已订触控模组，预计两天到货。")
    page.get_by_role("button", name="暂停计时").click()
    expect(page.locator(".page-head")).to_contain_text("待配件")
    expect(page.locator(".ticket-clock")).to_contain_text("时限暂停计时")
    page.get_by_role("button", name="恢复处理").click()
    expect(page.locator(".page-head")).to_contain_text("处理中")
    page.locator("#resolution").fill("更换触控模组并校准，客户现场确认正常。")
    page.get_by_role("button", name="标记为已解决").click()
    expect(page.locator(".page-head")).to_contain_text("已解决")
    context.close()

    # Service replies to the customer, then closes the ticket.
    context, page = as_user(new_context, "service1")
    page.goto(f"/service/tickets/{ticket_id}")
    page.locator("#reply_form #channel").select_option("wechat")
    page.locator("#content").fill("您好，触控模组已更换，如再有问题请随时联系我们。")
    page.get_by_role("button", name="记录回复").click()
    expect(page.locator(".page-head")).to_contain_text("已回复客户")
    page.locator(".page-head summary", has_text="关闭工单").click()
    page.locator(".page-head .confirm-box button").click()
    expect(page.locator(".page-head")).to_contain_text("已关闭")
    link = page.locator(".satisfaction .copy-text").input_value()
    assert "/research/i/" in link
    snap(page, "service-ticket-closed-zh.png", full_page=True)

    # The customer answers the one-time link on their phone.
    customer_context, _ = new_context()
    phone = customer_context.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    phone.goto(link)
    phone.locator("input[type=radio][value='5']").first.check()
    phone.locator("textarea").first.fill("上门很快，谢谢！")
    phone.locator("button[type=submit]").last.click()
    expect(phone.locator("body")).to_contain_text("感谢")
    phone.goto(link)  # the link takes one answer
    expect(phone.locator("body")).to_contain_text("已")
    customer_context.close()

    page.goto(f"/service/tickets/{ticket_id}")
    expect(page.locator(".satisfaction")).to_contain_text("5 / 5")
    context.close()

    with live_server.app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.rating == 5
        assert not ticket.response_breached and not ticket.resolution_breached
        db.session.remove()

    # The quality page counts it responded to and resolved on time (the pause not counted).
    after = on_time_counts(new_context)
    assert after == [(ok + 1, of + 1) for ok, of in before]
    context, page = as_user(new_context, "manager")
    page.goto("/service/quality")
    expect(page.locator("main")).to_contain_text(department)
    snap(page, "service-quality-zh.png", full_page=True)
    context.close()


@pytest.mark.slow(8)
def test_a_friday_evening_ticket_is_due_on_the_make_up_saturday(new_context, live_server):
    # The administrator adds a 调休 Saturday on the calendar page, as the notice says.
    saturday = clock.today() + timedelta(days=21)
    saturday += timedelta(days=(5 - saturday.weekday()) % 7)
    with live_server.app.app_context():  # a Saturday after a Friday worked as usual
        while not workcal.company_calendar().is_working_day(saturday - timedelta(days=1)):
            saturday += timedelta(days=7)
        db.session.remove()
    context, page = as_user(new_context, "admin")
    page.goto(f"/settings/calendar/?year={saturday.year}")
    page.locator("#day").fill(saturday.isoformat())
    page.locator("input[name=kind][value=work]").check()
    page.locator("#name").fill("调休上班")
    page.locator("#day_form button[type=submit]").click()
    htmx_settled(page)
    expect(page.locator("#calendar_days")).to_contain_text(saturday.isoformat())
    context.close()

    friday = saturday - timedelta(days=1)
    with live_server.app.app_context():
        assert (
            db.session.scalar(select(CalendarDay.kind).where(CalendarDay.day == saturday)) == "work"
        )
        agent = db.session.scalar(select(User).where(User.username == "service1"))
        _contract, customer_id, _number = signed_contract(live_server)
        ticket = svc.receive(
            agent,
            customer_id=customer_id,
            channel="phone",
            ticket_type="complaint",
            priority="urgent",
            title="周五傍晚来电投诉",
            received_at=datetime(
                friday.year, friday.month, friday.day, 17, 30, tzinfo=clock.zone()
            ),
        )
        db.session.commit()
        ticket_id = ticket.id
        db.session.remove()

    # Urgent: one working hour to respond, 17:30–18:00 on Friday and 09:00–09:30 on Saturday.
    context, page = as_user(new_context, "service1")
    page.goto(f"/service/tickets/{ticket_id}")
    expect(page.locator(".ticket-clock")).to_contain_text(f"{saturday.isoformat()} 09:30")
    snap(page, "service-ticket-saturday-zh.png", full_page=True)
    context.close()
