"""Notifications: an in-app list per user (with the bell's unread count), plus e-mail.

    notify(user, "报销申请待审批", body="...", url=url_for("expense.detail", id=claim.id))

adds a Notification to the session; the caller commits. When the commit
succeeds the e-mail goes out: through SMTP when MKTAPP_SMTP_HOST is set
(STARTTLS when MKTAPP_SMTP_TLS, the default; port 465 means implicit TLS),
otherwise it is written to the log. A failed send is logged, never raised:
the in-app notification is what counts.

A job's notice names what it is about and which day (`once="followup:42:2026-12-07"`):
it is written only if the user has no notice of that key yet (one INSERT ... ON CONFLICT
DO NOTHING against a unique key), so a scan run twice, at once or one after the other,
tells nobody twice, and mails only what it wrote.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mktapp.core.lists import Column, Filter, ListPage, ListSpec, flag
from mktapp.extensions import db
from mktapp.models import Notification, utcnow

log = logging.getLogger("mktapp.notify")

PENDING_KEY = "mktapp_pending_mail"


@dataclass
class Mail:
    to: str
    subject: str
    body: str


def notify(
    user: Any, title: str, body: str = "", url: str = "", task: str = "", once: str = ""
) -> Notification | None:
    """Tell a user something: in the app, and by e-mail after the commit.

    `task` names what the notice asks the user to do (e.g. "approval_step:42"):
    resolve(task) marks every notice of it done once it is done, by whoever.
    `once` (what and which day, e.g. "followup:42:2026-12-07"): the notice is written only
    if this user has none of that key yet, else nothing happens and None is returned.
    """
    address = (getattr(user, "email", "") or "").strip()
    values = {
        "user_id": user.id,
        "title": str(title)[:200],
        "body": str(body or ""),
        "url": _safe_url(url),
        "task": (task or "")[:60],
        "created_at": utcnow(),
        "emailed": bool(address),
    }
    if once:
        note = _insert_once(values, once[:120])
        if note is None:
            return None
    else:
        note = Notification(**values)
        db.session.add(note)
    if address:
        link = _absolute(note.url)
        text = note.body + (f"\n\n{link}" if link else "")
        db.session.info.setdefault(PENDING_KEY, []).append(
            Mail(to=address, subject=note.title, body=text.strip())
        )
    return note


def _insert_once(values: dict, key: str) -> Notification | None:
    """The notice, inserted unless the user has one of this key (None then). Of two
    transactions inserting the same key at once the second waits for the first and
    inserts nothing (PostgreSQL), or inserts after it, and nothing (SQLite)."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the two we run on
        known = db.session.scalar(
            select(Notification.id).where(
                Notification.user_id == values["user_id"], Notification.once_key == key
            )
        )
        if known is not None:
            return None
        note = Notification(**values, once_key=key)
        db.session.add(note)
        return note
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Notification)
        .values(**values, once_key=key)
        .on_conflict_do_nothing(index_elements=["user_id", "once_key"])
        .returning(Notification)
    )
    # RETURNING gives the row only when this statement inserted it.
    return db.session.scalars(statement).first()


def _safe_url(url: str) -> str:
    """Only a path inside the app: a notification never links to another site."""
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return ""
    return url[:400]


def _absolute(path: str) -> str:
    if not path:
        return ""
    base = current_app.config.get("BASE_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + path if base else path


def resolve(*tasks: str) -> int:
    """Mark every notice of these tasks done, for everyone it addressed (unread ones read).

    Called by whoever finishes the task (the approval engine when a step is decided
    or its request ends); the caller commits. Returns how many notices it resolved.
    """
    keys = [t for t in tasks if t]
    if not keys:
        return 0
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(Notification.task.in_(keys), Notification.resolved_at.is_(None))
        .values(resolved_at=now, read_at=func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


# --- reading and marking --------------------------------------------------------------


def unread_count(user: Any) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


# A list of items, not a table: its columns name what an item shows (no head, no export).
NOTIFICATIONS = ListSpec(
    "notification",
    columns=[Column("title", _l("Title")), Column("date", _l("Date"))],
    filters=[Filter("unread", flag, default=False)],
    # Unread first, newest first within each.
    default_sort="unread_first",
    default_dir="desc",
    tie=Notification.id,
    sorts={"unread_first": (Notification.read_at.is_(None), Notification.created_at)},
)
NotificationQuery = NOTIFICATIONS.Query


def notifications_page(user: Any, query=None, page_size: int = 25) -> ListPage:
    """A user's notifications, unread first, newest first within each, and how many of
    all are unread (`page.unread`; three queries)."""
    query = query or NotificationQuery()
    stmt = select(Notification).where(Notification.user_id == user.id)
    if query.unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    page = NOTIFICATIONS.page(stmt, query, page_size)
    page.unread = page.total if query.unread else unread_count(user)
    return page


def own_notification(user: Any, notification_id: int) -> Notification | None:
    """One of the user's own notifications (None for anyone else's)."""
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user: Any) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


# --- e-mail ------------------------------------------------------------------------


def send_mail(mail: Mail, config: Any) -> None:
    """Send one e-mail by SMTP, or write it to the log when no SMTP host is set."""
    host = config.get("SMTP_HOST")
    if not host:
        log.info("E-mail (no SMTP configured) to %s: %s\n%s", mail.to, mail.subject, mail.body)
        return
    message = EmailMessage()
    message["From"] = config.get("SMTP_FROM") or "mktapp@localhost"
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body or mail.subject)
    port = int(config.get("SMTP_PORT") or 587)
    context = ssl.create_default_context()
    if port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=15, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=15)
    with smtp:
        if port != 465 and config.get("SMTP_TLS", True):
            smtp.starttls(context=context)
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    try:
        config = current_app.config
    except RuntimeError:  # no app context: nothing to send with
        return
    for mail in pending:
        try:
            send_mail(mail, config)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("E-mail to %s failed: %s", mail.to, error)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def init_app(app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
