"""What after-sales adds to a customer's page: the "New ticket" action, the customer's
tickets panel (with the count of open ones) and the timeline's tickets and ratings."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import Ticket
from mktapp.models.service import OPEN_STATUSES, TICKET_STATUSES, TICKET_TYPES
from mktapp.sales.customer_page import (
    Action,
    Panel,
    TimelineItem,
    once_per_request,
    register_action,
    register_panel,
    register_timeline_source,
)

PANEL_LIMIT = 10
TIMELINE_LIMIT = 50


def _tickets_of(customer, user) -> list[Ticket]:
    """The customer's newest tickets this user may see (one query per request)."""
    return once_per_request(
        "tickets",
        customer,
        user,
        lambda: list(
            db.session.scalars(
                visible(select(Ticket), user, Ticket)
                .where(Ticket.customer_id == customer.id)
                .order_by(Ticket.received_at.desc(), Ticket.id.desc())
                .limit(TIMELINE_LIMIT)
            ).unique()
        ),
    )


def load_panel(customer, user) -> dict:
    """The newest tickets and how many are open (counted in SQL only for a customer with
    more tickets than the page reads)."""
    rows = _tickets_of(customer, user)
    if len(rows) < TIMELINE_LIMIT:
        open_count = sum(1 for t in rows if t.status in OPEN_STATUSES)
    else:
        open_count = db.session.scalar(
            visible(select(func.count(Ticket.id)), user, Ticket).where(
                Ticket.customer_id == customer.id, Ticket.status.in_(OPEN_STATUSES)
            )
        )
    return {"customer_tickets": rows[:PANEL_LIMIT], "open_tickets": open_count}


def timeline(customer, user, limit: int) -> list[TimelineItem]:
    out = []
    for t in _tickets_of(customer, user)[:limit]:
        url = url_for("service.ticket_detail", ticket_id=t.id)
        out.append(
            TimelineItem(
                at=t.received_at,
                kind="ticket",
                title=_("Ticket %(number)s received") % {"number": t.number},
                body=f"{TICKET_TYPES.label(t.ticket_type)} · {t.title} · "
                f"{TICKET_STATUSES.label(t.status)}",
                url=url,
                who=t.created_by.display_name if t.created_by else "",
            )
        )
        if t.rated_at is not None:
            out.append(
                TimelineItem(
                    at=t.rated_at,
                    kind="rating",
                    title=_("Rated ticket %(number)s %(rating)s/5")
                    % {"number": t.number, "rating": t.rating},
                    body=t.rating_comment,
                    url=url,
                )
            )
    out.sort(key=lambda i: i.at, reverse=True)
    return out[:limit]


def setup(app) -> None:
    register_action(
        Action(
            "service.ticket_new",
            _l("New ticket"),
            ("service.handle",),
            args=lambda c: {"customer_id": c.id},
            order=40,
        )
    )
    register_panel(
        Panel(
            "tickets",
            _l("After-sales tickets"),
            "service/_customer_tickets.html",
            load_panel,
            ("service.view",),
            order=45,
        )
    )
    register_timeline_source("ticket", timeline)
