"""The two reports the policy asks for open from their buttons in the boosted page: the
manager clicks the research report's and the activity evaluation's PDF button and the
browser loads the PDF itself, never its bytes swapped into the page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import htmx_settled, sign_in

PDF_BUTTON = re.compile(r"PDF")


def _click_gets_the_pdf(page, button) -> None:
    """The click loads the PDF as a document of its own (what the browser shows or saves),
    not as an htmx request whose answer is swapped into the page."""

    def is_pdf_document(response) -> bool:
        return response.request.resource_type == "document" and response.headers.get(
            "content-type", ""
        ).startswith("application/pdf")

    with page.context.expect_event("response", is_pdf_document, timeout=15_000) as response:
        button.click()
    assert response.value.ok and urlsplit(response.value.url).path.endswith(".pdf")


@pytest.mark.parametrize(
    ("listing", "detail", "suffix"),
    [
        ("/research/reports/", r"/research/reports/\d+$", ""),
        ("/brand/activities/?status=evaluated", r"/brand/activities/\d+$", "/evaluation"),
    ],
    ids=["research-report", "activity-evaluation"],
)
def test_manager_clicks_a_report_pdf_button_and_gets_the_pdf(new_context, listing, detail, suffix):
    context, watch = new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, "manager")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto(listing)
    htmx_settled(page)
    hrefs = page.locator("main a[href]").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    records = [h for h in hrefs if re.search(detail, h.split("?")[0])]
    assert records, f"no record to open on {listing}"
    page.locator(f"main a[href='{records[0]}']").first.click()
    page.wait_for_url(re.compile(detail))
    if suffix:
        page.goto(page.url + suffix)
    htmx_settled(page)
    button = page.locator("main a", has_text=PDF_BUTTON).first
    _click_gets_the_pdf(page, button)
    assert not watch.take()
