"""Browser tests: a live server on its own database with the demo data, and one Chromium.

The server is werkzeug's, in a thread, on 127.0.0.1 and a free port. Its database is
a SQLite file in a temporary folder, or, when MKTAPP_TEST_DATABASE_URL names
PostgreSQL, a database of its own on that server (scratch_database): the suite's
test database is never touched.

When Chromium or Playwright cannot start, the tests are skipped with the reason
shown in the summary; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from mktapp import create_app
from mktapp.config import TestConfig as AppTestConfig
from mktapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MKTAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "build" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

DEMO_USERS = (
    "admin",
    "manager",
    "market1",
    "market2",
    "sales1",
    "sales2",
    "sales3",
    "service1",
    "service2",
    "finance1",
    "boss",
)
DEMO_PASSWORD = "demo1234"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def cannot_run(reason: str):
    """Skip with a visible reason; under CI=true a browser test that cannot run fails."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, scratch_database):
    """The app with the demo data loaded, served on http://127.0.0.1:<free port>."""
    from flask_migrate import upgrade

    from mktapp.cli import seed_demo_data

    kind = (
        "postgresql"
        if os.environ.get("MKTAPP_TEST_DATABASE_URL", "").startswith("postgresql")
        else "sqlite"
    )
    url = scratch_database("e2e", kind)
    instance = tmp_path_factory.mktemp("e2e-instance")
    app = create_app(AppTestConfig(str(instance), database_url=url))
    with app.app_context():
        upgrade()
        seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
        db.session.remove()
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


class PageWatch:
    """Everything a page did wrong: console errors, page errors, failed or foreign requests."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.problems: list[str] = []

    def attach(self, context) -> None:
        # Requests to any other host are recorded and never leave the machine.
        local = re.escape(self.base)
        context.route(re.compile(rf"^(?!{local}/)(?!data:)(?!blob:)"), self._foreign)
        context.on("page", self._watch_page)

    def _foreign(self, route):
        self.problems.append(f"request to another host: {route.request.url}")
        route.abort()

    def _watch_page(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            # Cancelled: by the next navigation (a favicon still loading), or by the
            # route above, which has recorded a foreign request already.
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def take(self) -> list[str]:
        out, self.problems = self.problems, []
        return out


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


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form like a person would."""
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("#login_form button[type=submit]").click()


def run_axe(page, axe_source: str) -> list[dict]:
    """axe-core's violations of impact serious or critical on the current page."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                    summary: n.failureSummary}))
            }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"      at {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def page_slug(path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path.split("?")[0]).strip("-")
    return slug or "workbench"
