"""What the workbench shows: the user's post and duties, group, unread notifications."""

from __future__ import annotations

from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import Notification, User


def workbench(user: User) -> dict:
    unread = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )
    recent = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc())
        .limit(5)
    ).all()
    from mktapp.core import approvals

    return {
        "me": user,
        "unread": unread or 0,
        "recent_notifications": recent,
        "waiting_total": approvals.inbox_count(user),
        "waiting": approvals.inbox(user, limit=5),
        "flows": approvals.FLOWS,
    }
