"""Configuration from the environment and the command-line tasks."""

import os

from sqlalchemy import func, select

from mktapp.config import Config
from mktapp.extensions import db
from mktapp.models import User


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("MKTAPP_SECRET_KEY", raising=False)
    first = Config(str(tmp_path)).SECRET_KEY
    second = Config(str(tmp_path)).SECRET_KEY
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MKTAPP_SECRET_KEY", "from-env")
    assert Config(str(tmp_path)).SECRET_KEY == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_defaults_and_https(tmp_path, monkeypatch):
    monkeypatch.delenv("MKTAPP_DATABASE_URL", raising=False)
    monkeypatch.delenv("MKTAPP_HTTPS", raising=False)
    cfg = Config(str(tmp_path))
    assert cfg.SQLALCHEMY_DATABASE_URI == "sqlite:///" + os.path.join(str(tmp_path), "mktapp.db")
    assert cfg.TIMEZONE == "Asia/Shanghai"
    assert cfg.SESSION_COOKIE_SECURE is False
    monkeypatch.setenv("MKTAPP_HTTPS", "1")
    monkeypatch.setenv("MKTAPP_SESSION_IDLE_MINUTES", "15")
    cfg = Config(str(tmp_path))
    assert cfg.SESSION_COOKIE_SECURE is True
    assert cfg.PERMANENT_SESSION_LIFETIME.total_seconds() == 15 * 60


def test_seed_demo_refuses_a_non_empty_database(app, demo):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "not empty" in result.output


def test_seed_demo_if_empty_is_a_quiet_no_op(app, demo):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == len(demo)


def test_seed_demo_refuses_production(app):
    app.config["PRODUCTION"] = True
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["PRODUCTION"] = False
    assert result.exit_code != 0
    assert "production" in result.output


def test_seed_demo_loads_the_eleven_accounts(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = set(db.session.scalars(select(User.username)))
    assert names == {
        "admin", "manager", "market1", "market2", "sales1", "sales2", "sales3",
        "service1", "service2", "finance1", "boss",
    }  # fmt: skip


def test_create_user_makes_the_first_administrator(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "root", "--name", "管理员", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    client.login("root", "s3cret-pass")
    again = app.test_cli_runner().invoke(
        args=["create-user", "--username", "ROOT", "--name", "x", "--password", "s3cret-pass"]
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_idle_session_expires(app, login):
    c = login("manager")
    cookie = c.c.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
