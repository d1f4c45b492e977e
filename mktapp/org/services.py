"""Organisation logic: the org chart, posts, the user directory and administration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mktapp.extensions import db
from mktapp.models import Group, Role, User


def org_chart() -> dict:
    """The manager(s) at the top and each group with its leader and members."""
    groups = db.session.scalars(
        select(Group)
        .options(selectinload(Group.members).selectinload(User.post), selectinload(Group.leader))
        .order_by(Group.sort)
    ).all()
    managers = db.session.scalars(
        select(User)
        .join(User.roles)
        .where(Role.code == "marketing_manager", User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    return {"groups": groups, "managers": managers}
