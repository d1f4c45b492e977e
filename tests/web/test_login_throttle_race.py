"""Throttling that cannot be raced or turned against users: failed sign-ins are limited
per account (from any address) and per address (on any account); past the limit the
account waits a delay that doubles with each further failure, up to a cap, never a lock;
twenty guesses sent at once get no more password checks than the limit; behind a
reverse proxy the client's address is the one the proxy forwards."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from werkzeug.middleware.proxy_fix import ProxyFix

from mktapp.auth import services as auth
from mktapp.extensions import db
from mktapp.models import LoginThrottle, utcnow
from tests.conftest import Client

GOOD = "mktapp-demo-2026"


def attempt(c, username, password, address="127.0.0.1"):
    return c.post(
        "/auth/login",
        {"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def age_failures(app, key: str, seconds: int) -> None:
    """Move the last failure of `key` into the past (instead of waiting)."""
    with app.app_context():
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(last_failure_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_past_the_limit_the_wait_doubles_with_each_failure(app, client, demo):
    base = app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    for _ in range(5):
        assert attempt(client, "sales1", "wrong") == 422
    assert attempt(client, "sales1", GOOD) == 429
    age_failures(app, "user:sales1", base + 1)
    assert attempt(client, "sales1", "wrong") == 422  # the first wait is over: checked
    age_failures(app, "user:sales1", base + 1)
    assert attempt(client, "sales1", GOOD) == 429  # now twice as long
    age_failures(app, "user:sales1", 2 * base + 1)
    assert attempt(client, "sales1", GOOD) in (302, 303)
    # A right password starts the account afresh.
    with app.app_context():
        assert db.session.get(LoginThrottle, "user:sales1") is None


def test_the_wait_is_capped_so_nobody_is_locked_out_for_long(app, client, demo):
    cap = app.config["LOGIN_MAX_DELAY_SECONDS"]
    with app.app_context():
        db.session.add(LoginThrottle(key="user:sales2", failures=60, last_failure_at=utcnow()))
        db.session.commit()
    response = client.post("/auth/login", {"username": "sales2", "password": GOOD})
    assert response.status_code == 429
    age_failures(app, "user:sales2", cap + 1)
    assert attempt(client, "sales2", GOOD) in (302, 303)


def test_the_message_says_how_long_to_wait(app, client, demo):
    for _ in range(5):
        attempt(client, "manager", "wrong")
    response = client.post("/auth/login", {"username": "manager", "password": GOOD})
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and "password-error" in html
    assert str(app.config["LOGIN_FAILURE_WINDOW_SECONDS"]) in html


def test_one_address_guessing_at_many_accounts_is_slowed_down(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 8)
    names = ["sales1", "sales2", "sales3", "market1", "market2", "service1", "service2", "finance1"]
    for name in names:
        assert attempt(client, name, "wrong", "10.9.9.9") == 422
    # That address waits, whatever the account ...
    assert attempt(client, "boss", GOOD, "10.9.9.9") == 429
    # ... the accounts themselves do not (one failure each), nor do other addresses.
    assert attempt(client, "boss", GOOD, "10.9.9.10") in (302, 303)
    other = Client(app.test_client())
    assert attempt(other, "sales1", GOOD, "10.9.9.11") in (302, 303)


def test_signing_in_to_ones_own_account_does_not_clear_an_addresss_guesses(app, client, demo):
    for name in ("sales1", "sales2", "sales3"):
        attempt(client, name, "wrong", "10.8.8.8")
    assert attempt(client, "manager", GOOD, "10.8.8.8") in (302, 303)
    with app.app_context():
        assert db.session.get(LoginThrottle, "addr:10.8.8.8").failures == 3


def test_behind_a_proxy_the_forwarded_address_counts(app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 3)
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    c = Client(app.test_client())
    c.token()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}  # every request comes from the proxy
    for name in ("sales1", "sales2", "sales3"):
        response = c.post(
            "/auth/login",
            {"username": name, "password": "wrong"},
            environ_base=proxy,
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert response.status_code == 422
    guesser = c.post(
        "/auth/login",
        {"username": "boss", "password": GOOD},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert guesser.status_code == 429
    colleague = c.post(
        "/auth/login",
        {"username": "boss", "password": GOOD},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    assert colleague.status_code in (302, 303)


def test_the_number_of_trusted_proxies_is_a_setting(tmp_path, monkeypatch):
    from mktapp import create_app
    from mktapp.config import Config, TestConfig

    monkeypatch.setenv("MKTAPP_TRUSTED_PROXIES", "2")
    assert Config(str(tmp_path)).TRUSTED_PROXIES == 2
    monkeypatch.delenv("MKTAPP_TRUSTED_PROXIES")
    assert Config(str(tmp_path)).TRUSTED_PROXIES == 0
    config = TestConfig(str(tmp_path), database_url="sqlite:///" + str(tmp_path / "p.db"))
    config.TRUSTED_PROXIES = 1
    wrapped = create_app(config).wsgi_app
    assert isinstance(wrapped, ProxyFix) and wrapped.x_for == 1
    config.TRUSTED_PROXIES = 0
    assert not isinstance(create_app(config).wsgi_app, ProxyFix)


@pytest.mark.commits
def test_twenty_wrong_passwords_at_once_get_no_more_checks_than_the_limit(app, monkeypatch):
    """Twenty browsers send a wrong password for one account at the same instant."""
    limit = app.config["LOGIN_MAX_FAILURES"]
    with app.app_context():
        auth.ensure_roles()
        auth.create_user(
            username="target",
            display_name="目标",
            password="the-right-password",
            hash_method=app.config["PASSWORD_HASH_METHOD"],
            roles=["sales_rep"],
        )
        db.session.commit()
        db.session.remove()
    checked = []
    lock = threading.Lock()
    real_check = auth.check_password_hash

    def counting_check(hashed, password):
        with lock:
            checked.append(password)
        threading.Event().wait(0.02)  # a real hash takes a while: widen the window
        return real_check(hashed, password)

    monkeypatch.setattr(auth, "check_password_hash", counting_check)
    clients = [Client(app.test_client()) for _ in range(20)]
    for c in clients:
        c.token()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(c: Client, i: int) -> None:
        barrier.wait()
        response = c.post(
            "/auth/login",
            {"username": "target", "password": f"guess-{i}"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(statuses) == 20, statuses
    assert len(checked) == limit, (len(checked), sorted(statuses))  # at most the limit
    assert statuses.count(422) == len(checked)
    assert statuses.count(429) == 20 - len(checked)
    with app.app_context():
        row = db.session.get(LoginThrottle, "user:target")
        assert row.failures == len(checked)
        db.session.remove()
