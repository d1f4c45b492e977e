"""Configuration from the environment (MKTAPP_*), with a test configuration.

A `.env` file beside app.py is read by create_app() before this runs, so it
can hold the same variables.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"MKTAPP_{name}", default)


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


def load_secret_key(instance_path: str) -> str:
    """The secret key: MKTAPP_SECRET_KEY, else one generated once and kept in instance/."""
    key = _env("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Written with owner-only permissions: the key signs every session.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    """Production/development settings read from MKTAPP_* variables."""

    TESTING = False
    PRODUCTION = False

    def __init__(self, instance_path: str):
        self.INSTANCE_PATH = instance_path
        self.SQLALCHEMY_DATABASE_URI = _env(
            "DATABASE_URL", "sqlite:///" + os.path.join(instance_path, "mktapp.db")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SECRET_KEY = load_secret_key(instance_path)
        self.TIMEZONE = _env("TIMEZONE", "Asia/Shanghai")
        self.PRODUCTION = _env_bool("PRODUCTION", False)
        self.HTTPS = _env_bool("HTTPS", False)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.HTTPS
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.HTTPS
        # Idle timeout: the session cookie is renewed on each request and
        # lapses after this many minutes without one.
        self.SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 60)
        self.PERMANENT_SESSION_LIFETIME = timedelta(minutes=self.SESSION_IDLE_MINUTES)
        self.SESSION_REFRESH_EACH_REQUEST = True
        # Failed sign-ins: an account may fail LOGIN_MAX_FAILURES times in a row from any
        # address, an address LOGIN_ADDRESS_MAX_FAILURES times on any accounts; then each
        # attempt waits LOGIN_FAILURE_WINDOW_SECONDS after the last failure, doubled with
        # every further failure, up to LOGIN_MAX_DELAY_SECONDS (a delay, never a lock).
        self.LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_ADDRESS_MAX_FAILURES = _env_int("LOGIN_ADDRESS_MAX_FAILURES", 30)
        self.LOGIN_FAILURE_WINDOW_SECONDS = _env_int("LOGIN_FAILURE_WINDOW_SECONDS", 60)
        self.LOGIN_MAX_DELAY_SECONDS = _env_int("LOGIN_MAX_DELAY_SECONDS", 900)
        # How many reverse proxies in front of the app set X-Forwarded-For and -Proto
        # (0: none; the client's address is the connection's). Read through ProxyFix.
        self.TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
        self.PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt")
        self.UPLOAD_FOLDER = _env("UPLOAD_FOLDER", os.path.join(instance_path, "uploads"))
        self.MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 20)
        # Werkzeug refuses larger bodies outright; a little headroom for the form fields.
        self.MAX_CONTENT_LENGTH = (self.MAX_UPLOAD_MB + 1) * 1024 * 1024
        self.WTF_CSRF_TIME_LIMIT = None
        self.WTF_CSRF_HEADERS = ["X-CSRFToken"]
        self.BABEL_DEFAULT_LOCALE = "zh_Hans"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.LANGUAGES = ["zh_Hans", "en"]
        self.SMTP_HOST = _env("SMTP_HOST")
        self.SMTP_PORT = _env_int("SMTP_PORT", 587)
        self.SMTP_USER = _env("SMTP_USER")
        self.SMTP_PASSWORD = _env("SMTP_PASSWORD")
        self.SMTP_FROM = _env("SMTP_FROM", "mktapp@localhost")
        self.SMTP_TLS = _env_bool("SMTP_TLS", True)
        self.NOTIFY_POLL_SECONDS = _env_int("NOTIFY_POLL_SECONDS", 60)
        self.PAGE_SIZE = _env_int("PAGE_SIZE", 25)
        # Rendered list fragments kept in memory until their data changes
        # (core/fragments.py); off only to measure what the cache saves (bench/).
        self.FRAGMENT_CACHE = _env_bool("FRAGMENT_CACHE", True)
        self.COMPANY_NAME = _env("COMPANY_NAME", "示例科技有限公司")


class TestConfig(Config):
    """Settings for the test suite: a throwaway database, fast hashing."""

    TESTING = True

    def __init__(self, instance_path: str, database_url: str | None = None):
        super().__init__(instance_path)
        self.TESTING = True
        self.PRODUCTION = False
        self.SQLALCHEMY_DATABASE_URI = database_url or os.environ.get(
            "MKTAPP_TEST_DATABASE_URL", "sqlite:///" + os.path.join(instance_path, "test.db")
        )
        self.SECRET_KEY = secrets.token_hex(16)  # a fresh random key per test run
        # scrypt is deliberately slow; the suite hashes hundreds of passwords.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        self.SERVER_NAME = None
        self.UPLOAD_FOLDER = os.path.join(instance_path, "uploads")
