"""Issue 3's "done when", in a real browser: an expense claim from the form to the payment
and the claim form PDF; and a claim returned at the finance step, edited and resubmitted.

The approve and reject buttons are the approval panel's (templates/_macros/approvals.html).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from mktapp.demo.claims import tiny_pdf
from tests.e2e.browser import SCREENSHOTS, sign_in, snap

NUMBER = re.compile(r"BX-\d{4}-\d{4}")


def as_user(new_context, username: str):
    context, watch = new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page


def write_claim(page, tmp_path, amount: str, reason: str, invoice: str) -> tuple[str, str]:
    """Fill in the claim form with a receipt and submit it; returns (claim path, number)."""
    page.goto("/expense/claims/new")
    page.get_by_label("Category").select_option("customer")
    page.get_by_label("Amount (yuan)").fill(amount)
    page.locator("#reason").fill(reason)
    page.get_by_label("Invoice number").fill(invoice)
    page.locator("#claim_budget").wait_for()
    page.get_by_label("Reason for exceeding the budget").fill("本月重点客户集中拜访，已报备经理。")
    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(tiny_pdf(f"Invoice {invoice}"))
    page.get_by_label("Receipt").set_input_files(str(receipt))
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_url(re.compile(r"/expense/claims/\d+$"))
    number = NUMBER.search(page.locator("h1").inner_text()).group(0)
    return page.url, number


def decide(new_context, username: str, url: str, button: str, comment: str = "") -> None:
    """Decide the current step on the claim's approval panel, as a person would."""
    context, page = as_user(new_context, username)
    page.goto(url)
    panel = page.locator("#approval_panel")
    if button == "Reject":
        # Rejecting opens a box that asks the applicant's reason first.
        panel.get_by_text("Reject…").click()
        panel.get_by_role("textbox", name=re.compile("reason", re.I)).fill(comment)
        final = panel.get_by_role("button", name="Reject and return")
    else:
        if comment:
            panel.get_by_role("textbox", name=re.compile("comment", re.I)).first.fill(comment)
        final = panel.get_by_role("button", name=button, exact=True)
    final.click()
    # Decided when the button clicked has left the panel (the panel is drawn again
    # without it). "Reject" itself is never a button: wait on the one that was clicked.
    final.wait_for(state="detached")
    context.close()


@pytest.mark.slow(17)
def test_claim_from_form_to_payment_and_pdf(new_context, tmp_path):
    context, page = as_user(new_context, "sales1")
    url, number = write_claim(page, tmp_path, "880.00", "拜访苏州重点客户差旅", "2631099001")
    assert "Under review" in page.locator("h1").inner_text()
    assert page.get_by_text("发票.pdf").count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    snap(page, "expense-claim-submitted.png", full_page=True)

    decide(new_context, "sales3", url, "Approve", "情况属实，同意。")  # 业务组's leader
    decide(new_context, "finance1", url, "Approve", "已核对发票。")
    decide(new_context, "boss", url, "Approve")

    fin, fin_page = as_user(new_context, "finance1")
    fin_page.goto(url)
    fin_page.get_by_label("Payment reference").fill("ZF2026E2E001")
    fin_page.get_by_role("button", name="Record payment").click()
    fin_page.get_by_text("ZF2026E2E001").first.wait_for()
    fin.close()

    page.goto(url)
    assert "Paid" in page.locator("h1").inner_text()
    snap(page, "expense-claim-paid.png", full_page=True)
    pdf_href = page.get_by_role("link", name="Claim form (PDF)").get_attribute("href")
    response = context.request.get(pdf_href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.body(), capture_output=True, check=True
    ).stdout.decode()
    assert number in text
    for approver in ("陈静", "周敏", "孙志强"):  # sales3, finance1, boss
        assert approver in text
    assert "ZF2026E2E001" in text


@pytest.mark.slow(13)
def test_claim_returned_at_finance_is_edited_and_resubmitted(new_context, tmp_path):
    context, page = as_user(new_context, "sales2")
    url, number = write_claim(page, tmp_path, "640.00", "客户商务宴请餐费", "2631099002")

    decide(new_context, "sales3", url, "Approve")
    decide(new_context, "finance1", url, "Reject", "发票抬头与公司名称不符，请重新开具。")

    page.goto(url)
    expect(page.locator("h1")).to_contain_text("Returned")
    assert page.get_by_text("发票抬头与公司名称不符").count() >= 1
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Invoice number").fill("2631099003")
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_url(re.compile(r"/expense/claims/\d+$"))
    assert "Under review" in page.locator("h1").inner_text()
    assert number in page.locator("h1").inner_text()
    snap(page, "expense-claim-resubmitted.png", full_page=True)

    # The department head sees it again, as round 2.
    decide(new_context, "sales3", url, "Approve")
