"""After-sales quality figures (P5.4, P5.5): computed in SQL on a handful of tickets made
as rows, three years before the frozen day (no demo ticket is that old), on SQLite and
PostgreSQL alike; the improvement actions and their follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import select

from mktapp.core import clock, settings
from mktapp.extensions import db
from mktapp.models import (
    Budget,
    BudgetLine,
    Customer,
    ServiceDepartment,
    ServiceImprovement,
    Ticket,
    TicketCost,
    User,
)
from mktapp.service import departments as depts
from mktapp.service import quality as svc

_numbers = count(1)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of the company's day, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=clock.zone()).astimezone(UTC)


def ticket(department, owner, received: datetime, **values) -> Ticket:
    values.setdefault("ticket_type", "consult")
    values.setdefault("status", "received")
    row = Ticket(
        number=f"QA-{next(_numbers):05d}",
        customer_id=values.pop("customer_id"),
        channel="phone",
        priority="medium",
        title="质量统计测试",
        description="",
        department_id=department.id,
        owner_id=owner.id if owner else None,
        received_at=received,
        response_by=received + timedelta(hours=4),
        resolution_by=received + timedelta(days=3),
        paused_minutes=0,
        reopen_count=values.pop("reopen_count", 0),
        resolution="",
        rating_comment="",
        response_breached=values.pop("response_breached", False),
        resolution_breached=values.pop("resolution_breached", False),
        **values,
    )
    db.session.add(row)
    return row


def cost(row: Ticket, amount: str, spent_on: date) -> TicketCost:
    line = TicketCost(
        ticket=row,
        kind="parts",
        description="配件",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        spent_on=spent_on,
    )
    db.session.add(line)
    return line


def build() -> dict:
    """Two departments of our own (A: service1, B: service2), tickets over three months
    starting three years back, cost lines and a customer upkeep budget; see the sums below."""
    m0 = svc.add_months(svc.month_start(clock.today()), -36)
    m1, m2 = svc.add_months(m0, 1), svc.add_months(m0, 2)
    s1, s2 = user("service1"), user("service2")
    a = ServiceDepartment(code="qa_a", name="质量甲部", description="", sort=90)
    b = ServiceDepartment(code="qa_b", name="质量乙部", description="", sort=91)
    customer = Customer(name="质量测试客户有限公司")
    db.session.add_all([a, b, customer])
    db.session.flush()
    c = customer.id

    def at(month, day=3):
        return local(month.replace(day=day))

    t = {}
    # Month 0
    t[1] = ticket(
        a,
        s1,
        at(m0),
        customer_id=c,
        status="closed",
        first_response_at=at(m0),
        resolved_at=at(m0),
        response_minutes=30,
        resolution_minutes=120,
        rating=5,
    )
    t[2] = ticket(
        a,
        s1,
        at(m0, 4),
        customer_id=c,
        ticket_type="complaint",
        status="replied",
        first_response_at=at(m0, 4),
        resolved_at=at(m0, 5),
        response_minutes=90,
        resolution_minutes=300,
        response_breached=True,
        rating=3,
    )
    # Resolved once, reopened: its old resolution time is not counted.
    t[3] = ticket(
        a,
        s1,
        at(m0, 5),
        customer_id=c,
        ticket_type="repair",
        status="in_progress",
        first_response_at=at(m0, 5),
        response_minutes=60,
        resolution_minutes=999,
        resolution_breached=True,
        reopen_count=1,
    )
    t[4] = ticket(b, s2, at(m0, 6), customer_id=c, ticket_type="repair", response_breached=True)
    # Month 1
    t[5] = ticket(
        b,
        s2,
        at(m1),
        customer_id=c,
        ticket_type="complaint",
        status="closed",
        first_response_at=at(m1),
        resolved_at=at(m1, 4),
        response_minutes=10,
        resolution_minutes=200,
        reopen_count=1,
        rating=4,
    )
    t[6] = ticket(
        b,
        s2,
        at(m1, 5),
        customer_id=c,
        status="closed",
        first_response_at=at(m1, 5),
        resolved_at=at(m1, 9),
        response_minutes=20,
        resolution_minutes=600,
        resolution_breached=True,
        rating=2,
    )
    # Month 2
    t[7] = ticket(a, s1, at(m2), customer_id=c, ticket_type="return")
    # Received the month before the period: its cost spent in the period still counts.
    t[8] = ticket(
        b, s2, local(svc.add_months(m0, -1).replace(day=15)), customer_id=c, ticket_type="repair"
    )
    db.session.flush()
    cost(t[1], "100.00", m0.replace(day=8))
    cost(t[1], "50.00", m1.replace(day=2))
    cost(t[5], "200.00", m1.replace(day=6))
    cost(t[8], "30.00", m0.replace(day=2))
    cost(t[8], "999.00", svc.add_months(m0, -1).replace(day=20))  # before the period
    # The customer upkeep budget: 100 a month in the period, more outside it and in
    # another category (neither counted).
    budgets = {}
    for month in (m0, m1, m2, svc.add_months(m2, 1)):
        if month.year not in budgets:
            budgets[month.year] = Budget(year=month.year, title="预算", status="approved")
            db.session.add(budgets[month.year])
            db.session.flush()
        budget = budgets[month.year]
        db.session.add(
            BudgetLine(
                budget_id=budget.id,
                category="customer",
                month=month.month,
                amount=Decimal("100.00"),
            )
        )
        db.session.add(
            BudgetLine(
                budget_id=budget.id, category="brand", month=month.month, amount=Decimal("7000.00")
            )
        )
    db.session.flush()
    return {
        "a": a,
        "b": b,
        "s1": s1,
        "s2": s2,
        "tickets": t,
        "customer": customer,
        "period": svc.Period(m0, m2),
        "months": (m0, m1, m2),
    }


def manager() -> User:
    return user("manager")


def test_the_whole_periods_figures(app_ctx, demo):
    data = build()
    rep = svc.report(manager(), data["period"])
    t = rep.total
    assert t.tickets == 7 and t.complaints == 2
    # Responded or missed: 1-6; responded without missing: 1, 3, 5, 6.
    assert (t.response_on_time, t.response_due, t.response_rate) == (4, 6, Decimal("66.7"))
    # Resolved or missed: 1, 2, 3 (missed), 5, 6; on time: 1, 2, 5.
    assert (t.resolution_on_time, t.resolution_due, t.resolution_rate) == (3, 5, Decimal("60.0"))
    # Resolved: 1, 2, 5, 6; never reopened: 1, 2, 6.
    assert (t.first_time, t.resolved, t.first_time_rate) == (3, 4, Decimal("75.0"))
    # Response minutes 30 90 60 10 20: mean 42, median 30.
    assert (t.response_avg, t.response_median) == (Decimal("0.7"), Decimal("0.5"))
    # Resolution minutes of resolved tickets 120 300 200 600 (not the reopened 999).
    assert (t.resolution_avg, t.resolution_median) == (Decimal("5.1"), Decimal("4.2"))
    assert (t.rated, t.rating, t.csat) == (4, Decimal("3.50"), Decimal("50.0"))
    # Cost goes with its ticket: 100 + 50 on ticket 1, 200 on ticket 5 (not ticket 8's,
    # received before the period, though 30 of it was spent in it).
    assert (t.cost, t.cost_tickets, t.cost_per_ticket) == (
        Decimal("350.00"),
        2,
        Decimal("175.00"),
    )
    assert rep.budget == Decimal("300.00")
    assert rep.budget_used == Decimal("116.7")


def test_breakdowns_by_department_person_type_and_month(app_ctx, demo):
    data = build()
    rep = svc.report(manager(), data["period"])
    by_department = {row.key: row for row in rep.by_department}
    a, b = by_department[data["a"].id], by_department[data["b"].id]
    assert (a.label, a.tickets, a.response_rate, a.resolution_rate, a.rating) == (
        "质量甲部",
        4,
        Decimal("66.7"),
        Decimal("66.7"),
        Decimal("4.00"),
    )
    assert (b.tickets, b.response_rate, b.resolution_rate, b.rating) == (
        3,
        Decimal("66.7"),
        Decimal("50.0"),
        Decimal("3.00"),
    )
    # Medians per group: A 30 60 90 -> 60 minutes; B 10 20 -> 15 minutes (0.25 h).
    assert (a.response_median, b.response_median) == (Decimal("1.0"), Decimal("0.3"))
    assert (a.cost, a.cost_tickets, b.cost, b.cost_tickets) == (
        Decimal("150.00"),
        1,
        Decimal("200.00"),
        1,
    )
    people = {row.key: row for row in rep.by_person}
    assert people[data["s1"].id].tickets == 4 and people[data["s2"].id].tickets == 3
    assert people[data["s1"].id].label == data["s1"].display_name
    types = {row.key: row for row in rep.by_type}
    assert {k: v.tickets for k, v in types.items()} == {
        "consult": 2,
        "complaint": 2,
        "repair": 2,
        "return": 1,
    }
    assert types["complaint"].complaints == 2
    assert (types["complaint"].cost, types["repair"].cost) == (Decimal("200.00"), Decimal("0.00"))
    assert [row.key for row in rep.by_type] == ["consult", "complaint", "repair", "return"]
    m0, m1, m2 = (svc.month_key(m) for m in data["months"])
    months = {row.key: row for row in rep.by_month}
    assert [row.key for row in rep.by_month] == [m0, m1, m2]
    assert [months[k].tickets for k in (m0, m1, m2)] == [4, 2, 1]
    assert (months[m0].cost, months[m0].cost_tickets) == (Decimal("150.00"), 1)
    assert (months[m1].cost, months[m1].cost_tickets) == (Decimal("200.00"), 1)
    assert months[m2].cost == Decimal("0.00")
    assert rep.budget_by_month == {
        m0: Decimal("100.00"),
        m1: Decimal("100.00"),
        m2: Decimal("100.00"),
    }


def test_one_departments_report(app_ctx, demo):
    data = build()
    rep = svc.report(manager(), data["period"], data["b"].id)
    assert rep.total.tickets == 3
    assert [row.key for row in rep.by_department] == [data["b"].id]
    assert rep.total.cost == Decimal("200.00")


def test_below_the_standard_and_the_settings(app_ctx, demo):
    data = build()
    rep = svc.report(manager(), data["period"])
    a, b = data["a"].id, data["b"].id
    below = {(x.kind, x.subject_id, x.figure) for x in rep.below}
    assert {("department", a, "response"), ("department", a, "resolution")} <= below
    assert ("department", a, "satisfaction") not in below  # 4.00 meets 4.0
    assert ("department", b, "satisfaction") in below
    assert ("user", data["s2"].id, "resolution") in below
    settings.set_value("service.on_time_standard", "60")
    settings.set_value("service.satisfaction_standard", "30")
    rep = svc.report(manager(), data["period"])
    below = {(x.kind, x.subject_id, x.figure) for x in rep.below}
    assert ("department", a, "response") not in below
    assert ("department", b, "resolution") in below  # 50.0 < 60
    assert ("department", b, "satisfaction") not in below  # 3.00 meets 3.0
    assert rep.satisfaction_standard == Decimal("3")


def test_months_are_the_companys_months(app_ctx, demo):
    """A ticket received at 01:00 on the first of a month (17:00 UTC the day before) is
    that month's, and outside a period that ends the month before."""
    m = svc.add_months(svc.month_start(clock.today()), -48)
    first_next = svc.add_months(m, 1)
    department = ServiceDepartment(code="qa_m", name="月份测试部", description="", sort=92)
    customer = Customer(name="月份测试客户")
    db.session.add_all([department, customer])
    db.session.flush()
    early = ticket(department, None, local(first_next, 1), customer_id=customer.id)
    late = ticket(department, None, local(m.replace(day=28), 23, 30), customer_id=customer.id)
    db.session.flush()
    assert early.received_at.astimezone(UTC).day != 1  # stored the day before, in UTC
    bucket = svc.month_bucket(Ticket.received_at, [m, first_next])
    got = dict(
        db.session.execute(
            select(Ticket.id, bucket).where(Ticket.department_id == department.id)
        ).all()
    )
    assert got == {early.id: 1, late.id: 0}
    rep = svc.report(manager(), svc.Period(m, m), department.id)
    assert rep.total.tickets == 1
    assert [(row.key, row.tickets) for row in rep.by_month] == [(svc.month_key(m), 1)]
    assert rep.by_person[0].label and rep.by_person[0].key is None


