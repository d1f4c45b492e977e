"""Every demo user signs in and opens every page of their sidebar in Chromium: no console
error, no CSP violation, no failed request, no request off 127.0.0.1, and no serious or
critical axe-core finding. Then, on the same page narrowed to a phone's 390 px (no second
load), the document is no wider than the screen (issue 11): wide tables scroll in their
own box, list tables become cards. Screenshots go to test-artifacts/screenshots/
<user>-<page>.png and <user>-<page>-390.png.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import (
    DEMO_USERS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    SIDEBAR_LINKS,
    describe_violations,
    page_slug,
    page_width,
    phone_list_problems,
    run_axe,
    sign_in,
    snap,
    sticking_out,
)

# About how many seconds each user's round takes (more pages, longer lists: longer), so
# that the workers are dealt even shares (tests/conftest.py _deal).
SECONDS = {"admin": 9, "manager": 28, "boss": 22, "market1": 21, "market2": 20, "sales3": 20}


@pytest.mark.parametrize(
    "username",
    [pytest.param(name, marks=pytest.mark.slow(SECONDS.get(name, 17))) for name in DEMO_USERS],
)
def test_demo_user_opens_every_sidebar_page_cleanly(username, new_context, axe_source):
    context, watch = new_context()
    # axe-core is in every page of this context from its start: sent to the browser once,
    # not with each of the 20–30 pages.
    context.add_init_script(axe_source)
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)

    links = page.locator(SIDEBAR_LINKS).evaluate_all("els => els.map(a => a.href)")
    paths = list(dict.fromkeys(urlsplit(href).path for href in links))
    assert paths, f"{username} sees no sidebar entry"

    report: list[str] = []
    problems = watch.take()
    if problems:
        report.append(f"{username} after sign-in:\n  " + "\n  ".join(problems))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in paths:
        response = page.goto(path)
        status = response.status if response else None
        if status != 200:
            report.append(f"{username} {path}: HTTP {status}")
        if page.locator("html").get_attribute("lang") not in ("zh-Hans", "en"):
            report.append(f"{username} {path}: <html lang> is missing or unknown")
        violations = run_axe(page, axe_source)
        if violations:
            report.append(f"{username} {path}: axe\n" + describe_violations(violations))
        snap(page, f"{username}-{page_slug(path)}.png", full_page=True)
        page.set_viewport_size(PHONE)
        width = page_width(page)
        if width > PHONE["width"]:
            report.append(
                f"{username} {path}: {width} px wide on a {PHONE['width']} px phone; "
                "sticking out: " + ", ".join(sticking_out(page))
            )
        cramped = phone_list_problems(page)
        if cramped:
            report.append(f"{username} {path} at {PHONE['width']} px:\n  " + "\n  ".join(cramped))
        snap(page, f"{username}-{page_slug(path)}-390.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        problems = watch.take()
        if problems:
            report.append(f"{username} {path}:\n  " + "\n  ".join(problems))
    page.wait_for_load_state("networkidle")
    problems = watch.take()
    if problems:
        report.append(f"{username} (late):\n  " + "\n  ".join(problems))
    assert not report, "\n".join(report)
