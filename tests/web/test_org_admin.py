"""User administration: create, edit, deactivate/reactivate, reset password, hand-over."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, Group, Post, TrainingRecord, User


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def ids(app) -> dict:
    with app.app_context():
        groups = {g.code: g.id for g in db.session.scalars(select(Group))}
        posts = {p.code: p.id for p in db.session.scalars(select(Post))}
    return {"groups": groups, "posts": posts}


def new_user_data(app, **changes) -> dict:
    known = ids(app)
    data = {
        "username": "sales4",
        "display_name": "吴刚",
        "email": "wu.gang@example.cn",
        "phone": "138-0000-0024",
        "roles": ["sales_rep"],
        "group_id": str(known["groups"]["sales"]),
        "post_id": str(known["posts"]["sales_rep"]),
        "joined_on": "2025-02-01",
        "password": "Wu-Gang-2025!",
    }
    data.update(changes)
    return data


def test_admin_creates_a_user_who_can_sign_in(app, login, client):
    c = login("admin")
    assert c.get("/org/users/new").status_code == 200
    response = c.post("/org/users/new", new_user_data(app))
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sales4"))
        assert user.display_name == "吴刚" and user.role_codes == {"sales_rep"}
        assert user.group.code == "sales" and user.post.code == "sales_rep"
        assert user.joined_on == date(2025, 2, 1)
        entry = db.session.scalar(
            select(AuditLog).where(AuditLog.record_type == "User", AuditLog.record_id == user.id)
        )
        assert entry.action == "insert" and entry.changes["roles"] == [[], ["sales_rep"]]
        assert "password_hash" not in entry.changes
    assert response.headers["Location"].endswith(f"/org/users/{user.id}")
    client.login("sales4", "Wu-Gang-2025!")


def test_new_user_form_through_htmx_redirects(app, login):
    response = login("admin").post("/org/users/new", new_user_data(app), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/org/users/")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "SALES1"}, "username"),  # taken, whatever the case
        ({"username": "x" * 41}, "username"),
        ({"username": "张三"}, "username"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "名" * 81}, "display_name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a" * 110 + "@example.cn"}, "email"),
        ({"phone": "1" * 41}, "phone"),
        ({"password": "short"}, "password"),
        ({"password": ""}, "password"),
        ({"roles": []}, "roles"),
        ({"roles": ["wizard"]}, "roles"),
        ({"group_id": "9999"}, "group_id"),
        ({"group_id": "abc"}, "group_id"),
        ({"post_id": "9999"}, "post_id"),
        ({"joined_on": "2025-02-30"}, "joined_on"),
    ],
)
def test_bad_input_on_new_user_is_a_422_next_to_the_field(app, login, changes, field):
    c = login("admin")
    before = count_users(app)
    response = c.post("/org/users/new", new_user_data(app, **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert f'aria-describedby="{field}-error"' in html or f"{field}-error" in html
    assert count_users(app) == before


def test_bad_input_through_htmx_returns_only_the_form(app, login):
    response = login("admin").post("/org/users/new", new_user_data(app, display_name=""), htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="user_form"')
    assert "display_name-error" in html


def test_new_user_without_csrf_is_400_and_writes_nothing(app, login):
    before = count_users(app)
    response = login("admin").post("/org/users/new", new_user_data(app), csrf=False)
    assert response.status_code == 400
    assert count_users(app) == before


@pytest.mark.parametrize("who", ["sales1", "manager", "market1", "boss", "finance1"])
def test_only_the_administrator_may_create_users(app, login, who):
    c = login(who)
    assert c.get("/org/users/new").status_code == 403
    before = count_users(app)
    assert c.post("/org/users/new", new_user_data(app)).status_code == 403
    assert count_users(app) == before


def test_admin_edits_roles_group_post_and_contact(app, login, demo):
    c = login("admin")
    known = ids(app)
    page = c.get(f"/org/users/{demo['market2']}/edit").get_data(as_text=True)
    assert "赵磊" in page
    assert re.search(r'<input checked[^>]*value="market_specialist"', page)
    assert not re.search(r'<input checked[^>]*value="sales_rep"', page)
    response = c.post(
        f"/org/users/{demo['market2']}/edit",
        {
            "display_name": "赵磊",
            "email": "zhao.lei@example.cn",
            "phone": "139-1111-2222",
            "roles": ["sales_rep", "market_specialist"],
            "group_id": str(known["groups"]["sales"]),
            "post_id": str(known["posts"]["sales_rep"]),
            "joined_on": "2024-03-01",
            "active": "y",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, demo["market2"])
        assert user.role_codes == {"sales_rep", "market_specialist"}
        assert user.group.code == "sales" and user.post.code == "sales_rep"
        assert user.phone == "13911112222"  # normalised on save (core/phones)
        entry = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.record_type == "User", AuditLog.record_id == user.id)
            .order_by(AuditLog.id.desc())
        ).first()
        assert entry.changes["roles"] == [["market_specialist"], ["market_specialist", "sales_rep"]]


def edit_data(app, **changes):
    data = {
        "display_name": "张伟",
        "email": "zhang.wei@example.cn",
        "phone": "138-0000-0021",
        "roles": ["sales_rep"],
        "group_id": "0",
        "post_id": "0",
        "joined_on": "",
        "active": "y",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "名" * 81}, "display_name"),
        ({"email": "zhang.wei@"}, "email"),
        ({"phone": "1" * 41}, "phone"),
        ({"roles": []}, "roles"),
        ({"roles": ["sales_rep", "root"]}, "roles"),
        ({"group_id": "424242"}, "group_id"),
        ({"post_id": "x"}, "post_id"),
        ({"joined_on": "yesterday"}, "joined_on"),
    ],
)
def test_bad_input_on_edit_is_a_422_and_nothing_changes(app, login, demo, changes, field):
    c = login("admin")
    before = audit_count(app)
    response = c.post(f"/org/users/{demo['sales1']}/edit", edit_data(app, **changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, demo["sales1"])
        assert user.group.code == "sales" and user.role_codes == {"sales_rep"}
    assert audit_count(app) == before


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditLog.id)))


def test_unknown_user_is_404_everywhere(login):
    c = login("admin")
    for url in (
        "/org/users/9999",
        "/org/users/9999/edit",
        "/org/users/9999/deactivate",
        "/org/users/9999/reactivate",
        "/org/users/9999/reset-password",
        "/org/users/9999/handover",
    ):
        assert c.get(url).status_code == 404, url
    assert c.post("/org/users/9999/deactivate").status_code == 404
    assert c.post("/org/users/9999/edit", edit_data(None)).status_code == 404


def test_deactivate_needs_confirmation_and_keeps_the_account(app, login, client, demo):
    c = login("admin")
    confirm = c.get(f"/org/users/{demo['sales2']}/deactivate")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert 'method="post"' in html and "csrf_token" in html
    profile = c.get(f"/org/users/{demo['sales2']}").get_data(as_text=True)
    assert "hx-confirm=" in profile and f"/org/users/{demo['sales2']}/deactivate" in profile
    response = c.post(f"/org/users/{demo['sales2']}/deactivate")
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, demo["sales2"])
        assert user is not None and user.active is False
    assert (
        client.post(
            "/auth/login", {"username": "sales2", "password": "mktapp-demo-2026"}
        ).status_code
        == 422
    )
    assert c.post(f"/org/users/{demo['sales2']}/reactivate").status_code == 303
    with app.app_context():
        assert db.session.get(User, demo["sales2"]).active is True


def test_deactivating_a_group_leader_clears_the_leadership(app, login, demo):
    login("admin").post(f"/org/users/{demo['sales3']}/deactivate")
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.code == "sales"))
        assert group.leader_id is None


def test_deactivate_without_csrf_is_400(app, login, demo):
    response = login("admin").post(f"/org/users/{demo['sales2']}/deactivate", csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, demo["sales2"]).active is True


def test_admin_cannot_deactivate_themselves(app, login, demo):
    c = login("admin")
    page = c.get(f"/org/users/{demo['admin']}/deactivate").get_data(as_text=True)
    assert "cannot deactivate your own account" in page or "不能停用" in page
    c.post(f"/org/users/{demo['admin']}/deactivate")
    response = c.post(
        f"/org/users/{demo['admin']}/edit",
        edit_data(app, display_name="系统管理员", roles=["admin"], active=""),
    )
    assert response.status_code == 422
    assert "active-error" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, demo["admin"]).active is True


def test_last_active_admin_cannot_be_deactivated_or_lose_the_role(app, login, demo):
    with app.app_context():
        # A second administrator, who then tries to remove the first.
        from mktapp.org.services import create_user

        actor = db.session.get(User, demo["admin"])
        create_user(
            actor,
            username="admin2",
            display_name="备用管理员",
            password="mktapp-demo-2026",
            hash_method=app.config["PASSWORD_HASH_METHOD"],
            roles=["admin"],
        )
        db.session.commit()
    c = login("admin")
    c2 = login("admin2")
    # While two exist, one may be deactivated ...
    assert c2.post(f"/org/users/{demo['admin']}/deactivate").status_code == 303
    with app.app_context():
        assert db.session.get(User, demo["admin"]).active is False
        admin2 = db.session.scalar(select(User).where(User.username == "admin2"))
        admin2_id = admin2.id
    # ... now admin2 is the last one: it cannot lose the role through the edit form
    # (nobody changes their own roles, and the last administrator keeps the role).
    response = c2.post(
        f"/org/users/{admin2_id}/edit",
        edit_data(app, display_name="备用管理员", roles=["finance"], email=""),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "roles-error" in html and ("own roles" in html or "自己的角色" in html)
    # Reactivate the first (deactivation ended its sessions: it signs in again); then the
    # first takes the role from admin2.
    assert c2.post(f"/org/users/{demo['admin']}/reactivate").status_code == 303
    c = login("admin")
    assert (
        c.post(
            f"/org/users/{admin2_id}/edit",
            edit_data(app, display_name="备用管理员", roles=["finance"], email=""),
        ).status_code
        == 303
    )
    # And now admin is last: another admin cannot deactivate it (none left to try) and
    # the confirmation page says why.
    page = c.get(f"/org/users/{demo['admin']}/deactivate").get_data(as_text=True)
    assert any(t in page for t in ("cannot deactivate your own account", "last", "不能停用"))


def test_last_admin_rule_message_on_the_deactivate_page(app, login, demo):
    with app.test_request_context():
        from mktapp.org.services import OrgError, deactivate_user

        manager = db.session.get(User, demo["manager"])
        admin = db.session.get(User, demo["admin"])
        with pytest.raises(OrgError) as error:
            deactivate_user(manager, admin)
        assert any(t in str(error.value) for t in ("last active administrator", "最后一个"))


def test_admin_resets_a_password(app, login, client, demo):
    c = login("admin")
    assert c.get(f"/org/users/{demo['service2']}/reset-password").status_code == 200
    bad = c.post(
        f"/org/users/{demo['service2']}/reset-password", {"password": "short", "confirm": "short"}
    )
    assert bad.status_code == 422 and "password-error" in bad.get_data(as_text=True)
    differ = c.post(
        f"/org/users/{demo['service2']}/reset-password",
        {"password": "newsecret1", "confirm": "newsecret2"},
    )
    assert differ.status_code == 422 and "confirm-error" in differ.get_data(as_text=True)
    ok = c.post(
        f"/org/users/{demo['service2']}/reset-password",
        {"password": "newsecret1", "confirm": "newsecret1"},
    )
    assert ok.status_code == 303
    client.login("service2", "newsecret1")
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "password"))
        assert entry.record_id == demo["service2"] and entry.actor_id == demo["admin"]


def test_sales_rep_cannot_reset_passwords_or_deactivate(login, demo):
    c = login("sales1")
    assert c.get(f"/org/users/{demo['sales2']}/reset-password").status_code == 403
    assert (
        c.post(
            f"/org/users/{demo['sales2']}/reset-password",
            {"password": "newsecret1", "confirm": "newsecret1"},
        ).status_code
        == 403
    )
    assert c.post(f"/org/users/{demo['sales2']}/deactivate").status_code == 403
    assert c.get(f"/org/users/{demo['sales2']}/edit").status_code == 403


@pytest.fixture
def training_is_handed_over(app, demo, monkeypatch):
    """Training records stay with their trainee; for the test, treat them as handed over.

    The demo's own training records are removed so that counts are the test's.
    """
    monkeypatch.setattr(TrainingRecord, "__handover__", True, raising=False)
    with app.app_context():
        db.session.execute(delete(TrainingRecord))
        db.session.commit()


def add_training(app, owner_id, n):
    with app.app_context():
        for i in range(n):
            db.session.add(
                TrainingRecord(
                    owner_id=owner_id,
                    course=f"课程{i}",
                    taken_on=date(2025, 1, 1),
                    hours=Decimal("2.0"),
                )
            )
        db.session.commit()


def test_handover_shows_counts_and_moves_every_owned_record(
    app, login, demo, training_is_handed_over
):
    add_training(app, demo["sales2"], 3)
    c = login("manager")  # the manager may hand over (users.handover)
    page = c.get(f"/org/users/{demo['sales2']}/handover").get_data(as_text=True)
    assert "Training records" in page or "培训" in page
    assert '<td class="num">3</td>' in page
    assert f'value="{demo["sales2"]}"' not in page  # not offered to themselves
    response = c.post(f"/org/users/{demo['sales2']}/handover", {"target_id": demo["sales1"]})
    assert response.status_code == 303
    with app.app_context():
        owners = db.session.scalars(select(TrainingRecord.owner_id)).all()
        assert owners == [demo["sales1"]] * 3
        notes = db.session.scalars(
            select(AuditLog.note).where(
                AuditLog.record_type == "TrainingRecord", AuditLog.action == "update"
            )
        ).all()
        assert len(notes) == 3
        assert all(n.startswith("hand-over from 刘洋") and "张伟" in n for n in notes)


def test_handover_refuses_inactive_or_same_or_unknown_target(
    app, login, demo, training_is_handed_over
):
    add_training(app, demo["sales2"], 2)
    with app.app_context():
        db.session.get(User, demo["sales3"]).active = False
        db.session.commit()
    c = login("admin")
    for target in (demo["sales3"], demo["sales2"], 9999, "abc", ""):
        response = c.post(f"/org/users/{demo['sales2']}/handover", {"target_id": target})
        assert response.status_code == 422, target
        assert "target_id-error" in response.get_data(as_text=True)
    with app.app_context():
        assert set(db.session.scalars(select(TrainingRecord.owner_id))) == {demo["sales2"]}


def test_handover_with_nothing_owned_says_so(login, demo):
    # service2 owns nothing in the demo (the sales reps own customers and opportunities)
    html = login("admin").get(f"/org/users/{demo['service2']}/handover").get_data(as_text=True)
    assert "nothing to hand over" in html or "无" in html


def test_sales_rep_cannot_hand_over(login, demo):
    c = login("sales1")
    assert c.get(f"/org/users/{demo['sales2']}/handover").status_code == 403
    assert (
        c.post(f"/org/users/{demo['sales2']}/handover", {"target_id": demo["sales1"]}).status_code
        == 403
    )
