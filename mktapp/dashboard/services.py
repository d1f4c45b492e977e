"""What the workbench shows: the user's post and duties, group, unread notifications,
the newest approvals waiting on them, and the cards chapters add (core/page_parts.py):
a chapter registers a panel here, e.g. finance's payments waiting (expense)."""

from __future__ import annotations

from sqlalchemy import func, select

from mktapp.core import approvals
from mktapp.core.page_parts import PageParts, Panel
from mktapp.extensions import db
from mktapp.models import Notification, User

__all__ = ["Panel", "register_panel", "workbench"]

# A workbench card's loader gets (the user, the user): the page's record is its reader.
_parts = PageParts("user_id", "me")
register_panel = _parts.register_panel


def workbench(user: User) -> dict:
    unread = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )
    recent = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        # Unread first, as on the notifications page: what is done does not hide what is not.
        .order_by(
            Notification.read_at.is_not(None),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .limit(5)
    ).all()

    return {
        "me": user,
        "unread": unread or 0,
        "recent_notifications": recent,
        "waiting_total": approvals.inbox_count(user),
        # What just arrived comes first here; the inbox itself works from the oldest.
        "waiting": approvals.inbox(user, limit=5, newest_first=True),
        "flows": approvals.FLOWS,
        "panels": _parts.rendered_panels(user, user),
    }
