"""The tickets list: search, filters (status, type, priority, department, whose, the
deadline missed), sort, paging and the export, declared once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from mktapp.core import clock
from mktapp.core.lists import (
    Cached,
    Column,
    Filter,
    ListPage,
    ListSpec,
    contains,
    integer,
    one_of,
)
from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import Customer, ServiceDepartment, Ticket, User
from mktapp.models.service import (
    OPEN_STATUSES,
    PAUSED_STATUSES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
    department_ids_of,
)

# What the status filter offers beyond one status: every open ticket, the paused ones.
STATUS_GROUPS = {"open": OPEN_STATUSES, "paused": PAUSED_STATUSES}
SCOPES = ("mine", "department", "all")


def _local(moment):
    """A moment as the spreadsheet shows it: the company's wall-clock time."""
    return clock.local(moment).replace(tzinfo=None) if moment else None


TICKETS = ListSpec(
    "ticket",
    [
        Column("number", _l("No."), lambda t: t.number, sort=Ticket.number),
        Column("customer", _l("Customer"), lambda t: t.customer.name, sort=Customer.name),
        Column("title", _l("Subject"), lambda t: t.title),
        Column(
            "type", _l("Type"), lambda t: TICKET_TYPES.label(t.ticket_type), sort=Ticket.ticket_type
        ),
        Column(
            "priority",
            _l("Priority"),
            lambda t: TICKET_PRIORITIES.label(t.priority),
            sort=Ticket.priority,
        ),
        Column(
            "channel", _l("Received by"), lambda t: TICKET_CHANNELS.label(t.channel), screen=False
        ),
        Column(
            "department",
            _l("Department"),
            lambda t: t.department.name,
            sort=ServiceDepartment.name,
        ),
        Column(
            "owner",
            _l("Handled by"),
            lambda t: t.owner.display_name if t.owner else "",
            sort=User.display_name,
        ),
        Column(
            "received", _l("Received at"), lambda t: _local(t.received_at), sort=Ticket.received_at
        ),
        Column("sla", _l("Time limit"), export=False),
        Column("response_by", _l("Respond by"), lambda t: _local(t.response_by), screen=False),
        Column(
            "resolution_by",
            _l("Resolve by"),
            lambda t: _local(t.resolution_by),
            sort=Ticket.resolution_by,
            screen=False,
        ),
        Column(
            "breached",
            _l("Deadline missed"),
            lambda t: str(_l("Yes")) if t.response_breached or t.resolution_breached else "",
            screen=False,
        ),
        Column(
            "status", _l("Status"), lambda t: TICKET_STATUSES.label(t.status), sort=Ticket.status
        ),
        Column("rating", _l("Rating"), lambda t: t.rating or "", screen=False),
    ],
    filters=[
        Filter("status", one_of(*TICKET_STATUSES, *STATUS_GROUPS, "any"), default="open"),
        Filter("ticket_type", one_of(*TICKET_TYPES), arg="type"),
        Filter("priority", one_of(*TICKET_PRIORITIES)),
        Filter("department", integer, default=None),
        Filter("scope", one_of(*SCOPES), default="all"),
        Filter("late", one_of("breached"), default=""),
    ],
    default_sort="received",
    default_dir="desc",
    tie=Ticket.id,
    sorts={"updated": Ticket.updated_at},
    # The rows stay drawn until a ticket, a customer or a person changes; the countdowns
    # are drawn again each minute (the route's key names the minute).
    cache=Cached(depends=("tickets", "customers", "people"), rules=(Ticket,)),
)
TicketQuery = TICKETS.Query


def _filtered(user, query):
    """The tickets of the query, joined to customers, departments and people only when the
    search or the sort needs them (the count of a page then reads the tickets alone; the
    rows bring their customer, department and owner with them)."""
    stmt = visible(select(Ticket), user, Ticket)
    if query.q or query.sort == "customer":
        stmt = stmt.join(Customer, Customer.id == Ticket.customer_id)
    if query.sort == "department":
        stmt = stmt.join(ServiceDepartment, ServiceDepartment.id == Ticket.department_id)
    if query.sort == "owner":
        stmt = stmt.outerjoin(User, User.id == Ticket.owner_id)
    if query.status in STATUS_GROUPS:
        stmt = stmt.where(Ticket.status.in_(STATUS_GROUPS[query.status]))
    elif query.status and query.status != "any":
        stmt = stmt.where(Ticket.status == query.status)
    if query.ticket_type:
        stmt = stmt.where(Ticket.ticket_type == query.ticket_type)
    if query.priority:
        stmt = stmt.where(Ticket.priority == query.priority)
    if query.department:
        stmt = stmt.where(Ticket.department_id == query.department)
    if query.scope == "mine":
        stmt = stmt.where(Ticket.owner_id == user.id)
    elif query.scope == "department":
        stmt = stmt.where(Ticket.department_id.in_(department_ids_of(user)))
    if query.late == "breached":
        now = clock.now()
        stmt = stmt.where(
            or_(
                Ticket.response_breached.is_(True),
                Ticket.resolution_breached.is_(True),
                and_(
                    Ticket.status.in_(("received", "in_progress")),
                    or_(
                        and_(Ticket.first_response_at.is_(None), Ticket.response_by < now),
                        Ticket.resolution_by < now,
                    ),
                ),
            )
        )
    if query.q:
        stmt = stmt.where(contains(query.q, Ticket.number, Customer.name, Ticket.title))
    return stmt


def list_tickets(user, query, page_size: int) -> ListPage:
    return TICKETS.page(_filtered(user, query), query, page_size)


def export_rows(user, query, limit: int = 100_000) -> list[Ticket]:
    return TICKETS.export_rows(_filtered(user, query), query, limit)


def department_choices() -> list[tuple[int, str]]:
    return [
        (d.id, d.name)
        for d in db.session.scalars(
            select(ServiceDepartment)
            .where(ServiceDepartment.archived_at.is_(None))
            .order_by(ServiceDepartment.sort, ServiceDepartment.id)
        )
    ]
