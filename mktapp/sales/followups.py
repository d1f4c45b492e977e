"""Follow-ups (跟进记录, P4.1): calls, visits, e-mails ... with a customer, the next step
and its reminder, and the customer page's timeline sources for follow-ups and changes.

A follow-up's next_date becomes a notification to its owner on that day, sent once
(reminded_on): send_due_reminders(today), run by `flask sales-reminders` (a daily cron
job) and, for the one user, when they open their follow-ups page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import aliased, joinedload, lazyload

from mktapp.core import clock, vocab
from mktapp.core.audit import describe_note
from mktapp.core.audit_display import describe, present
from mktapp.core.commands import mark_once
from mktapp.core.errors import DomainError
from mktapp.core.notify import notify
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import AuditLog, User
from mktapp.models.sales import INTERACTION_KINDS, Contact, Customer, Interaction
from mktapp.sales import customer_page
from mktapp.sales.customer_page import TimelineItem

# The kinds of follow-up (the codes and labels are the model's).
KINDS = INTERACTION_KINDS


class FollowupError(DomainError):
    """Something asked that cannot be done; str() is the message for the user."""


@dataclass
class FollowupInput:
    kind: str
    happened_at: datetime
    notes: str
    contact_id: int | None = None
    next_date: date | None = None
    next_action: str = ""


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def may_follow_up(user: User, customer: Customer) -> bool:
    """Anyone who may edit customers and sees this one records follow-ups (a pool customer
    too: calling a lead before claiming it is normal)."""
    return can(user, "sales.edit") and not customer.is_archived


def add_followup(user: User, customer: Customer, data: FollowupInput) -> Interaction:
    if not may_follow_up(user, customer):
        raise FollowupError(_("You may not record follow-ups for this customer."), status=403)
    if data.kind not in INTERACTION_KINDS:
        raise FollowupError(_("Choose a value from the list."), "kind")
    if not data.notes.strip():
        raise FollowupError(_("Write what was said or agreed."), "notes")
    happened = data.happened_at
    if happened.tzinfo is None:
        happened = happened.replace(tzinfo=tz())
    if happened.astimezone(UTC) > clock.now() + timedelta(minutes=5):
        raise FollowupError(
            _("A follow-up that has happened cannot be in the future."), "happened_at"
        )
    if data.next_date is not None and data.next_date < happened.astimezone(tz()).date():
        raise FollowupError(_("The next follow-up cannot be before this one."), "next_date")
    if data.contact_id is not None and data.contact_id not in {c.id for c in customer.contacts}:
        raise FollowupError(_("Choose a contact of this customer."), "contact_id")
    if data.next_action.strip() and data.next_date is None:
        raise FollowupError(_("Give the date of the next follow-up."), "next_date")
    item = Interaction(
        customer_id=customer.id,
        owner_id=user.id,
        contact_id=data.contact_id,
        kind=data.kind,
        happened_at=happened.astimezone(UTC),
        notes=data.notes.strip(),
        next_date=data.next_date,
        next_action=data.next_action.strip(),
    )
    db.session.add(item)
    # The customer moves up the list ("recently worked on").
    customer.updated_at = clock.now()
    return item


def customer_url(customer_id: int) -> str:
    """The customer page's path, inside a request or not (the CLI)."""
    if has_request_context():
        return url_for("sales.customer", customer_id=customer_id)
    return current_app.url_map.bind("localhost").build(
        "sales.customer", {"customer_id": customer_id}
    )


# --- reminders -------------------------------------------------------------------------------


def _superseded():
    """A later follow-up of the same customer exists: its next step was done or replaced."""
    later = aliased(Interaction)
    return exists().where(
        later.customer_id == Interaction.customer_id,
        or_(
            later.happened_at > Interaction.happened_at,
            and_(later.happened_at == Interaction.happened_at, later.id > Interaction.id),
        ),
    )


def send_due_reminders(today: date, user: User | None = None) -> int:
    """Notify the owner of each follow-up whose next date has come (once). Returns how many.

    One query finds them (index ix_interactions_next); a follow-up already followed by a
    newer one of the same customer is marked without a notification.
    """
    stmt = (
        select(Interaction)
        .options(joinedload(Interaction.customer).lazyload("*"), lazyload(Interaction.owner))
        .where(
            Interaction.next_date.is_not(None),
            Interaction.next_date <= today,
            Interaction.reminded_on.is_(None),
        )
        .order_by(Interaction.next_date, Interaction.id)
    )
    if user is not None:
        stmt = stmt.where(Interaction.owner_id == user.id)
    due = list(db.session.scalars(stmt).unique())
    if not due:
        return 0
    superseded = set(
        db.session.scalars(
            select(Interaction.id).where(Interaction.id.in_([i.id for i in due]), _superseded())
        )
    )
    owners = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({i.owner_id for i in due if i.owner_id}))
        )
    }
    sent = 0
    # Marked reminded by this run only if no other run (the cron job, the owner's page)
    # marked them first: each follow-up is reminded of once.
    for item in mark_once(due, "reminded_on", today):
        owner = owners.get(item.owner_id)
        if item.id in superseded or owner is None or item.customer.is_archived:
            continue
        with force_locale(owner.locale or "zh_Hans"):
            if _remind(owner, item, today):
                sent += 1
    return sent


