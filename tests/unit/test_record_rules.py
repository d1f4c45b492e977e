"""Record rules: who sees which owned business records (visible())."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from mktapp.core.permissions import can, get_visible_or_404, owner_rule, visible
from mktapp.extensions import db
from mktapp.models import Group, TrainingRecord, User


@pytest.fixture
def records(app, demo):
    """One training record owned by each demo user; returns {username: record id}."""
    with app.app_context():
        ids = {}
        for username, user_id in demo.items():
            record = TrainingRecord(
                owner_id=user_id,
                course=f"课程-{username}",
                taken_on=date(2026, 3, 1),
                hours=Decimal("2"),
            )
            db.session.add(record)
            db.session.flush()
            ids[username] = record.id
        db.session.commit()
    return ids


def _seen_by(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        rows = db.session.scalars(visible(select(TrainingRecord), user)).all()
        return {r.course.split("-", 1)[1] for r in rows if r.course.startswith("课程-")}


def test_sales_rep_sees_only_own_records(app, records):
    assert _seen_by(app, "sales1") == {"sales1"}


def test_group_leader_sees_the_whole_group(app, records):
    assert _seen_by(app, "sales3") == {"sales1", "sales2", "sales3"}
    assert _seen_by(app, "service1") == {"service1", "service2"}


def test_manager_and_executive_see_everything(app, records):
    everyone = set(records)
    assert _seen_by(app, "manager") == everyone
    assert _seen_by(app, "boss") == everyone


def test_administrator_sees_no_business_records_by_default(app, records):
    # The default owner rule; training records add training.manage for admins.
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        query = select(TrainingRecord).where(owner_rule(TrainingRecord, admin))
        assert db.session.scalars(query).all() == []
    assert _seen_by(app, "admin") == set(records)


def test_changing_the_leader_moves_the_view(app, records):
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.code == "sales"))
        group.leader_id = db.session.scalar(select(User.id).where(User.username == "sales1"))
        db.session.commit()
    assert _seen_by(app, "sales1") == {"sales1", "sales2", "sales3"}
    assert _seen_by(app, "sales3") == {"sales3"}


def test_unseen_record_is_404_not_403(app, records):
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "sales1"))
        assert get_visible_or_404(TrainingRecord, records["sales1"], user).owner_id == user.id
        with pytest.raises(NotFound):
            get_visible_or_404(TrainingRecord, records["sales2"], user)
        with pytest.raises(NotFound):
            get_visible_or_404(TrainingRecord, "not-a-number", user)


def test_permissions_come_from_roles(app, demo):
    with app.app_context():
        admin = db.session.get(User, demo["admin"])
        rep = db.session.get(User, demo["sales1"])
        assert can(admin, "users.manage")
        assert not can(rep, "users.manage")
        assert can(rep)  # no permission named: any signed-in user
