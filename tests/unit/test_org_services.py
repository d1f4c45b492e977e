"""Organisation services without a request: directory query, admin rules, hand-over."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from mktapp.core.permissions import ROLE_LABELS, role_label
from mktapp.extensions import db
from mktapp.models import ROLE_CODES, AuditLog, Group, TrainingRecord, User
from mktapp.org import services
from mktapp.org.services import DirectoryQuery, OrgError


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo
        db.session.rollback()


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_every_role_has_a_label(app):
    assert set(ROLE_LABELS) == set(ROLE_CODES)
    with app.test_request_context():
        assert role_label("sales_rep") in ("Sales rep", "业务员")
        assert role_label("unknown") == "unknown"


def test_directory_query_reads_only_what_it_understands():
    q = DirectoryQuery.from_args(
        {"q": "  张 ", "group": "x", "role": "root", "status": "?", "sort": "id", "page": "0"}
    )
    assert (q.q, q.group, q.role, q.status, q.sort, q.dir, q.page) == (
        "张",
        "",
        "",
        "active",
        "name",
        "asc",
        1,
    )
    q = DirectoryQuery.from_args({"group": "3", "role": "finance", "dir": "desc", "page": "4"})
    assert (q.group, q.role, q.dir, q.page) == ("3", "finance", "desc", 4)
    assert q.args(page=1) == {"group": "3", "role": "finance", "dir": "desc"}
    assert DirectoryQuery.from_args({}, default_status="all").args() == {}


def test_owned_models_are_found_by_walking_the_mappers(app):
    with app.app_context():
        found = services.owned_models()
    every_owned = {m.class_ for m in db.Model.registry.mappers if "owner_id" in m.columns}
    assert set(found) <= every_owned
    # Only models that opt out are left out.
    assert every_owned - set(found) == {
        cls for cls in every_owned if getattr(cls, "__handover__", True) is False
    }
    assert TrainingRecord not in found


def test_hand_over_moves_records_and_notes_each_in_the_audit_log(ctx, monkeypatch):
    monkeypatch.setattr(TrainingRecord, "__handover__", True, raising=False)
    a, b, boss = user("sales1"), user("sales2"), user("manager")
    counts = {cls: n for cls, _label, n in services.owned_counts(a)}
    before = counts.get(TrainingRecord, 0)
    # The demo gives sales1 some customers and follow-ups too; they move with the rest.
    before_all = sum(counts.values())
    for i in range(2):
        db.session.add(
            TrainingRecord(
                owner_id=a.id, course=f"c{i}", taken_on=date(2025, 1, 1), hours=Decimal("1.5")
            )
        )
    db.session.flush()
    counts = {cls: n for cls, _label, n in services.owned_counts(a)}
    assert counts[TrainingRecord] == before + 2
    assert sum(counts.values()) == before_all + 2
    moved = services.hand_over(boss, a, b)
    assert sum(moved.values()) == before_all + 2
    assert services.owned_counts(a) == []
    notes = db.session.scalars(
        select(AuditLog.note).where(
            AuditLog.record_type == "TrainingRecord", AuditLog.action == "update"
        )
    ).all()
    assert notes == ["hand-over from 张伟 (sales1) to 刘洋 (sales2)"] * (before + 2)


def test_hand_over_refuses_self_and_inactive(ctx):
    a, b = user("sales1"), user("sales2")
    with pytest.raises(OrgError):
        services.hand_over(a, a, a)
    b.active = False
    with pytest.raises(OrgError) as error:
        services.hand_over(a, a, b)
    assert error.value.field == "target_id"


def test_last_admin_is_protected(ctx):
    admin, manager = user("admin"), user("manager")
    assert services.deactivation_problem(admin, admin)  # self
    assert services.deactivation_problem(manager, admin)  # last admin
    with pytest.raises(OrgError) as error:
        services.update_user(manager, admin, display_name="x", roles=["finance"])
    assert error.value.field == "roles"
    assert admin.role_codes == {"admin"}
    assert services.deactivation_problem(admin, manager) is None


def test_create_user_checks_username_case_insensitively(ctx):
    admin = user("admin")
    with pytest.raises(OrgError) as error:
        services.create_user(
            admin,
            username="Sales1",
            display_name="x",
            password="a-long-passphrase",
            hash_method="pbkdf2:sha256:1000",
            roles=["sales_rep"],
        )
    assert error.value.field == "username"
    with pytest.raises(OrgError):
        services.create_user(
            admin,
            username="new1",
            display_name="x",
            password="a-long-passphrase",
            hash_method="pbkdf2:sha256:1000",
            roles=["sales_rep"],
            group_id=99999,
        )


def test_update_group_needs_an_active_member_as_leader(ctx):
    group = db.session.scalar(select(Group).where(Group.code == "market"))
    with pytest.raises(OrgError):
        services.update_group(
            user("admin"), group, name="市场组", description="", leader_id=user("sales1").id
        )
    services.update_group(
        user("admin"), group, name="市场组", description="", leader_id=user("market2").id
    )
    assert group.leader.username == "market2"


def test_org_chart_puts_the_manager_on_top_and_leaders_first(ctx):
    chart = services.org_chart()
    assert [u.username for u in chart["managers"]] == ["manager"]
    assert [u.username for u in chart["executives"]] == ["boss"]
    assert [g["leader"].username for g in chart["groups"]] == ["market1", "sales3", "service1"]
    assert [u.username for u in chart["others"]] == ["finance1"]
