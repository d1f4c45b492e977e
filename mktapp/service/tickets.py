"""After-sales tickets (P5.3, P5.5): received and recorded, routed by type to the
department concerned, handled within the set time, the result fed back to service and
replied to the customer, then closed with a satisfaction link; their cost lines.

One function per transition (the only places a ticket's status moves):

    received --start--> in_progress --pause--> waiting_customer / waiting_parts
    waiting_* --resume--> in_progress --resolve--> resolved --reply--> replied --close--> closed
    resolved / replied / closed --reopen--> in_progress

The clock: `response_by` and `resolution_by` are moments in working time (core.workcal);
a pause stops the clock (on resuming, both deadlines move on by the working time spent
waiting), a deadline passed is marked missed and stays missed, through a reopening too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core import clock, workcal
from mktapp.core.commands import mark_once
from mktapp.core.errors import DomainError
from mktapp.core.i18n import local_datetime
from mktapp.core.money import MAX_AMOUNT, MoneyError, parse_money
from mktapp.core.notify import notify
from mktapp.core.numbering import next_number
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import (
    Contact,
    Contract,
    Customer,
    Product,
    ServiceDepartment,
    Ticket,
    TicketCost,
    TicketEvent,
    User,
)
from mktapp.models.service import (
    COST_KINDS,
    OPEN_STATUSES,
    PAUSED_STATUSES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
)
from mktapp.research import public as research
from mktapp.service import departments as depts
from mktapp.service import sla

PREFIX = "SH"
SATISFACTION_DAYS = 30  # the satisfaction link takes an answer this long after closing


class TicketError(DomainError):
    """A ticket action that cannot be done."""


class TicketConflict(TicketError):
    """The ticket is not (or no longer) where the action starts from."""

    status = 409


# --- who may do what -----------------------------------------------------------------------


def may_handle(user, ticket: Ticket) -> bool:
    """The person handling it, the people of its department, the service group and the
    marketing manager work on a ticket (start, pause, resolve, notes, costs)."""
    if not can(user, "service.handle"):
        return False
    if ticket.owner_id == user.id or "service_agent" in user.role_codes:
        return True
    if "marketing_manager" in user.role_codes:
        return True
    return depts.works_in(user, ticket.department_id)


def may_reply(user, ticket: Ticket) -> bool:
    """The service group (and the manager) replies to the customer, closes and reopens."""
    return can(user, "service.reply")


def may_reassign(user, ticket: Ticket) -> bool:
    if may_reply(user, ticket):
        return True
    return ticket.department is not None and depts.leads(user, ticket.department)


def _must(allowed: bool) -> None:
    if not allowed:
        raise TicketError(_l("You may not do this on this ticket."), status=403)


def _expect(ticket: Ticket, *statuses: str) -> None:
    if ticket.status not in statuses:
        raise TicketConflict(
            _l("This ticket is %(status)s: that cannot be done now.")
            % {"status": TICKET_STATUSES.label(ticket.status)}
        )


def _event(ticket: Ticket, user, kind: str, **values) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket, user_id=user.id if user else None, kind=kind, at=clock.now(), **values
    )
    db.session.add(event)
    return event


def _move(ticket: Ticket, user, to: str, body: str = "", **values) -> None:
    _event(ticket, user, "status", from_status=ticket.status, to_status=to, body=body, **values)
    ticket.status = to


# --- receiving ---------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise TicketError(_l("This field is required."), field)
    if len(value) > limit:
        raise TicketError(_l("At most %(n)s characters.") % {"n": limit}, field)
    return value


def _customer(user, customer_id: int | None) -> Customer:
    customer = (
        db.session.scalar(
            visible(select(Customer), user, Customer).where(Customer.id == customer_id)
        )
        if customer_id
        else None
    )
    if customer is None:
        raise TicketError(_l("Choose a customer."), "customer_id")
    return customer


def _parts(user, customer: Customer, contact_id, contract_id, product_id):
    contact = contract = product = None
    if contact_id:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer.id:
            raise TicketError(_l("Choose a contact of this customer."), "contact_id")
    if contract_id:
        contract = db.session.scalar(
            visible(select(Contract), user, Contract).where(Contract.id == contract_id)
        )
        if contract is None or contract.customer_id != customer.id:
            raise TicketError(_l("Choose a contract of this customer."), "contract_id")
    if product_id:
        product = db.session.get(Product, product_id)
        if product is None:
            raise TicketError(_l("Choose a product."), "product_id")
    return contact, contract, product


def receive(
    user,
    *,
    customer_id: int | None,
    channel: str,
    ticket_type: str,
    priority: str,
    title: str,
    description: str = "",
    contact_id: int | None = None,
    contract_id: int | None = None,
    product_id: int | None = None,
    received_at: datetime | None = None,
) -> Ticket:
    """Record a problem the customer reported: numbered SH-<year>-0001, routed by its type
    to the department's queue and default owner, its deadlines set on the working calendar."""
    _must(can(user, "service.handle"))
    customer = _customer(user, customer_id)
    if channel not in TICKET_CHANNELS:
        raise TicketError(_l("Choose how the customer reached us."), "channel")
    if ticket_type not in TICKET_TYPES:
        raise TicketError(_l("Choose the type of problem."), "ticket_type")
    if priority not in TICKET_PRIORITIES:
        raise TicketError(_l("Choose a priority."), "priority")
    title = _text(title, "title", 200, required=True)
    description = _text(description, "description", 20_000)
    contact, contract, product = _parts(user, customer, contact_id, contract_id, product_id)
    at = received_at or clock.now()
    depts.ensure_departments()
    department, owner = depts.route_for(ticket_type)
    response, resolution = sla.targets(ticket_type, priority)
    ticket = Ticket(
        number=next_number(PREFIX, clock.local_date(at).year),
        customer_id=customer.id,
        contact_id=contact.id if contact else None,
        contract_id=contract.id if contract else None,
        product_id=product.id if product else (_product_of(contract) if contract else None),
        channel=channel,
        ticket_type=ticket_type,
        priority=priority,
        title=title,
        description=description,
        status="received",
        department_id=department.id,
        owner_id=owner.id if owner else None,
        created_by_id=user.id,
        received_at=at,
        response_by=workcal.add_working_minutes(at, response),
        resolution_by=workcal.add_working_minutes(at, resolution),
        paused_minutes=0,
        reopen_count=0,
        resolution="",
        rating_comment="",
        response_breached=False,
        resolution_breached=False,
    )
    db.session.add(ticket)
    db.session.flush()
    _event(
        ticket,
        user,
        "received",
        to_status="received",
        channel=channel,
        department_id=department.id,
        owner_id=ticket.owner_id,
    ).at = at
    if owner is not None and owner.id != user.id:
        notify(
            owner,
            _l("New ticket %(number)s: %(title)s") % {"number": ticket.number, "title": title},
            str(TICKET_PRIORITIES.label(priority)),
            url=f"/service/tickets/{ticket.id}",
        )
    return ticket