def test_the_period_asked_for(app_ctx):
    today = date(2026, 12, 7)
    assert svc.period_of(None, None, today) == svc.Period(date(2026, 7, 1), date(2026, 12, 1))
    assert svc.period_of("2026-03", "2026-01", today) == svc.Period(
        date(2026, 1, 1), date(2026, 3, 1)
    )
    assert svc.period_of("2020-01", "2026-12", today).first == date(2025, 1, 1)  # 24 months
    assert svc.period_of("bad", "2026-13", today) == svc.Period(date(2026, 7, 1), date(2026, 12, 1))
    assert svc.period_of("2026-09", None, today) == svc.Period(date(2026, 9, 1), date(2026, 12, 1))
    assert svc.Period(date(2026, 11, 1), date(2027, 2, 1)).label == "2026-11 – 2027-02"


def test_the_service_leader_records_an_improvement_action(app_ctx, demo):
    data = build()
    depts.ensure_departments()
    leader = user("service1")
    assert svc.may_record(leader) and svc.may_record(manager())
    assert not svc.may_record(user("service2"))
    today = clock.today()
    action = svc.record_improvement(
        leader,
        subject=f"department:{data['b'].id}",
        figure="resolution",
        action="每周复盘超时工单，备件提前备货。",
        owner_id=data["s2"].id,
        due_on=today,
        period=data["period"],
    )
    assert action.value_then == Decimal("50.0")
    assert action.status == "open" and action.period_start == data["months"][0]
    assert action.subject_label == "质量乙部"


