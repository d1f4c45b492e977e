"""Nobody changes their own roles; a business role for an administrator account needs an
executive: an administrator's request waits and the executives are asked; an executive's
grant is applied and the other executives are told."""

import re

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import AuditLog, Notification, User
from mktapp.org import services
from mktapp.org.services import OrgError, roles_needing_executive

HIDDEN_RE = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def hidden_fields(html: str) -> dict:
    """The hidden inputs of a form page (whatever the form carries besides its fields)."""
    found = {}
    for tag in HIDDEN_RE.findall(html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrf_token":
            found[name.group(1)] = value.group(1) if value else ""
    return found


def edit(c, user_id: int, **changes):
    """Post the edit form of `user_id` as shown, with `changes`."""
    page = c.get(f"/org/users/{user_id}/edit").get_data(as_text=True)
    data = hidden_fields(page)
    data.update({"display_name": "x", "email": "", "phone": "", "group_id": "0", "post_id": "0"})
    data.update({"joined_on": "", "active": "y"})
    data.update(changes)
    return c.post(f"/org/users/{user_id}/edit", data)


def add_user(app, username: str, roles: list[str]) -> int:
    with app.test_request_context():
        actor = db.session.scalar(select(User).where(User.username == "boss"))
        user = services.create_user(
            actor,
            username=username,
            display_name=username,
            password="long-enough-pass",
            hash_method=app.config["PASSWORD_HASH_METHOD"],
            roles=roles,
        )
        db.session.commit()
        return user.id


def roles_of(app, user_id: int) -> set[str]:
    with app.app_context():
        return set(db.session.get(User, user_id).role_codes)


def notices(app, username: str, about: int) -> list[Notification]:
    """The notifications `username` got about the account `about` (the demo has others)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        rows = db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.url.like(f"/org/users/{about}%"),
            )
            .order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_which_grants_need_an_executive():
    assert roles_needing_executive({"admin"}, {"admin", "executive"}) == {"executive"}
    assert roles_needing_executive(set(), {"admin", "sales_rep"}) == {"sales_rep"}
    assert roles_needing_executive({"sales_rep"}, {"sales_rep", "admin"}) == {"admin"}
    assert roles_needing_executive({"admin", "finance"}, {"admin", "finance"}) == set()
    assert roles_needing_executive({"sales_rep"}, {"sales_rep", "finance"}) == set()
    assert roles_needing_executive({"admin"}, {"admin"}) == set()


def test_the_administrator_cannot_give_himself_the_executive_role(app, login, demo):
    c = login("admin")
    page = c.get(f"/org/users/{demo['admin']}/edit").get_data(as_text=True)
    assert 'name="roles"' not in page  # shown, not offered
    response = edit(c, demo["admin"], roles=["admin", "executive"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "roles-error" in html
    assert roles_of(app, demo["admin"]) == {"admin"}
    # Without the roles (the field is not offered) the rest of the form saves.
    assert edit(c, demo["admin"], display_name="系统管理员").status_code == 303
    assert roles_of(app, demo["admin"]) == {"admin"}


def test_the_service_refuses_a_change_of_ones_own_roles(app_ctx, demo):
    for name in ("admin", "boss"):
        actor = db.session.get(User, demo[name])
        codes = set(actor.role_codes)
        with pytest.raises(OrgError) as error:
            services.update_user(actor, actor, display_name="x", roles=sorted(codes | {"finance"}))
        assert error.value.field == "roles"
        assert actor.role_codes == codes


def test_an_administrators_business_grant_waits_for_an_executive(app, login, demo):
    other_admin = add_user(app, "admin2", ["admin"])
    c = login("admin")
    response = edit(c, other_admin, roles=["admin", "executive"])
    assert response.status_code == 303
    assert roles_of(app, other_admin) == {"admin"}  # not applied
    (asked,) = notices(app, "boss", other_admin)
    assert f"/org/users/{other_admin}/grant-roles" in asked.url
    assert "roles=executive" in asked.url
    assert asked.resolved_at is None
    # The administrator cannot confirm it himself.
    assert c.get(asked.url).status_code == 403
    assert c.post(asked.url).status_code == 403
    assert roles_of(app, other_admin) == {"admin"}
    # The executive confirms it, after seeing what it means.
    boss = login("boss")
    page = boss.get(asked.url)
    assert page.status_code == 200
    assert boss.post(asked.url).status_code == 303
    assert roles_of(app, other_admin) == {"admin", "executive"}
    (asked,) = notices(app, "boss", other_admin)
    assert asked.resolved_at is not None
    with app.app_context():
        entry = db.session.scalar(
            select(AuditLog)
            .where(AuditLog.record_type == "User", AuditLog.record_id == other_admin)
            .order_by(AuditLog.id.desc())
        )
        assert entry.actor_id == demo["boss"] and "executive" in entry.changes["roles"][1]


def test_making_a_business_account_administrator_waits_too(app, login, demo):
    c = login("admin")
    response = edit(c, demo["finance1"], roles=["finance", "admin"])
    assert response.status_code == 303
    assert roles_of(app, demo["finance1"]) == {"finance"}
    (asked,) = notices(app, "boss", demo["finance1"])
    assert "roles=admin" in asked.url


def test_a_new_administrator_account_gets_business_roles_only_from_an_executive(app, login, demo):
    c = login("admin")
    response = c.post(
        "/org/users/new",
        {
            "username": "ops1",
            "display_name": "运维",
            "roles": ["admin", "sales_rep"],
            "group_id": "0",
            "post_id": "0",
            "password": "ops-long-password",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        ops = db.session.scalar(select(User).where(User.username == "ops1"))
        assert ops.role_codes == {"admin"}
        ops_id = ops.id
    (asked,) = notices(app, "boss", ops_id)
    assert "roles=sales_rep" in asked.url


def test_an_executives_grant_is_applied_and_told_to_the_other_executives(app, demo):
    second = add_user(app, "boss2", ["executive"])
    other_admin = add_user(app, "admin3", ["admin"])
    with app.test_request_context():
        boss = db.session.get(User, demo["boss"])
        target = db.session.get(User, other_admin)
        services.update_user(boss, target, display_name="admin3", roles=["admin", "finance"])
        db.session.commit()
    assert roles_of(app, other_admin) == {"admin", "finance"}
    (told,) = notices(app, "boss2", other_admin)
    assert told.url == f"/org/users/{other_admin}"
    assert notices(app, "boss", other_admin) == []  # not told what he did himself
    assert notices(app, "boss2", second) == []


def test_a_sales_rep_cannot_open_the_grant_page(login, demo):
    c = login("sales1")
    assert c.get(f"/org/users/{demo['admin']}/grant-roles?roles=sales_rep").status_code == 403