def contract_choices(user, customer_id: int | None) -> list[tuple[int, str]]:
    """The customer's signed contracts this user may see, newest first (the form's select)."""
    if not customer_id:
        return []
    contracts = db.session.scalars(
        visible(select(Contract), user, Contract)
        .where(Contract.customer_id == customer_id, Contract.signed_on.is_not(None))
        .order_by(Contract.signed_on.desc())
        .limit(50)
    ).unique()
    return [(c.id, f"{c.number} · {c.title}") for c in contracts]


def _product_of(contract: Contract) -> int | None:
    for line in contract.lines:
        if line.product_id:
            return line.product_id
    return None


def update(
    user,
    ticket: Ticket,
    *,
    title: str,
    description: str,
    channel: str,
    contact_id: int | None,
    product_id: int | None,
) -> Ticket:
    """Correct what was recorded (not its type or priority: those set the deadlines)."""
    _must(may_handle(user, ticket))
    if ticket.status == "closed":
        raise TicketConflict(_l("A closed ticket cannot be changed; reopen it first."))
    if channel not in TICKET_CHANNELS:
        raise TicketError(_l("Choose how the customer reached us."), "channel")
    contact, _contract, product = _parts(user, ticket.customer, contact_id, None, product_id)
    ticket.title = _text(title, "title", 200, required=True)
    ticket.description = _text(description, "description", 20_000)
    ticket.channel = channel
    ticket.contact_id = contact.id if contact else None
    ticket.product_id = product.id if product else None
    return ticket


