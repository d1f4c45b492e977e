"""Shared fixtures: one app per test session, schema made by migrations, clean tables per test.

The database is SQLite in a temporary folder unless MKTAPP_TEST_DATABASE_URL
names another (CI runs the suite again on PostgreSQL).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text

from mktapp import create_app
from mktapp.config import TestConfig
from mktapp.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def reset_schema(engine) -> None:
    """Drop everything so that migrations start from an empty database."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = engine.url.database
        engine.dispose()
        if path and os.path.exists(path):
            os.remove(path)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["MKTAPP_INSTANCE_PATH"] = str(instance)
    app = create_app(TestConfig(str(instance)))
    with app.app_context():
        reset_schema(db.engine)
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield app


def _truncate_all(app) -> None:
    from mktapp.core import fragments

    fragments.clear()  # the rendered fragments of the data being removed
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (table names from metadata)
                conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture(scope="session")
def scratch_database(tmp_path_factory):
    """scratch_database("migr", "postgresql") -> the URL of a new, empty database of its own.

    SQLite: a file in a temporary folder. PostgreSQL: a database named after the
    suite's (MKTAPP_TEST_DATABASE_URL) with the suffix, on the same server, dropped
    at the end of the session. The suite's own test database is never touched.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    created: list = []

    def _server_engine(url):
        return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _make(suffix: str, kind: str = "sqlite") -> str:
        if kind == "sqlite":
            folder = tmp_path_factory.mktemp(f"db-{suffix}")
            return "sqlite:///" + str(folder / f"{suffix}.db")
        base = os.environ.get("MKTAPP_TEST_DATABASE_URL", "")
        if not base.startswith("postgresql"):
            pytest.skip("PostgreSQL: set MKTAPP_TEST_DATABASE_URL to a postgresql URL")
        url = make_url(base)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # one database per xdist worker
        url = url.set(database=f"{url.database}_{suffix}{'_' + worker if worker else ''}")
        engine = _server_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        engine.dispose()
        created.append(url)
        return url.render_as_string(hide_password=False)

    yield _make
    for url in created:
        engine = _server_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request, app):
    yield
    if "app" in request.fixturenames or "db_session" in request.fixturenames:
        _truncate_all(app)


@pytest.fixture
def app_ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def demo(app):
    """The demo organisation (users, groups, posts ...): returns {username: user id}."""
    from mktapp.cli import seed_demo_data

    with app.app_context():
        ctx = seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
        ids = {name: user.id for name, user in ctx["users"].items()}
        db.session.remove()
    return ids


class Client:
    """A test client that signs in and sends the CSRF token like the browser does."""

    def __init__(self, flask_client):
        self.c = flask_client
        self._token = None

    def __getattr__(self, name):
        return getattr(self.c, name)

    def token(self) -> str:
        if self._token is None:
            page = self.c.get("/auth/login").get_data(as_text=True)
            match = CSRF_RE.search(page)
            assert match, "no CSRF token on the login page"
            self._token = match.group(1)
        return self._token

    def login(self, username: str, password: str = "demo1234"):
        response = self.c.post(
            "/auth/login",
            data={"username": username, "password": password, "csrf_token": self.token()},
        )
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.c.post("/auth/logout", data={"csrf_token": self.token()})

    def post(self, url, data=None, htmx=False, headers=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
        headers = dict(headers or {})
        if htmx:
            headers.setdefault("HX-Request", "true")
        return self.c.post(url, data=data, headers=headers, **kwargs)

    def get(self, url, htmx=False, headers=None, **kwargs):
        headers = dict(headers or {})
        if htmx:
            headers.setdefault("HX-Request", "true")
            if isinstance(htmx, str):
                headers.setdefault("HX-Target", htmx)
        return self.c.get(url, headers=headers, **kwargs)


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def login(app, demo):
    """login("sales1") -> a Client signed in as that demo user."""

    def _login(username: str) -> Client:
        c = Client(app.test_client())
        c.login(username)
        return c

    return _login


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ...; q.count is the number of SQL statements run."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


TRAINING_FLOW_CALLS: list[tuple[str, int]] = []


@pytest.fixture
def training_flow(app):
    """A throwaway approval flow over training records (the engine knows no chapter).

    Department head, finance, and the executive from 10 hours up.
    """
    from mktapp.core import approvals as engine
    from mktapp.models import TrainingRecord

    TRAINING_FLOW_CALLS.clear()
    spec = engine.Flow(
        doc_type="TrainingRecord",
        model=TrainingRecord,
        label="test",
        steps=[
            engine.Step("head", "Department head", "group_leader"),
            engine.Step("finance", "Finance", "finance"),
            engine.Step("leader", "Company leader", "executive", when=lambda doc: doc.hours >= 10),
        ],
        endpoint="org.training_detail",
        id_arg="record_id",
        applicant=lambda doc: doc.owner,
        title=lambda doc: f"培训 {doc.course}",
        on_submitted=lambda doc, actor: TRAINING_FLOW_CALLS.append(("submitted", doc.id)),
        on_approved=lambda doc, actor: TRAINING_FLOW_CALLS.append(("approved", doc.id)),
        on_rejected=lambda doc, actor, reason: TRAINING_FLOW_CALLS.append(("rejected", doc.id)),
        on_withdrawn=lambda doc, actor: TRAINING_FLOW_CALLS.append(("withdrawn", doc.id)),
    )
    spec.calls = TRAINING_FLOW_CALLS
    previous = engine.FLOWS.get("TrainingRecord")
    engine.register_flow(spec)
    yield spec
    engine.FLOWS.pop("TrainingRecord", None)
    if previous is not None:
        engine.register_flow(previous)
