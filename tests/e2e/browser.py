"""Helpers for the browser tests: where things are, a live server, a page watcher, axe-core."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

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
    # No host but the test server's resolves: a request off 127.0.0.1 fails at once in
    # the browser (PageWatch records it) and never reaches the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
AXE = ROOT / "build" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# The sidebar's links (a page may have an <aside> of its own).
SIDEBAR_LINKS = "aside.sidebar nav a"

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
DEMO_PASSWORD = "mktapp-demo-2026"
# The browser tests' screen (conftest's new_context) and a phone's (issue 11).
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


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


class PageWatch:
    """Everything a page did wrong: console errors, page errors, failed or foreign requests."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.problems: list[str] = []

    def attach(self, context) -> None:
        # Requests to any other host are recorded here, and never leave the machine:
        # Chromium resolves no host but 127.0.0.1 (CHROMIUM_ARGS). Not a context.route():
        # routing turns the browser's HTTP cache off and passes every request through
        # Playwright, which made each page load fetch the stylesheet and scripts again.
        context.on("request", self._request)
        context.on("page", self._watch_page)

    def _foreign(self, url: str) -> bool:
        """A request over the network to anywhere but the test server (not data:, blob:,
        or the browser's own chrome-extension: PDF viewer)."""
        return url.split(":", 1)[0] in ("http", "https", "ws", "wss") and not url.startswith(
            self.base + "/"
        )

    def _request(self, request) -> None:
        if self._foreign(request.url):
            self.problems.append(f"request to another host: {request.url}")

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
            # Cancelled by the next navigation (a favicon still loading).
            return
        if self._foreign(request.url):
            return  # recorded as a request to another host already
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def take(self) -> list[str]:
        out, self.problems = self.problems, []
        return out


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form like a person would."""
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("#login_form button[type=submit]").click()


def htmx_settled(page) -> None:
    """Wait until htmx has finished its swaps: new content carries `htmx-added` until the
    settle step (20 ms later) processes it; before that its hx-* attributes are not live
    yet, so a change made by a test that fast would be lost (a person is never that fast)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-added, .htmx-settling, .htmx-swapping, .htmx-request')"
    )


def snap(page, name: str, **options) -> None:
    """A screenshot in test-artifacts/screenshots/, for people to look at (no test reads
    it). Taken unless MKTAPP_SCREENSHOTS=0: CI sets that, nobody looks at its copies,
    and a full-page screenshot costs a tenth of a second or more."""
    if os.environ.get("MKTAPP_SCREENSHOTS", "1") == "0":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **options)


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


def page_width(page) -> int:
    """How wide the document is: wider than the viewport means the page scrolls sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def sticking_out(page, limit: int = 5) -> list[str]:
    """The innermost elements whose right edge is past the viewport, to say what widens a
    page (tag, id, classes, right edge in px)."""
    return page.evaluate(
        """(limit) => {
            const edge = document.documentElement.clientWidth + 1, out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const box = el.getBoundingClientRect();
                if (box.right <= edge || !box.width) continue;
                if ([...el.children].some(c => c.getBoundingClientRect().right > edge)) continue;
                const cls = typeof el.className === 'string' && el.className.trim()
                    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
                out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} (${Math.round(box.right)} px)`);
                if (out.length >= limit) break;
            }
            return out;
        }""",
        limit,
    )


def drag(page, source, target) -> None:
    """Drag `source` onto `target` with the mouse, in small steps as a hand does (a single
    jump starts the drag wherever the pointer lands, not where it was pressed)."""
    start, end = source.bounding_box(), target.bounding_box()
    x, y = start["x"] + 16, start["y"] + 10
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 12, y + 8, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + min(30, end["height"] / 2), steps=10)
    page.mouse.up()


def pick(page, field_id: str, nth: int = 0, text: str = "") -> str:
    """Choose a record in a searchable picker (core/pickers) as a person does: click the box
    (its first options come), type `text` if given and wait for its options, click the
    nth one. Returns the chosen option's label; the box shows it once the choice is made
    (and whatever the choice reloads has settled)."""
    from urllib.parse import unquote

    from playwright.sync_api import expect

    box = page.locator(f"#{field_id}")
    listbox = page.locator(f"#{field_id}-list")
    with page.expect_response(lambda r: "/pick/" in r.url):
        box.click()
    if text:
        with page.expect_response(
            lambda r: "/pick/" in r.url and unquote(r.url).endswith(f"-q={text}")
        ):
            box.press_sequentially(text, delay=40)
    option = listbox.get_by_role("option").nth(nth)
    expect(option).to_be_visible()
    label = option.get_attribute("data-label") or ""
    option.click()
    htmx_settled(page)
    expect(page.locator(f"#{field_id}")).to_have_value(label)
    return label


def phone_list_problems(page, limit: int = 5) -> list[str]:
    """On a phone, every list table (a table.data with a header row and no row headers) is
    stacked into cards by static/js/app.js, and nothing to click in it is off the screen."""
    return page.evaluate(
        """(limit) => {
            const edge = document.documentElement.clientWidth + 1, out = [];
            const name = (el) => el.tagName.toLowerCase() +
                (typeof el.className === 'string' && el.className.trim()
                    ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
            for (const table of document.querySelectorAll('main table.data')) {
                if (!table.tHead || table.classList.contains('stack') ||
                    table.classList.contains('visually-hidden') ||
                    table.hasAttribute('data-no-stack') ||
                    table.querySelector(':scope > tbody > tr > th') ||
                    !table.getClientRects().length) continue;
                if (!table.classList.contains('stackable')) {
                    out.push(`list not stacked into cards: ${name(table)}`);
                    continue;
                }
                for (const el of table.querySelectorAll('a, button, select, input, textarea, summary')) {
                    const box = el.getBoundingClientRect();
                    if (box.width && box.right > edge) {
                        const text = el.textContent.trim().slice(0, 30);
                        out.push(`off the screen in ${name(table)}: ${name(el)} "${text}" (${Math.round(box.right)} px)`);
                    }
                }
            }
            return out.slice(0, limit);
        }""",
        limit,
    )
