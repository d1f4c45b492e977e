"""Browser tests: a live server on its own database with the demo data, and one Chromium.

The server is werkzeug's, in a thread, on 127.0.0.1 and a free port. Its database is
a SQLite file in a temporary folder, or, when MKTAPP_TEST_DATABASE_URL names
PostgreSQL, a database of its own on that server (scratch_database): the suite's
test database is never touched.

When Chromium or Playwright cannot start, the tests are skipped with the reason
shown in the summary; under CI=true they fail instead.
"""

from __future__ import annotations

import fcntl
import os
from datetime import timedelta
from pathlib import Path

import pytest

from mktapp import create_app
from mktapp.config import TestConfig as AppTestConfig
from mktapp.extensions import db
from tests.e2e.browser import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    LiveServer,
    PageWatch,
    cannot_run,
)


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _configure(app) -> None:
    app.config["DEMO_CLAIMS"] = True  # the full demo, 200 expense claims included
    app.config["DEMO_SALES"] = True  # customers, pipeline and 80 contracts
    app.config["DEMO_RESEARCH"] = True  # and 300 satisfaction survey responses
    app.config["DEMO_BRAND"] = True  # twelve market activities, the logo and VI files
    app.config["DEMO_SERVICE"] = True  # 150 after-sales tickets, the technical department
    # The server runs on the suite's frozen day, Chromium on the real one: a cookie that
    # expires an hour after the frozen moment would be stale to the browser already.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=3650)


def _copy_of_seeded_demo(shared: Path, kind: str, scratch_database) -> str:
    """The URL of this worker's copy of a database with the full demo, seeded once per
    run (the first worker to come seeds it; the others wait on the lock, then copy it;
    copies are made one at a time, as PostgreSQL wants of a template)."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from mktapp.cli import seed_demo_data
    from tests.conftest import _create_pg_database

    if kind == "sqlite":
        url = "sqlite:///" + str(shared / "e2e-template.db")
    else:
        base = make_url(os.environ["MKTAPP_TEST_DATABASE_URL"])
        url = base.set(database=f"{base.database}_e2e_template").render_as_string(False)
    with open(shared / "e2e-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = shared / "e2e-template.ready"
        if not ready.exists():
            if kind == "postgresql":
                _create_pg_database(make_url(url))
            app = create_app(AppTestConfig(str(shared / "e2e-instance"), database_url=url))
            _configure(app)
            with app.app_context():
                upgrade()
                seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
                db.session.remove()
                db.engine.dispose()
            ready.touch()
        return scratch_database("e2e", kind, template=url)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, scratch_database):
    """The app with the full demo data, served on http://127.0.0.1:<free port>.

    Each worker serves a copy of its own; the demo is seeded once per run. The
    uploaded files (logo, VI manual, frozen PDFs) are shared: attachments have random
    names, so the servers never write over each other's.
    """
    kind = (
        "postgresql"
        if os.environ.get("MKTAPP_TEST_DATABASE_URL", "").startswith("postgresql")
        else "sqlite"
    )
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    url = _copy_of_seeded_demo(shared, kind, scratch_database)
    app = create_app(AppTestConfig(str(shared / "e2e-instance"), database_url=url))
    _configure(app)
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        cannot_run(f"{CHROMIUM} not found (install Debian's chromium: make test-setup)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        cannot_run(f"the playwright package is not installed ({error})")
    try:
        pw = sync_playwright().start()
    except Exception as error:  # noqa: BLE001
        cannot_run(f"Playwright could not start: {error}")
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # noqa: BLE001
        pw.stop()
        cannot_run(f"Chromium could not start: {str(error).splitlines()[0]}")
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        cannot_run(f"{AXE.relative_to(ROOT)} is missing (run `make test-setup` to fetch axe-core)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def new_context(browser, live_server):
    """new_context() -> (context, watch): a fresh browser context (no cookies) on the live server."""
    made = []

    def _make(locale: str = "zh-CN"):
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(10_000)
        watch = PageWatch(live_server.url)
        watch.attach(context)
        made.append(context)
        return context, watch

    yield _make
    for context in made:
        context.close()
