"""What contracts add to a customer's page: the "Draft contract" action, the customer's
contracts panel and the contract entries of the timeline (one query each)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.contracts import services as svc
from mktapp.core.i18n import money
from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import Contract
from mktapp.sales.customer_page import (
    Action,
    Panel,
    TimelineItem,
    once_per_request,
    register_action,
    register_panel,
    register_timeline_source,
)

PANEL_LIMIT = 20
TIMELINE_LIMIT = 50  # the customer page's timeline shows the newest 50 entries


def _contracts_of(customer, user) -> list[Contract]:
    """The customer's newest contracts this user may see, read once per request for both
    the panel and the timeline (one query)."""
    return once_per_request(
        "contracts",
        customer,
        user,
        lambda: list(
            db.session.scalars(
                visible(select(Contract), user, Contract)
                .where(Contract.customer_id == customer.id)
                .order_by(Contract.created_at.desc(), Contract.id.desc())
                .limit(TIMELINE_LIMIT)
            ).unique()
        ),
    )


def load_panel(customer, user) -> dict:
    """The customer's contracts this user may see, newest draft first."""
    rows = sorted(_contracts_of(customer, user), key=lambda c: (c.draft_date, c.id), reverse=True)
    return {"customer_contracts": rows[:PANEL_LIMIT]}


def _at(contract: Contract) -> datetime:
    """When the entry happened: the draft is a moment; the signing is a day (shown as a
    date), placed at local noon of that day but never before the approval, which it
    follows (a contract approved and signed on the same afternoon comes after the day's
    other entries)."""
    if contract.signed_on is not None:
        local = ZoneInfo(current_app.config["TIMEZONE"])
        at = datetime.combine(contract.signed_on, time(12), tzinfo=local).astimezone(UTC)
        if contract.approved_at is not None and contract.approved_at > at:
            at = contract.approved_at
        return at
    return contract.created_at


def timeline(customer, user, limit: int) -> list[TimelineItem]:
    """One entry per contract: drafted, or signed when it was (one query, newest first)."""
    rows = _contracts_of(customer, user)[:limit]
    out = []
    for c in rows:
        verb = _("Contract signed") if c.signed_on else _("Contract drafted")
        out.append(
            TimelineItem(
                at=_at(c),
                kind="contract",
                title=f"{verb} {c.number}",
                body=f"{c.title} · {money(c.total)} · {svc.status_label(c.status)}",
                url=url_for("contracts.detail", contract_id=c.id),
                who=c.owner.display_name if c.owner else "",
                # the signing has a date, not a time: the page shows the date only
                extra={"date_only": c.signed_on is not None},
            )
        )
    return out


def register() -> None:
    register_action(Action("contracts.new", _l("Draft contract"), ("contracts.draft",), order=30))
    register_panel(
        Panel(
            "contracts",
            _l("Contracts"),
            "contracts/_customer_contracts.html",
            load_panel,
            ("contracts.view",),
            order=40,
        )
    )
    register_timeline_source("contract", timeline)
