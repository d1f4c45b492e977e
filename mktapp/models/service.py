"""After-sales service (P5.3–P5.5): departments that take tickets, the routing of each
ticket type, the service time limits (SLA), tickets with their history and cost lines.

A ticket's status moves only in mktapp/service/tickets.py, one function per transition.
Its deadlines are moments in working time (core.workcal): `response_by` and
`resolution_by` are computed when the ticket is received and moved on by every pause;
a deadline that was missed stays missed (`response_breached`, `resolution_breached`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import team_rule
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models.base import (
    ArchivableMixin,
    Money,
    OwnedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)
from mktapp.models.sales import Customer

TICKET_STATUSES = Vocabulary(
    "ticket_status",
    {
        "received": _l("Logged"),
        "in_progress": _l("Being handled"),
        "waiting_customer": _l("Waiting on customer"),
        "waiting_parts": _l("Waiting for parts"),
        "resolved": _l("Resolved"),
        "replied": _l("Replied to customer"),
        "closed": _l("Closed"),
    },
)
# The statuses in which the service clock stands still.
PAUSED_STATUSES = frozenset({"waiting_customer", "waiting_parts"})
OPEN_STATUSES = frozenset({"received", "in_progress", "waiting_customer", "waiting_parts"})

TICKET_CHANNELS = Vocabulary(
    "ticket_channel",
    {
        "phone": _l("Phone"),
        "wechat": _l("WeChat"),
        "email": _l("E-mail"),
        "visit": _l("On site"),
        "web": _l("Website"),
    },
    tag_class="tag-muted",
)
TICKET_TYPES = Vocabulary(
    "ticket_type",
    {
        "consult": _l("Enquiry"),
        "complaint": _l("Complaint"),
        "repair": _l("Repair"),
        "return": _l("Return or exchange"),
        "dispute": _l("Dispute"),
    },
    tag_class="kind-{code}",
)
TICKET_PRIORITIES = Vocabulary(
    "ticket_priority",
    {
        "urgent": _l("Urgent"),
        "high": _l("High"),
        "medium": _l("Medium"),
        "low": _l("Low"),
    },
    tag_class="priority-{code}",
)
# What a ticket's history records: a status move, a note only staff see, the reply to the
# customer, the department's resolution, a reassignment, a reopening, a missed deadline.
TICKET_EVENT_KINDS = Vocabulary(
    "ticket_event",
    {
        "received": _l("Logged"),
        "status": _l("Status changed"),
        "note": _l("Internal note"),
        "resolution": _l("Resolution"),
        "reply": _l("Reply to customer"),
        "assign": _l("Reassigned"),
        "reopen": _l("Reopened"),
        "breach": _l("Deadline missed"),
        "rating": _l("Customer rating"),
    },
    tag_class="event-{code}",
)
COST_KINDS = Vocabulary(
    "ticket_cost",
    {
        "parts": _l("Parts"),
        "labour": _l("Labour"),
        "travel": _l("Travel"),
        "other": _l("Other"),
    },
    tag_class="tag-muted",
)

# Who sees every ticket: the manager, executives and the service group (who receive and
# reply to them all).
ALL_TICKET_READERS = frozenset({"marketing_manager", "executive", "service_agent"})


service_department_members = Table(
    "service_department_members",
    db.metadata,
    Column(
        "department_id",
        ForeignKey("service_departments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceDepartment(VersionedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """A department that takes tickets: the service group, the sales group, a technical or
    logistics department the administrator adds. A department made from a group of the
    marketing department (`group_id`) has the group's people; any other its `members`."""

    __tablename__ = "service_departments"
    __fragment_versions__ = ("tickets",)  # the cached tickets list (core/fragments)
    __audited__ = True
    __audit_label__ = "name"
    __audit_title__ = _l("Service department")
    __audit_labels__ = {"members": _l("People")}

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    group = relationship("Group")
    leader = relationship("User", foreign_keys=[leader_id])
    members = relationship("User", secondary=service_department_members, order_by="User.id")

    @classmethod
    def visible_to(cls, user):
        """Every signed-in person may see which departments take tickets."""
        return true()


def department_ids_of(user):
    """The departments this person works in (a select of ids): those of their group and
    those that list them."""
    from_group = select(ServiceDepartment.id).where(
        ServiceDepartment.group_id.is_not(None),
        ServiceDepartment.group_id == user.group_id,
    )
    listed = select(service_department_members.c.department_id).where(
        service_department_members.c.user_id == user.id
    )
    led = select(ServiceDepartment.id).where(ServiceDepartment.leader_id == user.id)
    return from_group.union(listed, led)


