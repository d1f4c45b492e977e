"""Service time limits (SLA) per ticket type and priority, in working minutes on the
company calendar (core.workcal), and where a ticket stands against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.core import workcal
from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models import SlaPolicy, Ticket
from mktapp.models.service import TICKET_PRIORITIES, TICKET_TYPES

# Working minutes to the first response and to the resolution, by priority, until the
# administrator sets them per type (a working day is 7.5 hours).
DEFAULT_TARGETS = {
    "urgent": (60, 480),
    "high": (120, 960),
    "medium": (240, 1440),
    "low": (480, 2400),
}
# The owner is told when this share of the time is gone.
WARN_SHARE = 0.8
LONGEST = 60 * 24 * 60  # sixty whole days of minutes: no target is longer


class SlaError(DomainError):
    """A time limit that cannot be saved."""


def matrix() -> dict[tuple[str, str], tuple[int, int]]:
    """(type, priority) -> (response, resolution) working minutes, for every pair."""
    out = {(t, p): DEFAULT_TARGETS[p] for t in TICKET_TYPES for p in TICKET_PRIORITIES}
    for row in db.session.scalars(select(SlaPolicy)):
        if (row.ticket_type, row.priority) in out:
            out[(row.ticket_type, row.priority)] = (row.response_minutes, row.resolution_minutes)
    return out


def targets(ticket_type: str, priority: str) -> tuple[int, int]:
    row = db.session.scalar(
        select(SlaPolicy).where(
            SlaPolicy.ticket_type == ticket_type, SlaPolicy.priority == priority
        )
    )
    if row is not None:
        return row.response_minutes, row.resolution_minutes
    return DEFAULT_TARGETS.get(priority, DEFAULT_TARGETS["medium"])


def field_name(ticket_type: str, priority: str, which: str) -> str:
    return f"{ticket_type}-{priority}-{which}"


def save_matrix(user, values: dict[tuple[str, str], tuple[int | None, int | None]]) -> None:
    """Store the limits (working minutes); every pair is checked before any is written: both
    set, above zero, at most sixty days, the response within the resolution."""
    problems: list[tuple[str | None, str]] = []
    for (t, p), (response, resolution) in values.items():
        if t not in TICKET_TYPES or p not in TICKET_PRIORITIES:
            continue
        if not response or response <= 0:
            problems.append((field_name(t, p, "response"), str(_l("Enter a time above zero."))))
        if not resolution or resolution <= 0:
            problems.append((field_name(t, p, "resolution"), str(_l("Enter a time above zero."))))
        if response and resolution and response > resolution:
            problems.append(
                (
                    field_name(t, p, "response"),
                    str(_l("The first response cannot take longer than the resolution.")),
                )
            )
        for which, value in (("response", response), ("resolution", resolution)):
            if value and value > LONGEST:
                problems.append((field_name(t, p, which), str(_l("At most 60 days."))))
    if problems:
        raise SlaError(problems[0][1], problems[0][0], problems)
    rows = {(r.ticket_type, r.priority): r for r in db.session.scalars(select(SlaPolicy))}
    for (t, p), (response, resolution) in values.items():
        if t not in TICKET_TYPES or p not in TICKET_PRIORITIES:
            continue
        row = rows.get((t, p))
        if row is None:
            row = SlaPolicy(ticket_type=t, priority=p)
            db.session.add(row)
        if row.response_minutes != response:
            row.response_minutes = response
        if row.resolution_minutes != resolution:
            row.resolution_minutes = resolution
    db.session.flush()
    g.pop("sla_matrix", None)


# --- where a ticket stands ------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A ticket against its current deadline: which one (response / resolution / none when
    closed), the deadline, working minutes left (negative: over), and its state: "met",
    "paused", "ok", "soon" (80% of the time gone), "breached"."""

    which: str
    due: datetime | None
    left: int
    state: str

    @property
    def css(self) -> str:
        return f"sla-{self.state}"


def standing(ticket: Ticket, now: datetime) -> Standing:
    if ticket.first_response_at is None and ticket.is_open:
        which, due, total, breached = (
            "response",
            ticket.response_by,
            targets_of(ticket)[0],
            ticket.response_breached,
        )
    elif ticket.resolved_at is None and ticket.is_open:
        which, due, total, breached = (
            "resolution",
            ticket.resolution_by,
            targets_of(ticket)[1],
            ticket.resolution_breached,
        )
    else:
        breached = ticket.resolution_breached or ticket.response_breached
        return Standing("none", None, 0, "breached" if breached else "met")
    moment = ticket.paused_at if ticket.is_paused and ticket.paused_at else now
    if moment >= due:
        left = -workcal.working_minutes_between(due, moment)
    else:
        left = workcal.working_minutes_between(moment, due)
    if breached or left < 0 or (left == 0 and moment >= due):
        state = "breached"
    elif ticket.is_paused:
        state = "paused"
    elif left <= total * (1 - WARN_SHARE):
        state = "soon"
    else:
        state = "ok"
    return Standing(which, due, left, state)


def targets_of(ticket: Ticket) -> tuple[int, int]:
    """The limits of the ticket's type and priority (the table read once per request)."""
    if has_app_context():
        table = g.get("sla_matrix")
        if table is None:
            table = g.sla_matrix = matrix()
    else:
        table = matrix()
    return table.get((ticket.ticket_type, ticket.priority), DEFAULT_TARGETS["medium"])
