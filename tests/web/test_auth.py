"""Signing in and out, passwords, throttling, sessions."""

from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import AuditLog, User


def test_login_page_has_username_and_password_fields(client):
    page = client.get("/auth/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert '<label for="username"' in html


def test_demo_user_signs_in_and_reaches_the_workbench(client, demo):
    response = client.login("manager")
    assert response.headers["Location"].endswith("/")
    page = client.get("/")
    assert page.status_code == 200
    assert "王建国" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_message_next_to_field(client, demo):
    response = client.post("/auth/login", {"username": "sales1", "password": "nope"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "password-error" in html


def test_empty_login_fields_say_what_is_missing(client, demo):
    response = client.post("/auth/login", {"username": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "username-error" in html and "password-error" in html


def test_repeated_failures_slow_the_account_down_from_every_address(client, demo):
    for _ in range(5):
        client.post("/auth/login", {"username": "sales1", "password": "wrong"})
    response = client.post("/auth/login", {"username": "sales1", "password": "mktapp-demo-2026"})
    assert response.status_code == 429
    # The account waits whatever the address (behind a proxy every address is the same one,
    # and a guesser can change his) ...
    other = client.post(
        "/auth/login",
        {"username": "sales1", "password": "mktapp-demo-2026"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 429
    # ... while another account signs in from the first address.
    assert client.post(
        "/auth/login", {"username": "sales2", "password": "mktapp-demo-2026"}
    ).status_code in (302, 303)


def test_deactivated_user_cannot_sign_in(app, client, demo):
    with app.app_context():
        user = db.session.get(User, demo["sales2"])
        user.active = False
        db.session.commit()
    response = client.post("/auth/login", {"username": "sales2", "password": "mktapp-demo-2026"})
    assert response.status_code == 422
    assert "deactivated" in response.get_data(as_text=True) or "停用" in response.get_data(
        as_text=True
    )


def test_deactivated_user_is_signed_out_on_next_request(app, login):
    c = login("sales2")
    assert c.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sales2"))
        user.active = False
        db.session.commit()
    assert c.get("/").status_code == 302


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/org/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_login_without_csrf_token_is_a_clear_400(client, demo):
    response = client.post(
        "/auth/login", {"username": "manager", "password": "mktapp-demo-2026"}, csrf=False
    )
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True).lower() or "未保存" in (
        response.get_data(as_text=True)
    )


def test_logout_needs_post_and_signs_out(login):
    c = login("manager")
    assert c.get("/auth/logout").status_code == 405
    assert c.logout().status_code in (302, 303)
    assert c.get("/").status_code == 302


def test_change_password(app, login):
    c = login("market1")
    bad = c.post(
        "/auth/password",
        {"current_password": "wrong", "new_password": "newpass123", "confirm": "newpass123"},
    )
    assert bad.status_code == 422
    short = c.post(
        "/auth/password",
        {"current_password": "mktapp-demo-2026", "new_password": "short", "confirm": "short"},
    )
    assert short.status_code == 422
    ok = c.post(
        "/auth/password",
        {
            "current_password": "mktapp-demo-2026",
            "new_password": "newpass123",
            "confirm": "newpass123",
        },
    )
    assert ok.status_code in (302, 303)
    c.logout()
    c.login("market1", "newpass123")
    with app.app_context():
        # The password hash never reaches the audit log.
        for row in db.session.scalars(select(AuditLog)):
            assert "password_hash" not in row.changes


def test_session_cookie_is_httponly_and_lax(client, demo):
    response = client.login("manager")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_every_response_has_a_strict_csp(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_htmx_login_failure_returns_only_the_form(client, demo):
    response = client.post("/auth/login", {"username": "manager", "password": "x"}, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form")
    assert "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