class TicketRoute(VersionedMixin, db.Model):
    """Where a ticket type goes: the department's queue and its default owner."""

    __tablename__ = "ticket_routes"
    __audited__ = True
    __audit_values__ = {"ticket_type": TICKET_TYPES}
    __audit_title__ = _l("Ticket routing")
    __audit_labels__ = {
        "ticket_type": _l("Type"),
        "department_id": _l("Department"),
        "default_owner_id": _l("Default owner"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(20), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("service_departments.id"))
    default_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    department = relationship("ServiceDepartment")
    default_owner = relationship("User")

    @classmethod
    def visible_to(cls, user):
        """Where each type goes is a company setting every signed-in person may read."""
        return true()


class SlaPolicy(VersionedMixin, db.Model):
    """服务时限: the working minutes to the first response and to the resolution of a
    ticket of one type and priority."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("ticket_type", "priority", name="uq_sla_policies_key"),)
    __fragment_versions__ = ("tickets",)  # the countdowns of the cached tickets list
    __audited__ = True
    __audit_title__ = _l("Service time limit")
    __audit_values__ = {"ticket_type": TICKET_TYPES, "priority": TICKET_PRIORITIES}
    __audit_labels__ = {
        "ticket_type": _l("Type"),
        "priority": _l("Priority"),
        "response_minutes": _l("First response (working minutes)"),
        "resolution_minutes": _l("Resolution (working minutes)"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)

    @classmethod
    def visible_to(cls, user):
        """The time limits are a company setting every signed-in person may read."""
        return true()


class Ticket(VersionedMixin, OwnedMixin, TimestampMixin, db.Model):
    """售后工单. owner: the person handling it now. Status moves only in service.tickets."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_list", "status", "received_at", "id"),
        Index("ix_tickets_owner_open", "owner_id", "status"),
        Index("ix_tickets_department", "department_id", "status"),
        Index("ix_tickets_received", "received_at", "id"),
    )
    __fragment_versions__ = ("tickets",)  # the cached tickets list (core/fragments)
    __audited__ = True
    __audit_label__ = "number"
    __audit_values__ = {
        "status": TICKET_STATUSES,
        "channel": TICKET_CHANNELS,
        "ticket_type": TICKET_TYPES,
        "priority": TICKET_PRIORITIES,
    }
    __audit_title__ = _l("After-sales ticket")
    __audit_labels__ = {
        "ticket_type": _l("Type"),
        "priority": _l("Priority"),
        "channel": _l("Received by"),
        "title": _l("Subject"),
        "description": _l("Description"),
        "department_id": _l("Department"),
        "received_at": _l("Received at"),
        "response_by": _l("Respond by"),
        "resolution_by": _l("Resolve by"),
        "first_response_at": _l("First response"),
        "resolved_at": _l("Resolved at"),
        "replied_at": _l("Replied to customer at"),
        "response_breached": _l("First response late"),
        "resolution_breached": _l("Resolution late"),
        "reopen_count": _l("Times reopened"),
        "resolution": _l("How it was resolved"),
        "rating": _l("Rating"),
        "rating_comment": _l("Customer's comment"),
    }
    # The clock's own bookkeeping (the deadlines above say what matters).
    __audit_exclude__ = (
        "paused_at",
        "paused_minutes",
        "response_minutes",
        "resolution_minutes",
        "rated_at",
        "updated_at",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracts.id"), nullable=True, index=True
    )
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    ticket_type: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="received")
    department_id: Mapped[int] = mapped_column(ForeignKey("service_departments.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_by: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_by: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the current pause began (waiting on the customer or for parts).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Working minutes the ticket has stood still in all; to the first response and to the
    # resolution (pauses excluded), written when each is reached: the quality figures.
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    response_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    resolution: Mapped[str] = mapped_column(Text, default="")
    # The customer's rating (1–5) through the satisfaction link sent at closing.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id"), nullable=True, unique=True
    )
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer = relationship("Customer", lazy="joined")
    contact = relationship("Contact")
    contract = relationship("Contract")
    product = relationship("Product")
    department = relationship("ServiceDepartment", lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id])
    invitation = relationship("SurveyInvitation")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="(TicketEvent.at, TicketEvent.id)"
    )
    costs: Mapped[list[TicketCost]] = relationship(
        back_populates="ticket", order_by="(TicketCost.spent_on, TicketCost.id)"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.status in PAUSED_STATUSES

    @classmethod
    def visible_to(cls, user):
        """Record rule: the manager, executives and service staff see every ticket; anyone
        else with a business role the tickets they handle or took, those of their
        departments and those of customers they look after (a 业务组 leader: the group's);
        an administrator none."""
        codes = user.role_codes
        if codes & ALL_TICKET_READERS:
            return true()
        if not codes - {"admin"}:
            return false()
        customers = select(Customer.id).where(
            team_rule(Customer.owner_id, user, ALL_TICKET_READERS, owners={"sales_rep"})
        )
        return or_(
            cls.owner_id == user.id,
            cls.created_by_id == user.id,
            cls.department_id.in_(department_ids_of(user)),
            cls.customer_id.in_(customers.scalar_subquery()),
        )


class TicketEvent(db.Model):
    """One entry of a ticket's history: a status move, a note, the reply to the customer,
    the resolution, a reassignment (with the department and person it went to)."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_departments.id"), nullable=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    user = relationship("User", foreign_keys=[user_id])
    department = relationship("ServiceDepartment")
    owner = relationship("User", foreign_keys=[owner_id])


class TicketCost(db.Model):
    """A cost line of a ticket (P5.5): parts, labour (hours × rate), travel, other."""

    __tablename__ = "ticket_costs"
    __table_args__ = (Index("ix_ticket_costs_ticket", "ticket_id"),)
    __audited__ = True
    __audit_title__ = _l("Ticket cost")
    __audit_values__ = {"kind": COST_KINDS}
    __audit_labels__ = {
        "ticket_id": _l("Ticket"),
        "quantity": _l("Quantity"),
        "unit_price": _l("Unit price"),
        "spent_on": _l("Date"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Labour: hours and the hourly rate; any other kind: 1 × the amount.
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("1"))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    spent_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="costs")
    created_by = relationship("User")

    @classmethod
    def visible_to(cls, user):
        return cls.ticket_id.in_(select(Ticket.id).where(Ticket.visible_to(user)))