def reassign(user, ticket: Ticket, department_id: int, owner_id: int | None, reason: str) -> None:
    """Send the ticket to another department or person; the history keeps who, where, why."""
    _must(may_reassign(user, ticket))
    if not ticket.is_open:
        raise TicketConflict(_l("Only an open ticket can be reassigned."))
    department = db.session.get(ServiceDepartment, department_id or 0)
    if department is None or department.archived_at is not None:
        raise TicketError(_l("Choose a department."), "department_id")
    owner = db.session.get(User, owner_id) if owner_id else department.leader
    if owner_id and (owner is None or owner.id not in {u.id for u in depts.people_of(department)}):
        raise TicketError(_l("Choose a person of that department."), "owner_id")
    if department.id == ticket.department_id and (owner.id if owner else None) == ticket.owner_id:
        raise TicketError(_l("The ticket is already there."), "owner_id")
    ticket.department_id = department.id
    ticket.owner_id = owner.id if owner else None
    _event(
        ticket,
        user,
        "assign",
        department_id=department.id,
        owner_id=ticket.owner_id,
        body=_text(reason, "reason", 2000),
    )
    if owner is not None and owner.id != user.id:
        notify(
            owner,
            _l("Ticket %(number)s was passed to you") % {"number": ticket.number},
            ticket.title,
            url=f"/service/tickets/{ticket.id}",
        )


# --- the clock ---------------------------------------------------------------------------------


def _mark_breaches(ticket: Ticket, now: datetime) -> None:
    """A deadline passed unmet is missed for good."""
    if ticket.first_response_at is None and now > ticket.response_by:
        ticket.response_breached = True
    if ticket.resolved_at is None and now > ticket.resolution_by:
        ticket.resolution_breached = True


def start(user, ticket: Ticket) -> None:
    """The department takes the ticket in hand: its first response."""
    _must(may_handle(user, ticket))
    _expect(ticket, "received")
    now = clock.now()
    _mark_breaches(ticket, now)
    ticket.first_response_at = now
    ticket.response_minutes = max(
        0, workcal.working_minutes_between(ticket.received_at, now) - ticket.paused_minutes
    )
    if now > ticket.response_by:
        ticket.response_breached = True
    _move(ticket, user, "in_progress")


def paused_minutes(ticket: Ticket, now: datetime) -> int:
    """Working minutes the ticket has stood still, the pause it is in included."""
    waiting = 0
    if ticket.is_paused and ticket.paused_at is not None:
        waiting = workcal.working_minutes_between(ticket.paused_at, now)
    return (ticket.paused_minutes or 0) + waiting


def pause(user, ticket: Ticket, waiting: str, note: str) -> None:
    """Wait on the customer or for parts: the clock stops until resume()."""
    _must(may_handle(user, ticket))
    if waiting not in PAUSED_STATUSES:
        raise TicketError(_l("Choose what the ticket waits for."), "waiting")
    _expect(ticket, "in_progress")
    now = clock.now()
    _mark_breaches(ticket, now)
    ticket.paused_at = now
    _move(ticket, user, waiting, body=_text(note, "note", 2000))


def resume(user, ticket: Ticket) -> None:
    """Work goes on: both deadlines move on by the working time spent waiting."""
    _must(may_handle(user, ticket))
    _expect(ticket, *PAUSED_STATUSES)
    now = clock.now()
    _run_on(ticket, ticket.paused_at or now, now)
    ticket.paused_at = None
    _move(ticket, user, "in_progress")


def _run_on(ticket: Ticket, since: datetime, now: datetime) -> None:
    """The clock stood still from `since` to `now`: move the deadlines not yet missed."""
    waited = workcal.working_minutes_between(since, now)
    ticket.paused_minutes = (ticket.paused_minutes or 0) + waited
    if ticket.first_response_at is None and not ticket.response_breached:
        left = workcal.working_seconds_between(since, ticket.response_by)
        ticket.response_by = workcal.add_working_seconds(now, left)
    if not ticket.resolution_breached:
        left = workcal.working_seconds_between(since, ticket.resolution_by)
        ticket.resolution_by = workcal.add_working_seconds(now, left)


