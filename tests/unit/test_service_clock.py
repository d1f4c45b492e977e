"""A ticket's time limits on the working calendar: set at receipt across a night and a
调休 Saturday, moved on by a pause by exactly the working time spent waiting, missed for
good once passed (through a reopening too)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from mktapp.core import clock, workcal
from mktapp.extensions import db
from mktapp.models import Customer, User
from mktapp.service import sla
from mktapp.service import tickets as svc


def local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=clock.zone())


def saturday_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7 or 7)


@pytest.fixture
def agent(app, demo):
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "service1"))
        customer = Customer(
            name="时钟测试客户有限公司", name_key="时钟测试客户", owner_id=demo["sales1"]
        )
        db.session.add(customer)
        db.session.flush()
        yield user, customer
        db.session.rollback()


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def test_friday_evening_ticket_is_due_on_the_make_up_saturday(agent):
    user, customer = agent
    saturday = saturday_after(clock.today() + timedelta(days=14))
    workcal.add_day(user, saturday, "work", "调休上班")
    friday = saturday - timedelta(days=1)
    received = local(friday.year, friday.month, friday.day, 17, 30)
    with at(received):
        ticket = svc.receive(
            user,
            customer_id=customer.id,
            channel="phone",
            ticket_type="complaint",
            priority="urgent",
            title="周五傍晚来电",
        )
    response, _resolution = sla.targets("complaint", "urgent")
    assert response == 60
    # 17:30–18:00 on Friday, then 30 minutes from 09:00 on the make-up Saturday.
    assert ticket.response_by == local(saturday.year, saturday.month, saturday.day, 9, 30)


def test_a_pause_moves_the_deadline_by_the_working_time_waited(agent):
    user, customer = agent
    monday = clock.today() + timedelta(days=21 + (7 - clock.today().weekday()) % 7)
    while not workcal.company_calendar().is_working_day(monday) or not (
        workcal.company_calendar().is_working_day(monday + timedelta(days=1))
    ):
        monday += timedelta(days=7)
    day = (monday.year, monday.month, monday.day)
    with at(local(*day, 9)):
        ticket = svc.receive(
            user,
            customer_id=customer.id,
            channel="wechat",
            ticket_type="repair",
            priority="medium",
            title="需要更换配件",
        )
        svc.start(user, ticket)
    before = ticket.resolution_by
    with at(local(*day, 10)):
        svc.pause(user, ticket, "waiting_parts", "等配件")
    with at(local(*day, 14)):
        svc.resume(user, ticket)
    waited = 120 + 30  # 10:00–12:00 and 13:30–14:00: the lunch break is not working time
    assert ticket.paused_minutes == waited
    assert ticket.resolution_by == workcal.add_working_minutes(before, waited)
    with at(local(*day, 15)):
        svc.resolve(user, ticket, "已更换。")
    # Received 09:00, resolved 15:00: 3 h + 1.5 h = 270 working minutes, 150 of them waiting.
    assert ticket.resolution_minutes == 270 - waited
    assert not ticket.resolution_breached


def test_a_missed_deadline_stays_missed_after_reopening(agent):
    user, customer = agent
    with at(clock.now()):
        ticket = svc.receive(
            user,
            customer_id=customer.id,
            channel="phone",
            ticket_type="consult",
            priority="urgent",
            title="咨询",
        )
    late = ticket.resolution_by + timedelta(days=10)
    with at(late):
        svc.resolve(user, ticket, "已答复。")
        assert ticket.response_breached and ticket.resolution_breached
        svc.reopen(user, ticket, "客户再次来电")
        assert ticket.status == "in_progress" and ticket.resolution_breached
