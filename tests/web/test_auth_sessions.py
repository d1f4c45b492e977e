"""Sessions that end: each sign-in has a server-side record; signing out, a password change
and an administrator end it, and a copy of its cookie stops working; the idle time holds."""

from datetime import timedelta

from sqlalchemy import select, update

from mktapp.extensions import db
from mktapp.models import AuditLog, User, UserSession, utcnow
from tests.conftest import Client


def signed_in(c) -> bool:
    return c.get("/").status_code == 200


def copy_of(app, c) -> Client:
    """Another browser holding a copy of `c`'s session cookie (a stolen cookie)."""
    other = Client(app.test_client())
    other.c.set_cookie("session", c.c.get_cookie("session").value)
    return other


def sessions_of(app, user_id) -> list[UserSession]:
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.created_at)
        ).all()
        db.session.expunge_all()
        return rows


def test_signing_in_records_a_session_without_keeping_its_token(app, login, demo):
    c = login("sales1")
    (row,) = sessions_of(app, demo["sales1"])
    assert row.ended_at is None and row.last_seen_at is not None
    cookie = c.c.get_cookie("session").value
    assert row.id not in cookie  # the table holds the token's digest, never the token


def test_a_copied_cookie_stops_working_after_signing_out(app, login, demo):
    c = login("sales1")
    stolen = copy_of(app, c)
    assert signed_in(stolen)
    assert c.logout().status_code in (302, 303)
    assert not signed_in(c)
    response = stolen.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    (row,) = sessions_of(app, demo["sales1"])
    assert row.ended_at is not None


def test_changing_the_password_ends_every_other_session(app, login, demo):
    phone, laptop = login("market1"), login("market1")
    response = laptop.post(
        "/auth/password",
        {
            "current_password": "mktapp-demo-2026",
            "new_password": "a-new-long-secret",
            "confirm": "a-new-long-secret",
        },
    )
    assert response.status_code in (302, 303)
    assert signed_in(laptop)
    assert not signed_in(phone)
    fresh = Client(app.test_client())
    fresh.login("market1", "a-new-long-secret")
    assert signed_in(fresh)


def test_a_weak_new_password_is_refused_next_to_the_field_and_ends_nothing(app, login, demo):
    phone, laptop = login("market1"), login("market1")
    for weak in ("password123", "market1-2026x", "short"):
        response = laptop.post(
            "/auth/password",
            {"current_password": "mktapp-demo-2026", "new_password": weak, "confirm": weak},
        )
        assert response.status_code == 422
        assert "new_password-error" in response.get_data(as_text=True)
    assert signed_in(phone)


def test_an_administrator_ends_all_sessions_of_a_user(app, login, demo):
    user, other = login("service2"), login("service2")
    admin = login("admin")
    profile = admin.get(f"/org/users/{demo['service2']}").get_data(as_text=True)
    assert f"/org/users/{demo['service2']}/end-sessions" in profile
    page = admin.get(f"/org/users/{demo['service2']}/end-sessions")
    assert page.status_code == 200 and ": 2" in page.get_data(as_text=True).replace("：", ": ")
    assert admin.post(f"/org/users/{demo['service2']}/end-sessions", csrf=False).status_code == 400
    assert signed_in(user)
    response = admin.post(f"/org/users/{demo['service2']}/end-sessions")
    assert response.status_code == 303
    assert not signed_in(user) and not signed_in(other)
    assert signed_in(admin)
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "sessions"))
        assert entry.record_type == "User" and entry.record_id == demo["service2"]
        assert entry.actor_id == demo["admin"]


def test_ending_sessions_is_for_administrators_only(login, demo):
    c = login("sales1")
    assert c.get(f"/org/users/{demo['sales2']}/end-sessions").status_code == 403
    assert c.post(f"/org/users/{demo['sales2']}/end-sessions").status_code == 403
    assert f"/org/users/{demo['sales2']}/end-sessions" not in c.get(
        f"/org/users/{demo['sales2']}"
    ).get_data(as_text=True)


def test_a_password_reset_by_the_administrator_ends_the_users_sessions(app, login, demo):
    user = login("service2")
    admin = login("admin")
    response = admin.post(
        f"/org/users/{demo['service2']}/reset-password",
        {"password": "newsecret-2026", "confirm": "newsecret-2026"},
    )
    assert response.status_code == 303
    assert not signed_in(user)
    assert signed_in(admin)


def test_an_idle_session_ends_on_the_server_too(app, login, demo):
    c = login("finance1")
    assert signed_in(c)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == demo["finance1"])
            .values(last_seen_at=utcnow() - idle - timedelta(minutes=2))
        )
        db.session.commit()
    assert not signed_in(c)
    (row,) = sessions_of(app, demo["finance1"])
    assert row.ended_at is not None


def test_the_cookie_still_lapses_after_the_idle_time(client, demo):
    response = client.login("manager")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Expires=" in cookie
    assert client.application.config["PERMANENT_SESSION_LIFETIME"] == timedelta(
        minutes=client.application.config["SESSION_IDLE_MINUTES"]
    )


def test_last_seen_is_written_at_most_once_a_minute(app, login, demo):
    c = login("sales2")
    (row,) = sessions_of(app, demo["sales2"])
    first = row.last_seen_at
    assert signed_in(c) and signed_in(c)
    (row,) = sessions_of(app, demo["sales2"])
    assert row.last_seen_at == first  # within the minute: not written again
    earlier = utcnow() - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == demo["sales2"])
            .values(last_seen_at=earlier)
        )
        db.session.commit()
    assert signed_in(c)
    (row,) = sessions_of(app, demo["sales2"])
    assert row.last_seen_at > earlier + timedelta(minutes=4)


def test_a_deactivated_users_sessions_end(app, login, demo):
    user = login("sales3")
    admin = login("admin")
    assert admin.post(f"/org/users/{demo['sales3']}/deactivate").status_code == 303
    assert not signed_in(user)
    with app.app_context():
        db.session.get(User, demo["sales3"]).active = True
        db.session.commit()
    # Reactivated, the old session does not come back: the person signs in again.
    assert not signed_in(user)
    (row,) = sessions_of(app, demo["sales3"])
    assert row.ended_at is not None
