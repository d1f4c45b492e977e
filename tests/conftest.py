"""Shared fixtures: a frozen clock, one app per test session, two databases made by
migrations, and every test inside a transaction that is rolled back at its end.

- The clock: the whole session runs on a frozen date (MKTAPP_TEST_TODAY, an ISO date
  or date-time in the company's zone; default TEST_TODAY below) through time-machine.
  Time of day ticks on from there. Nothing reads the real clock.
- The databases: "blank" (the schema only) and "demo" (the demo company, seeded once
  per session as of the frozen day). SQLite files in a temporary folder, or, when
  MKTAPP_TEST_DATABASE_URL names PostgreSQL, databases of their own on that server
  (one pair per xdist worker).
- A test that uses `demo` (or `login`) runs on the demo database, any other test that
  uses `app` on the blank one; either way inside a transaction (every commit of the
  app is a SAVEPOINT) that is rolled back at the end: tests never see each other's
  writes, whatever their order.
- A test marked `commits` (threads racing on real commits) runs on the blank database
  outside that transaction: its `demo` is seeded for it, and the tables are emptied
  after it.
- At the end of the session the demo database must hold exactly what the seeding
  left, and the blank one nothing: a test that leaked rows fails the suite.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url

from mktapp import create_app
from mktapp.config import TestConfig
from mktapp.core import clock
from mktapp.extensions import db

SAVEPOINT_RE = re.compile(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")

# The day the suite runs on unless MKTAPP_TEST_TODAY says otherwise (.ci/run sets one
# run to a 1 January). A Monday in December: year-end budgets, a week of working days.
TEST_TODAY = "2026-12-07T10:00"
ZONE = ZoneInfo(clock.DEFAULT_TIMEZONE)


def frozen_moment() -> datetime:
    value = os.environ.get("MKTAPP_TEST_TODAY") or TEST_TODAY
    moment = datetime.fromisoformat(value)
    if not isinstance(moment, datetime) or len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value[:10]), time(10, 0))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZONE)
    return moment


_traveller = None


def pytest_configure(config):
    """Freeze the clock before anything is imported or collected (module-level dates too)."""
    global _traveller
    _traveller = time_machine.travel(frozen_moment(), tick=True)
    _traveller.start()


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


QUICK_LEAD = 250  # quick tests a worker runs before its browser tests (about 12 seconds)
BROWSER_TEST_SECONDS = 5  # a browser test without @pytest.mark.slow(seconds)


def _weight(item) -> float:
    mark = item.get_closest_marker("slow")
    return float(mark.args[0]) if mark and mark.args else BROWSER_TEST_SECONDS


def _deal(browser: list, workers: int) -> list[list]:
    """The browser tests dealt so that each worker has about as many seconds of them, the
    longest first (a long flow started last keeps one core busy while the other waits)."""
    hands: list[list] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for item in sorted(browser, key=_weight, reverse=True):
        k = loads.index(min(loads))
        hands[k].append(item)
        loads[k] += _weight(item)
    return hands


def pytest_collection_modifyitems(config, items):
    """With several workers, each works on its share of the browser tests, which take
    most of the time: xdist hands each worker a contiguous slice of this list, so the
    browser tests are dealt out near the head of each slice. The first worker starts on
    them at once (it seeds the browser tests' demo); the others first run a few hundred
    quick tests, by when that demo is there to copy."""
    workers = getattr(config, "workerinput", {}).get("workercount", 0)
    if workers < 2:
        return
    browser = [item for item in items if "/e2e/" in item.path.as_posix()]
    rest = [item for item in items if "/e2e/" not in item.path.as_posix()]
    hands = _deal(browser, workers)
    ordered, start = [], 0
    for k, hand in enumerate(hands):
        size = len(items) // workers + (1 if k < len(items) % workers else 0)
        take = max(size - len(hand), 0)
        lead = 0 if k == 0 else min(QUICK_LEAD, take)
        ordered += rest[start : start + lead] + hand + rest[start + lead : start + take]
        start += take
    ordered += rest[start:]
    items[:] = ordered


def pytest_report_header(config):
    return f"mktapp: the clock is frozen at {frozen_moment().isoformat()} (MKTAPP_TEST_TODAY)"


@pytest.fixture(scope="session")
def frozen_clock() -> date:
    """The frozen day the session runs on (the time of day ticks on from 10:00)."""
    return frozen_moment().date()


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


def _server_engine(url):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _create_pg_database(url, template: str | None = None) -> None:
    engine = _server_engine(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        extra = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{url.database}"{extra}'))
    engine.dispose()


def _drop_pg_database(url) -> None:
    engine = _server_engine(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def _transactional_sqlite(engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy run it
    (the recipe in SQLAlchemy's SQLite dialect documentation)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    engine.dispose()


def _engine(app, url: str):
    engine = create_engine(url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    _transactional_sqlite(engine)
    return engine


class Databases:
    """The session's two databases and the app's default engine slot."""

    def __init__(self, app, plain, blank, demo_url):
        self.app = app
        self.plain = plain  # the app's engine on the blank database, as the app made it
        self.blank = blank
        self.demo_url = demo_url
        self._demo = None
        self.demo_counts: dict[str, int] | None = None

    def use(self, bind) -> None:
        """Point the app's default engine (what db.session and db.engine use) at `bind`."""
        with self.app.app_context():
            db.engines[None] = bind  # type: ignore[index]  (the app's own mapping)

    @property
    def demo(self):
        """The demo database, seeded on first use (once per session and worker)."""
        if self._demo is None:
            from mktapp.cli import seed_demo_data

            engine = _engine(self.app, self.demo_url)
            self.use(engine)
            try:
                with self.app.app_context():
                    seed_demo_data(self.app.config["PASSWORD_HASH_METHOD"])
                    db.session.remove()
            finally:
                self.use(self.plain)
            self._demo = engine
            self.demo_counts = row_counts(engine)
        return self._demo

    def close(self) -> None:
        for engine in (self._demo, self.blank, self.plain):
            if engine is not None:
                engine.dispose()


def row_counts(engine) -> dict[str, int]:
    counts = {}
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar()
    return counts


@pytest.fixture(scope="session")
def databases(tmp_path_factory, frozen_clock):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["MKTAPP_INSTANCE_PATH"] = str(instance)
    base = os.environ.get("MKTAPP_TEST_DATABASE_URL", "")
    pg = base.startswith("postgresql")
    if pg:
        url = make_url(base)
        blank_url = url.set(database=f"{url.database}{_worker_suffix()}")
        demo_url = url.set(database=f"{url.database}_demo{_worker_suffix()}")
        if blank_url.database != url.database:
            _create_pg_database(blank_url)
        app = create_app(TestConfig(str(instance), blank_url.render_as_string(False)))
    else:
        app = create_app(TestConfig(str(instance)))
    with app.app_context():
        blank = db.engine
        reset_schema(blank)
        from flask_migrate import upgrade

        upgrade(directory=MIGRATIONS)
        db.session.remove()
        # The demo database starts as a copy of the migrated schema.
        if pg:
            blank.dispose()
            _create_pg_database(demo_url, template=blank_url.database)
            demo = demo_url.render_as_string(False)
        else:
            blank.dispose()
            path = Path(blank.url.database)
            copy = path.with_name("demo.db")
            shutil.copyfile(path, copy)
            demo = "sqlite:///" + str(copy)
    # The app's own engine stays as the app makes it (tests marked `commits` use it);
    # the per-test transactions run on engines of their own.
    blank_url = blank.url.render_as_string(False)
    dbs = Databases(app, blank, _engine(app, blank_url), demo)
    yield dbs
    problems = []
    if dbs.demo_counts is not None:
        after = row_counts(dbs.demo)
        problems += [
            f"demo.{t}: {dbs.demo_counts[t]} rows after seeding, {n} at the end"
            for t, n in after.items()
            if n != dbs.demo_counts[t]
        ]
    problems += [f"blank.{t}: {n} rows left" for t, n in row_counts(blank).items() if n]
    dbs.close()
    if pg:
        _drop_pg_database(demo_url)
    assert not problems, "a test left rows behind (it wrote outside its transaction):\n" + (
        "\n".join(problems)
    )


@pytest.fixture(scope="session")
def app(databases):
    return databases.app


@pytest.fixture(scope="session")
def scratch_database(tmp_path_factory):
    """scratch_database("migr", "postgresql") -> the URL of a new, empty database of its own.

    SQLite: a file in a temporary folder. PostgreSQL: a database named after the
    suite's (MKTAPP_TEST_DATABASE_URL) with the suffix, on the same server, dropped
    at the end of the session. The suite's own test databases are never touched.
    """
    created: list = []

    def _make(suffix: str, kind: str = "sqlite", template: str | None = None) -> str:
        """`template`: the URL of a database of the same kind to start as a copy of."""
        if kind == "sqlite":
            folder = tmp_path_factory.mktemp(f"db-{suffix}")
            path = folder / f"{suffix}.db"
            if template:
                shutil.copyfile(make_url(template).database, path)
            return "sqlite:///" + str(path)
        base = os.environ.get("MKTAPP_TEST_DATABASE_URL", "")
        if not base.startswith("postgresql"):
            pytest.skip("PostgreSQL: set MKTAPP_TEST_DATABASE_URL to a postgresql URL")
        url = make_url(base)
        url = url.set(database=f"{url.database}_{suffix}{_worker_suffix()}")
        _create_pg_database(url, template=make_url(template).database if template else None)
        created.append(url)
        return url.render_as_string(hide_password=False)

    yield _make
    for url in created:
        _drop_pg_database(url)


def _truncate_all(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:  # the app's own engine: pysqlite runs the PRAGMA before its BEGIN
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (table names from metadata)
                conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture(autouse=True)
def _isolated_database(request):
    """Each test that uses the app runs in a transaction rolled back at its end."""
    if "app" not in request.fixturenames:
        yield
        return
    from mktapp.core import fragments

    dbs: Databases = request.getfixturevalue("databases")
    app = dbs.app
    if request.node.get_closest_marker("commits"):
        try:
            yield
        finally:
            _truncate_all(app)
            fragments.clear()
        return
    engine = dbs.demo if "demo" in request.fixturenames else dbs.blank
    connection = engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    factory.kw["join_transaction_mode"] = "create_savepoint"
    dbs.use(connection)
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        dbs.use(dbs.plain)
        factory.kw.pop("join_transaction_mode", None)
        outer.rollback()
        connection.close()
        fragments.clear()  # rendered fragments of data that is gone


@pytest.fixture
def app_ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def demo(request, app):
    """The demo organisation (users, groups, posts ...): returns {username: user id}."""
    from mktapp.models import User

    with app.app_context():
        if request.node.get_closest_marker("commits"):
            from mktapp.cli import seed_demo_data

            seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
        ids = dict(db.session.execute(select(User.username, User.id)).all())
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

    def login(self, username: str, password: str = "mktapp-demo-2026"):
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
        # The per-test transaction turns each commit into a SAVEPOINT: not the app's work.
        if not SAVEPOINT_RE.match(statement):
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
