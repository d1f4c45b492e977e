"""Signing in and switching the language in a real browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.e2e.browser import (
    SCREENSHOTS,
    SIDEBAR_LINKS,
    describe_violations,
    run_axe,
    sign_in,
    snap,
)


def test_wrong_password_shows_message_at_field_then_sign_in_and_switch_language(
    new_context, axe_source
):
    context, watch = new_context()
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/auth/login")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    violations = run_axe(page, axe_source)
    assert not violations, "login page:\n" + describe_violations(violations)

    sign_in(page, "market2", "not-the-password")
    error = page.locator("#password-error")
    error.wait_for()
    assert error.inner_text().strip()
    password = page.locator("input[name=password]")
    assert password.get_attribute("aria-invalid") == "true"
    assert "password-error" in (password.get_attribute("aria-describedby") or "")
    assert "/auth/login" in page.url
    # Focus lands on the field to correct.
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'password'",
        timeout=3000,
    )
    violations = run_axe(page, axe_source)
    assert not violations, "login page with an error:\n" + describe_violations(violations)
    snap(page, "login-wrong-password.png")
    # The refused sign-in answered 422; that is expected, anything else is not.
    expected = {
        f"HTTP 422: POST {page.url.split('/auth/')[0]}/auth/login",
        "console error: Failed to load resource: the server responded with a status of 422"
        " (UNPROCESSABLE ENTITY)",
    }
    problems = [p for p in watch.take() if p not in expected]
    assert not problems, "\n".join(problems)

    page.locator("input[name=password]").fill("mktapp-demo-2026")
    page.locator("#login_form button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    assert page.locator(SIDEBAR_LINKS).count() > 0

    # Boosted navigation through the sidebar keeps the page whole.
    links = page.locator(SIDEBAR_LINKS)
    target = urlsplit(links.last.get_attribute("href")).path
    links.last.click()
    page.wait_for_url(lambda url: urlsplit(url).path == target)
    assert page.locator(SIDEBAR_LINKS).count() > 0
    assert page.locator("main#main").count() == 1

    page.locator("button[name=locale][value=en]").first.click()
    # The switch reloads the page: wait for the new document, not on the one being replaced.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state()
    assert (
        page.locator("button[name=locale][value=en]").first.get_attribute("aria-pressed") == "true"
    )
    snap(page, "market2-english.png", full_page=True)
    violations = run_axe(page, axe_source)
    assert not violations, "English page:\n" + describe_violations(violations)

    page.locator("button[name=locale][value=zh_Hans]").first.click()
    # The switch reloads the page: wait for the new document, not on the one being replaced.
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.wait_for_load_state()

    # On a phone's width the sidebar hides behind a menu toggle reachable by keyboard.
    page.set_viewport_size({"width": 390, "height": 844})
    sidebar = page.locator("aside.sidebar")
    assert sidebar.bounding_box()["x"] < 0
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the menu toggle
    assert page.evaluate("document.activeElement.id") == "nav-toggle"
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('aside.sidebar').getBoundingClientRect().x >= 0"
    )
    snap(page, "market2-phone-menu.png")
    violations = run_axe(page, axe_source)
    assert not violations, "phone width:\n" + describe_violations(violations)

    page.wait_for_load_state("networkidle")
    problems = watch.take()
    assert not problems, "\n".join(problems)


def test_page_watch_sees_csp_violations_and_foreign_requests(new_context):
    """The watcher the page tests rely on does catch what they assert is absent."""
    context, watch = new_context()
    page = context.new_page()
    page.goto("/auth/login")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.x = 1'; document.head.append(s); }"""
    )
    page.wait_for_timeout(100)
    try:
        page.goto("http://example.com/")
    except Exception:  # noqa: BLE001  (the host does not resolve: ERR_NAME_NOT_RESOLVED)
        pass
    problems = watch.take()
    assert any("Content Security Policy" in p for p in problems), problems
    assert any("request to another host: http://example.com/" in p for p in problems), problems
