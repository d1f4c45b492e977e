"""Follow-ups (跟进记录): recording rules, reminders sent once, the due list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import Notification, User
from mktapp.models.sales import Interaction
from mktapp.sales import followups as svc
from mktapp.sales.customers import CustomerInput, create_customer


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def notes_for(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user_id)
    )


def followup(customer, owner, days_ago: int, next_date: date | None, notes="沟通"):
    item = Interaction(
        customer_id=customer.id,
        owner_id=owner.id,
        kind="call",
        notes=notes,
        happened_at=clock.now() - timedelta(days=days_ago),
        next_date=next_date,
    )
    db.session.add(item)
    db.session.flush()
    return item


def test_add_followup_checks_its_input(app_ctx, demo):
    rep = user("sales1")
    customer = create_customer(rep, CustomerInput(name="长沙测试有限公司"))
    db.session.flush()
    now = clock.now()
    with pytest.raises(svc.FollowupError):
        svc.add_followup(rep, customer, svc.FollowupInput("call", now, "  "))
    with pytest.raises(svc.FollowupError):
        svc.add_followup(rep, customer, svc.FollowupInput("call", now + timedelta(days=2), "将来"))
    with pytest.raises(svc.FollowupError):
        svc.add_followup(
            rep,
            customer,
            svc.FollowupInput("call", now, "x", next_date=now.date() - timedelta(days=3)),
        )
    with pytest.raises(svc.FollowupError):
        svc.add_followup(rep, customer, svc.FollowupInput("fax", now, "x"))
    item = svc.add_followup(
        rep,
        customer,
        svc.FollowupInput("visit", now, "拜访", next_date=now.date() + timedelta(days=1)),
    )
    assert item.owner_id == rep.id and item.kind == "visit"


def test_reminders_are_sent_on_the_day_and_only_once(app_ctx, demo):
    rep = user("sales1")
    customer = create_customer(rep, CustomerInput(name="南昌提醒测试有限公司"))
    db.session.flush()
    today = date(2026, 5, 20)
    due = followup(customer, rep, 3, today)
    later = followup(customer, user("sales2"), 4, today + timedelta(days=1))
    before = notes_for(rep.id)
    assert svc.send_due_reminders(today) == 1
    assert notes_for(rep.id) == before + 1
    assert due.reminded_on == today and later.reminded_on is None
    assert svc.send_due_reminders(today) == 0
    assert notes_for(rep.id) == before + 1


def test_a_step_superseded_by_a_newer_followup_is_not_reminded(app_ctx, demo):
    rep = user("sales1")
    customer = create_customer(rep, CustomerInput(name="太原已跟进测试有限公司"))
    db.session.flush()
    today = date(2026, 5, 20)
    old = followup(customer, rep, 10, today - timedelta(days=2))
    followup(customer, rep, 1, None, notes="已回访")
    assert svc.send_due_reminders(today) == 0
    assert old.reminded_on == today
    assert old not in svc.due_for(rep, today)


def test_due_list_has_overdue_first_and_only_my_open_steps(app_ctx, demo):
    rep = user("sales1")
    a = create_customer(rep, CustomerInput(name="兰州甲测试有限公司"))
    b = create_customer(rep, CustomerInput(name="西宁乙测试有限公司"))
    db.session.flush()
    today = clock.today()
    soon = followup(a, rep, 1, today + timedelta(days=2))
    overdue = followup(b, rep, 5, today - timedelta(days=1))
    mine = [i for i in svc.due_for(rep, today) if i.customer_id in (a.id, b.id)]
    assert mine == [overdue, soon]
    assert all(i.owner_id == rep.id for i in svc.due_for(rep, today))


def test_sales_reminders_command_sends_due_reminders_once(app, demo):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sales-reminders", "--date", "2030-01-01"])
    assert first.exit_code == 0, first.output
    sent = int(first.output.split(": ")[1].split()[0])
    assert sent >= 1
    again = runner.invoke(args=["sales-reminders", "--date", "2030-01-01"])
    assert "0 reminders sent" in again.output
    with app.app_context():
        note = db.session.scalar(
            select(Notification).where(Notification.url.like("/sales/customers/%"))
        )
        assert note is not None