def test_an_improvement_action_refuses_a_past_due_date_and_no_text(app_ctx, demo):
    data = build()
    with pytest.raises(svc.QualityError) as refused:
        svc.record_improvement(
            manager(),
            subject=f"user:{data['s2'].id}",
            figure="response",
            action="  ",
            owner_id=data["s2"].id,
            due_on=clock.today() - timedelta(days=1),
            period=data["period"],
        )
    fields = {name for name, _message in refused.value.problems}
    assert fields == {"action", "due_on"}
    assert refused.value.status == 422
    with pytest.raises(svc.QualityError) as refused:
        svc.record_improvement(
            user("service2"),
            subject=f"user:{data['s2'].id}",
            figure="response",
            action="改进",
            owner_id=data["s2"].id,
            due_on=clock.today(),
            period=data["period"],
        )
    assert refused.value.status == 403
    assert db.session.scalar(select(ServiceImprovement.id)) is None


def test_an_action_is_followed_up_in_the_next_period(app_ctx, demo):
    """Due this month: followed up in this month so far; the department's tickets this
    month were all responded to in time, better than the 66.7% then."""
    data = build()
    today = clock.today()
    action = svc.record_improvement(
        manager(),
        subject=f"department:{data['b'].id}",
        figure="response",
        action="首次响应纳入每日晨会检查。",
        owner_id=data["s2"].id,
        due_on=today,
        period=data["period"],
    )
    (followed,) = svc.improvements(manager())
    assert followed.improvement is action
    assert followed.month == svc.month_start(today) and followed.so_far
    assert followed.value is None and followed.improved is None
    start = svc._utc_midnight(svc.month_start(today)) + timedelta(minutes=30)
    for minutes in (10, 40):
        ticket(
            data["b"],
            data["s2"],
            start,
            customer_id=data["customer"].id,
            status="in_progress",
            first_response_at=start,
            response_minutes=minutes,
        )
    db.session.flush()
    (followed,) = svc.improvements(manager())
    assert followed.value == Decimal("100.0") and followed.improved is True
    assert svc.improvements(user("sales1")) == []  # not theirs to see


def test_an_action_is_marked_done_once_with_a_note(app_ctx, demo):
    data = build()
    action = svc.record_improvement(
        manager(),
        subject=f"user:{data['s2'].id}",
        figure="satisfaction",
        action="回访差评客户。",
        owner_id=data["s2"].id,
        due_on=clock.today() + timedelta(days=14),
        period=data["period"],
    )
    assert action.value_then == Decimal("3.00")
    with pytest.raises(svc.QualityError) as refused:
        svc.complete(data["s2"], action, "")
    assert refused.value.field == "note"
    with pytest.raises(svc.QualityError) as refused:
        svc.complete(user("sales1"), action, "完成")
    assert refused.value.status == 403
    svc.complete(data["s2"], action, "已回访 3 位客户。")  # the person carrying it out
    assert action.status == "done" and action.done_at is not None
    with pytest.raises(svc.QualityError) as refused:
        svc.complete(manager(), action, "再次")
    assert refused.value.status == 409
