"""The agent's desk: the open tickets a person handles (a department leader: the
department's too), sorted by urgency: past their time limit, due soon, running, waiting."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from mktapp.extensions import db
from mktapp.models import ServiceDepartment, Ticket
from mktapp.models.service import OPEN_STATUSES, TICKET_PRIORITIES
from mktapp.service import sla

DESK_LIMIT = 500  # a desk with more open tickets than this shows the most urgent first
PRIORITY_ORDER = {code: i for i, code in enumerate(TICKET_PRIORITIES)}


def led_departments(user) -> list[ServiceDepartment]:
    return list(
        db.session.scalars(
            select(ServiceDepartment).where(
                ServiceDepartment.leader_id == user.id, ServiceDepartment.archived_at.is_(None)
            )
        )
    )


def desk_of(user, now: datetime) -> dict:
    """The person's open tickets in four groups, and a leader's department view."""
    led = led_departments(user)
    mine = or_(Ticket.owner_id == user.id, Ticket.department_id.in_([d.id for d in led]))
    rows = list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.status.in_(OPEN_STATUSES), mine)
            .options(joinedload(Ticket.owner))
            .order_by(Ticket.resolution_by, Ticket.id)
            .limit(DESK_LIMIT)
        ).unique()
    )
    groups: dict[str, list] = {"breached": [], "soon": [], "running": [], "waiting": []}
    for ticket in rows:
        standing = sla.standing(ticket, now)
        item = (ticket, standing)
        if standing.state == "breached":
            groups["breached"].append(item)
        elif ticket.is_paused:
            groups["waiting"].append(item)
        elif standing.state == "soon":
            groups["soon"].append(item)
        else:
            groups["running"].append(item)
    for items in groups.values():
        items.sort(key=lambda i: (PRIORITY_ORDER.get(i[0].priority, 9), i[1].left))
    by_priority = Counter(t.priority for t in rows)
    return {
        "groups": groups,
        "led": led,
        "own_count": sum(1 for t in rows if t.owner_id == user.id),
        "total": len(rows),
        "by_priority": [(code, by_priority.get(code, 0)) for code in TICKET_PRIORITIES],
        "now": now,
    }
