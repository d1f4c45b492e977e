"""The after-sales demo (issue 14 item 9): about 150 tickets over the last six months in
every state and type, worked through the services in time order on the demo's day: some
late, some paused, some reopened, rated through the satisfaction link, with cost lines,
and today's desks with tickets close to their limit and one past it."""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import (
    AuditLog,
    Notification,
    ServiceDepartment,
    SurveyInvitation,
    SurveyResponse,
    Ticket,
    TicketCost,
    TicketEvent,
    TicketRoute,
    User,
)
from mktapp.models.service import OPEN_STATUSES, TICKET_STATUSES, TICKET_TYPES
from mktapp.service import desk


@pytest.fixture(params=[None, date(2027, 2, 10)], ids=["suite-day", "spring-festival-week"])
def service_demo(request, app):
    """The demo with DEMO_SERVICE on, built on the suite's day and in the week of 春节."""
    import time_machine

    day = request.param
    travel = (
        time_machine.travel(datetime.combine(day, time(10), ZoneInfo("Asia/Shanghai")), tick=True)
        if day
        else nullcontext()
    )
    from mktapp.cli import seed_demo_data

    app.config["DEMO_SERVICE"] = True
    with travel:
        try:
            with app.app_context():
                ctx = seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
                db.session.remove()
        finally:
            app.config.pop("DEMO_SERVICE", None)
        with app.app_context():
            yield ctx
            db.session.remove()


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _every_state_and_type_through_the_services(service_demo) -> None:
    now = clock.now()
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.received_at)).all()
    assert len(tickets) == service_demo["tickets"]
    assert 140 <= len(tickets) <= 160
    statuses = Counter(t.status for t in tickets)
    assert set(statuses) == set(TICKET_STATUSES)
    assert statuses["closed"] >= 0.65 * len(tickets)
    # Today's fifteen, and any that came in over a holiday just gone.
    assert 15 <= sum(statuses[s] for s in OPEN_STATUSES) <= 25
    types = Counter(t.ticket_type for t in tickets)
    assert set(types) == set(TICKET_TYPES)
    assert 0.12 <= types["complaint"] / len(tickets) <= 0.3
    # Six months back to now, numbered in the order received.
    assert tickets[0].received_at >= now - timedelta(days=185)
    assert tickets[-1].received_at <= now
    numbers = [t.number for t in tickets]
    assert numbers == sorted(numbers, key=lambda n: (n[3:7], n))
    # Late ones, paused ones, reopened ones: each as its service made it.
    late = [t for t in tickets if t.response_breached or t.resolution_breached]
    assert 0.05 <= len(late) / len(tickets) <= 0.2
    assert sum(1 for t in tickets if t.reopen_count) >= 4
    paused = db.session.scalar(
        select(func.count(func.distinct(TicketEvent.ticket_id))).where(
            TicketEvent.to_status.in_(("waiting_customer", "waiting_parts"))
        )
    )
    assert paused >= 15
    for t in tickets:
        assert t.response_by > t.received_at and t.resolution_by >= t.response_by
        if t.status in ("resolved", "replied", "closed"):
            assert t.resolved_at is not None and t.resolution_minutes is not None
            assert t.first_response_at is not None and t.first_response_at <= t.resolved_at
        if t.status == "closed":
            assert t.closed_at >= t.replied_at >= t.resolved_at and t.invitation_id
    # Nothing happened after the demo's now.
    assert db.session.scalar(select(func.max(TicketEvent.at))) <= now
    assert db.session.scalar(select(func.max(AuditLog.at))) <= now + timedelta(seconds=5)


def _ratings_through_the_satisfaction_link_and_costs_of_repairs() -> None:
    rated = db.session.scalars(select(Ticket).where(Ticket.rating.is_not(None))).all()
    closed = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "closed"))
    assert len(rated) >= 0.6 * closed
    assert Counter(t.rating for t in rated).most_common(1)[0][0] >= 4
    assert 3.6 <= sum(t.rating for t in rated) / len(rated) <= 4.6
    for t in rated:
        invitation = db.session.get(SurveyInvitation, t.invitation_id)
        assert invitation.used_at is not None and t.rated_at <= invitation.expires_at
        assert db.session.scalar(
            select(SurveyResponse.id).where(SurveyResponse.invitation_id == invitation.id)
        )
    costs = db.session.execute(
        select(Ticket.ticket_type, TicketCost.kind, TicketCost.amount).join(
            Ticket, Ticket.id == TicketCost.ticket_id
        )
    ).all()
    assert {kind for kind, _c, _a in costs} <= {"repair", "return"}
    assert {"parts", "labour", "travel"} <= {c for _k, c, _a in costs}
    assert all(amount > 0 for _k, _c, amount in costs)


def _repairs_to_the_technical_department_and_work_on_the_desks() -> None:
    tech = db.session.scalar(select(ServiceDepartment).where(ServiceDepartment.name == "技术部"))
    assert tech is not None and tech.leader.username == "service2"
    routes = {r.ticket_type: r for r in db.session.scalars(select(TicketRoute))}
    assert routes["repair"].department_id == tech.id
    assert {
        t.department_id for t in db.session.scalars(select(Ticket)) if t.ticket_type == "repair"
    } == {tech.id}
    assert routes["return"].default_owner.username == "sales3"
    now = clock.now()
    groups: Counter = Counter()
    for name in ("service1", "service2", "sales3"):
        for group, items in desk.desk_of(_user(name), now)["groups"].items():
            groups[group] += len(items)
    assert groups["breached"] >= 1
    assert groups["soon"] >= 1
    assert groups["waiting"] >= 4
    # Old news is read; the missed deadline of today is not.
    unread = db.session.scalars(
        select(Notification).where(
            Notification.read_at.is_(None), Notification.url.like("/service/%")
        )
    ).all()
    assert unread and all(n.created_at >= now - timedelta(days=8) for n in unread)


def test_the_demo_tickets_are_worked_through_the_services_up_to_the_demo_day(service_demo):
    """One seeding per day checked (it takes seconds): states, ratings and costs, desks."""
    _every_state_and_type_through_the_services(service_demo)
    _ratings_through_the_satisfaction_link_and_costs_of_repairs()
    _repairs_to_the_technical_department_and_work_on_the_desks()