def resolve(user, ticket: Ticket, resolution: str) -> None:
    """The department records how the problem was solved; service then replies."""
    _must(may_handle(user, ticket))
    _expect(ticket, "received", "in_progress")
    text = _text(resolution, "resolution", 20_000, required=True)
    now = clock.now()
    _mark_breaches(ticket, now)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.response_minutes = max(
            0, workcal.working_minutes_between(ticket.received_at, now) - ticket.paused_minutes
        )
    ticket.resolved_at = now
    ticket.resolution_minutes = max(
        0, workcal.working_minutes_between(ticket.received_at, now) - ticket.paused_minutes
    )
    if now > ticket.resolution_by:
        ticket.resolution_breached = True
    ticket.resolution = text
    _event(ticket, user, "resolution", body=text)
    _move(ticket, user, "resolved")


def reply(user, ticket: Ticket, channel: str, content: str) -> None:
    """Service tells the customer the result (how, and what was said)."""
    _must(may_reply(user, ticket))
    if ticket.status in OPEN_STATUSES:
        raise TicketConflict(_l("Reply to the customer once the problem is resolved."))
    _expect(ticket, "resolved")
    if channel not in TICKET_CHANNELS:
        raise TicketError(_l("Choose how the customer was told."), "channel")
    text = _text(content, "content", 20_000, required=True)
    ticket.replied_at = clock.now()
    _event(ticket, user, "reply", channel=channel, body=text)
    _move(ticket, user, "replied")


def close(user, ticket: Ticket) -> None:
    """Close a ticket replied to; the customer gets a one-time satisfaction link."""
    _must(may_reply(user, ticket))
    _expect(ticket, "replied")
    now = clock.now()
    ticket.closed_at = now
    if ticket.invitation_id is None:
        invitation = research.satisfaction_invitation(
            user, ticket.customer_id, now + timedelta(days=SATISFACTION_DAYS)
        )
        ticket.invitation_id = invitation.id
    _move(ticket, user, "closed")


def reopen(user, ticket: Ticket, reason: str) -> None:
    """The problem is back: work again, the history and any missed deadline kept."""
    _must(may_reply(user, ticket))
    _expect(ticket, "resolved", "replied", "closed")
    text = _text(reason, "reason", 2000, required=True)
    now = clock.now()
    if ticket.resolved_at is not None:
        _run_on(ticket, ticket.resolved_at, now)  # the time it stood resolved is not counted
    ticket.resolved_at = None
    ticket.replied_at = None
    ticket.closed_at = None
    ticket.reopen_count = (ticket.reopen_count or 0) + 1
    _event(ticket, user, "reopen", body=text)
    _move(ticket, user, "in_progress")


def add_note(user, ticket: Ticket, body: str) -> TicketEvent:
    """A note for the staff only (the customer never sees it)."""
    _must(may_handle(user, ticket))
    if ticket.status == "closed":
        raise TicketConflict(_l("A closed ticket cannot be changed; reopen it first."))
    return _event(ticket, user, "note", body=_text(body, "body", 20_000, required=True))


# --- cost (P5.5) -----------------------------------------------------------------------------


def _amount(value, field: str) -> Decimal:
    """An amount above zero (core.money's rules), refused at `field`."""
    try:
        return parse_money(value, allow_zero=False, blank_is_zero=False)
    except MoneyError as error:
        raise TicketError(error.message, field) from None


