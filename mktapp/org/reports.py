"""The organisation chapter's printable reports (P1): the org chart with every post's duties."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mktapp.extensions import db
from mktapp.models import Group, Post, Role, User


def chart_report() -> dict:
    """Everything the org-chart PDF shows: managers, groups with members, posts with duties."""
    groups = db.session.scalars(
        select(Group)
        .options(selectinload(Group.members).selectinload(User.post), selectinload(Group.leader))
        .order_by(Group.sort, Group.id)
    ).all()
    managers = db.session.scalars(
        select(User)
        .join(User.roles)
        .where(Role.code == "marketing_manager", User.active.is_(True))
        .options(selectinload(User.post))
        .order_by(User.display_name)
    ).all()
    posts = db.session.scalars(
        select(Post).options(selectinload(Post.holders)).order_by(Post.sort, Post.id)
    ).all()
    for group in groups:
        group.active_members = [u for u in group.members if u.active]
    holders = {post.id: [u for u in post.holders if u.active] for post in posts}
    return {"groups": groups, "managers": managers, "posts": posts, "holders": holders}