def _remind(owner: User, item: Interaction, today: date):
    return notify(
        owner,
        _("Follow up %(name)s today", name=item.customer.name)
        if item.next_date == today
        else _(
            "Follow-up overdue: %(name)s (due %(day)s)",
            name=item.customer.name,
            day=item.next_date.isoformat(),
        ),
        body=item.next_action or item.notes[:200],
        url=customer_url(item.customer_id),
        once=f"followup:{item.id}:{today}",
    )


# --- the follow-ups page ------------------------------------------------------------------------


def _own_followups(user: User) -> Select:
    """The user's follow-ups, each with its customer and contact (one query)."""
    return (
        select(Interaction)
        .options(
            joinedload(Interaction.customer).lazyload("*"),
            joinedload(Interaction.contact),
            lazyload(Interaction.owner),
        )
        .where(Interaction.owner_id == user.id)
    )


def due_for(user: User, today: date, days_ahead: int = 7, limit: int = 100) -> list[Interaction]:
    """The user's next steps due by today + days_ahead (overdue first), not yet done."""
    return list(
        db.session.scalars(
            _own_followups(user)
            .where(
                Interaction.next_date.is_not(None),
                Interaction.next_date <= today + timedelta(days=days_ahead),
                ~_superseded(),
            )
            .order_by(Interaction.next_date, Interaction.id)
            .limit(limit)
        ).unique()
    )


def recent_for(user: User, limit: int = 30) -> list[Interaction]:
    return list(
        db.session.scalars(
            _own_followups(user)
            .order_by(Interaction.happened_at.desc(), Interaction.id.desc())
            .limit(limit)
        ).unique()
    )


# --- timeline sources on the customer page ----------------------------------------------------------


kind_label = KINDS.label


def followup_source(customer: Customer, user: User, limit: int) -> list[TimelineItem]:
    """The customer's follow-ups, newest first (one query, owners and contacts joined)."""
    rows = db.session.scalars(
        visible(select(Interaction), user, Interaction)
        .options(
            joinedload(Interaction.owner).lazyload("*"),
            joinedload(Interaction.contact),
            lazyload(Interaction.customer),
        )
        .where(Interaction.customer_id == customer.id)
        .order_by(Interaction.happened_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).unique()
    return [
        TimelineItem(
            at=i.happened_at,
            kind="followup",
            title=kind_label(i.kind) + (f" · {i.contact.name}" if i.contact else ""),
            body=i.notes,
            who=i.owner.display_name if i.owner else "",
            extra={
                "code": i.kind,
                "next_date": i.next_date,
                "next_action": i.next_action,
            },
        )
        for i in rows
    ]


def change_source(customer: Customer, user: User, limit: int) -> list[TimelineItem]:
    """Audit log entries of the customer and its contacts (one query, actors joined)."""
    contact_ids = select(Contact.id).where(Contact.customer_id == customer.id).scalar_subquery()
    logs = db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor).lazyload("*"))
        .where(
            or_(
                and_(AuditLog.record_type == "Customer", AuditLog.record_id == customer.id),
                and_(AuditLog.record_type == "Contact", AuditLog.record_id.in_(contact_ids)),
            )
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
    out = []
    for entry in present([_shown(log) for log in logs]):
        parts = []
        for change in entry.changes:
            if entry.one_sided:
                parts.append(f"{change.label}: {change.value.short}")
            else:
                parts.append(f"{change.label}: {change.before.short} → {change.after.short}")
        title = f"{entry.action_label} · {entry.type_title}"
        if entry.record_type == "Contact":
            title += f" {entry.record_label}"
        out.append(
            TimelineItem(
                at=entry.at,
                kind="change",
                title=title,
                body="; ".join(parts[:6]) + ("" if len(parts) <= 6 else " …"),
                who=entry.actor,
                extra={"note": entry.note},
            )
        )
    return out


# Keys not worth a line on the timeline; leaving the foreign keys out also spares the
# queries that would name them (the owner is named: one users query at most).
HIDDEN_KEYS = frozenset(
    {"name_key", "phone_key", "assigned_at", "customer_id", "created_by_id", "merged_into_id"}
)


def _shown(log: AuditLog) -> SimpleNamespace:
    """A read-only stand-in for a log entry without the hidden keys (the entry itself is
    never changed: it is in the session)."""
    return SimpleNamespace(
        at=log.at,
        actor=log.actor,
        action=log.action,
        record_type=log.record_type,
        record_id=log.record_id,
        record_label=log.record_label,
        note=log.note,
        changes={k: v for k, v in (log.changes or {}).items() if k not in HIDDEN_KEYS},
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, KINDS)
    describe(
        "Interaction",
        _l("Follow-up"),
        fields={
            "kind": _l("Kind"),
            "happened_at": _l("When"),
            "notes": _l("Notes"),
            "next_date": _l("Next follow-up"),
            "next_action": _l("Next action"),
            "contact_id": _l("Contact"),
            "customer_id": _l("Customer"),
            "reminded_on": _l("Reminded on"),
        },
        values={"kind": kind_label},
    )
    describe_note("sales-reminders", _l("Daily job: follow-up reminders"))
    customer_page.register_timeline_source("followup", followup_source)
    customer_page.register_timeline_source("change", change_source)
