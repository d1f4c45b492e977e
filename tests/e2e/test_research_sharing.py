"""Issue 11 (item 9) in a real browser: the research timeline fits a 1,440 px screen (its
table for screen readers does not widen the page) with "today" clear of the month
labels, and a published questionnaire's copy button (shown by copy.js, CSP-clean)
copies its public link next to its QR code."""

from __future__ import annotations

import re

from tests.e2e.browser import htmx_settled, sign_in, snap

WIDE = {"width": 1440, "height": 900}


def _signed_in(new_context, username: str):
    context, watch = new_context(locale="zh-CN")
    page = context.new_page()
    page.set_viewport_size(WIDE)
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page, watch


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_research_timeline_fits_a_wide_screen_and_today_clears_the_months(new_context):
    _context, page, watch = _signed_in(new_context, "manager")
    page.goto("/research/plans/timeline")
    page.locator("svg.gantt").wait_for()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    today = page.locator("svg.gantt text", has_text="今天")
    assert today.count() == 1
    label = today.bounding_box()
    months = page.locator("svg.gantt text", has_text=re.compile(r"^\d{4}-\d{2}$"))
    assert months.count() >= 3
    for i in range(months.count()):
        assert not _overlap(label, months.nth(i).bounding_box())
    snap(page, "research-timeline-1440.png", full_page=True)
    assert watch.take() == []


def test_published_questionnaire_copies_its_link_and_shows_its_qr_code(new_context):
    context, page, watch = _signed_in(new_context, "market1")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/research/surveys/?status=open")
    page.get_by_role("link", name="客户满意度调查").first.click()
    page.wait_for_url(re.compile(r"/research/surveys/\d+$"))
    htmx_settled(page)
    link = page.locator("#public-link").input_value()
    assert re.search(r"/research/s/[\w-]{30,}$", link)
    assert page.locator("svg.qr-code").is_visible()
    button = page.get_by_role("button", name="复制链接")
    button.wait_for(state="visible")
    button.click()
    page.get_by_role("status").filter(has_text="链接已复制。").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    snap(page, "research-survey-share-1440.png", full_page=True)
    assert watch.take() == []