def add_cost(
    user,
    ticket: Ticket,
    *,
    kind: str,
    description: str,
    spent_on,
    amount=None,
    hours=None,
    rate=None,
) -> TicketCost:
    """A cost line: labour as hours × the hourly rate, anything else as an amount."""
    _must(may_handle(user, ticket))
    if kind not in COST_KINDS:
        raise TicketError(_l("Choose the kind of cost."), "kind")
    if spent_on is None:
        raise TicketError(_l("Enter the date."), "spent_on")
    if spent_on < clock.local_date(ticket.received_at) or spent_on > clock.today():
        raise TicketError(
            _l("The date must be between the ticket's receipt and today."), "spent_on"
        )
    if kind == "labour":
        quantity = _amount(hours, "hours")
        if quantity > 1000:
            raise TicketError(_l("At most 1,000 hours."), "hours")
        unit = _amount(rate, "rate")
        total = (quantity * unit).quantize(Decimal("0.01"))
        if total >= MAX_AMOUNT:
            raise TicketError(_l("The amount is too large."), "rate")
    else:
        quantity, unit = Decimal("1"), _amount(amount, "amount")
        total = unit
    line = TicketCost(
        ticket_id=ticket.id,
        kind=kind,
        description=_text(description, "description", 200),
        quantity=quantity,
        unit_price=unit,
        amount=total,
        spent_on=spent_on,
        created_by_id=user.id,
    )
    db.session.add(line)
    db.session.flush()
    return line


def cost_total(ticket: Ticket) -> Decimal:
    return db.session.scalar(
        select(func.coalesce(func.sum(TicketCost.amount), 0)).where(
            TicketCost.ticket_id == ticket.id
        )
    ) or Decimal("0")


# --- the satisfaction answer ----------------------------------------------------------------


def take_rating(invitation, rating: int | None, comment: str) -> None:
    """The customer answered the ticket's satisfaction link (called by research)."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.invitation_id == invitation.id))
    if ticket is None or rating is None:
        return
    ticket.rating = max(1, min(5, int(rating)))
    ticket.rating_comment = (comment or "")[:2000]
    ticket.rated_at = clock.now()
    _event(ticket, None, "rating", body=f"{ticket.rating}/5 {ticket.rating_comment}".strip())


# --- the scan -----------------------------------------------------------------------------------


def scan(now: datetime) -> tuple[int, int]:
    """Tell each owner of a running ticket when 80% of its time is gone, and the department's
    leader when a deadline is missed: each once. Safe to run every hour, and twice at once.
    Returns (warnings, breaches)."""
    warned = breached = 0
    tickets = list(
        db.session.scalars(select(Ticket).where(Ticket.status.in_(("received", "in_progress"))))
    )
    limits = sla.matrix()
    over_response, over_resolution, soon = [], [], []
    for t in tickets:
        response, resolution = limits[(t.ticket_type, t.priority)]
        if t.first_response_at is None and not t.response_breached and now > t.response_by:
            over_response.append(t)
        if t.resolved_at is None and not t.resolution_breached and now > t.resolution_by:
            over_resolution.append(t)
        # The deadline the ticket runs to now: warn once when 80% of its time is gone.
        if t.first_response_at is None:
            due, total, which = t.response_by, response, "response"
        else:
            due, total, which = t.resolution_by, resolution, "resolution"
        if now <= due and workcal.working_minutes_between(now, due) <= total * (1 - sla.WARN_SHARE):
            soon.append((t, which))
    for ticket, which in soon:
        if ticket.owner is not None and notify(
            ticket.owner,
            _l("Ticket %(number)s is due soon") % {"number": ticket.number},
            _l("Respond by %(at)s") % {"at": local_datetime(ticket.response_by)}
            if which == "response"
            else _l("Resolve by %(at)s") % {"at": local_datetime(ticket.resolution_by)},
            url=f"/service/tickets/{ticket.id}",
            once=f"ticket-soon:{ticket.id}:{which}",
        ):
            warned += 1
    for column, rows in (
        ("response_breached", over_response),
        ("resolution_breached", over_resolution),
    ):
        for ticket in mark_once(rows, column, True, expected=False):
            breached += 1
            which = column.split("_")[0]
            _event(ticket, None, "breach", body=which)
            for person in {p.id: p for p in (ticket.department.leader, ticket.owner) if p}.values():
                notify(
                    person,
                    _l("Ticket %(number)s missed its deadline") % {"number": ticket.number},
                    ticket.title,
                    url=f"/service/tickets/{ticket.id}",
                    once=f"ticket-breach:{ticket.id}:{which}",
                )
    return warned, breached
