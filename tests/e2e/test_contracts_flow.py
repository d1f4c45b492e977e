"""Issue 4 (P4.3) in a real browser: a sales rep drafts a contract with two lines and two
instalments and submits it; the manager approves it; the rep marks it signed with the
scan; the service group archives it; the PDF shows the customer and the number. And a
signed contract is amended and the difference between its versions is shown."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mktapp.core import clock
from mktapp.demo.claims import tiny_pdf
from mktapp.extensions import db
from mktapp.models import Contract, ContractAmendment, Customer, User
from tests.e2e.browser import SCREENSHOTS, htmx_settled, pick, sign_in, snap

NUMBER = re.compile(r"HT-\d{4}-\d{4}")


def as_user(new_context, username: str):
    context, _watch = new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page


def approve_on_panel(new_context, username: str, url: str) -> None:
    context, page = as_user(new_context, username)
    page.goto(url)
    panel = page.locator("#approval_panel")
    panel.get_by_role("button", name="Approve", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.locator("#approval_panel").get_by_role("button", name="Approve", exact=True).wait_for(
        state="detached"
    )
    context.close()


def customer_of(live_server, username: str) -> tuple[int, str]:
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        customer = db.session.scalars(
            select(Customer).where(Customer.owner_id == user.id).order_by(Customer.id)
        ).first()
        result = (customer.id, customer.name)
        db.session.remove()
    return result


@pytest.mark.slow(16)
def test_contract_drafted_approved_signed_archived_and_printed(new_context, live_server, tmp_path):
    customer_id, customer_name = customer_of(live_server, "sales1")
    day = clock.today()
    context, page = as_user(new_context, "sales1")
    # "New contract" on the list asks for the customer first (the results follow the typing).
    page.goto("/contracts/")
    page.locator(".page-head").get_by_role("link", name="New contract").click()
    page.wait_for_url(re.compile(r"/contracts/new$"))
    htmx_settled(page)
    page.locator("#customer-q").fill(customer_name)
    expect(page.locator("#customer_choices")).to_contain_text(f"“{customer_name}”")
    page.locator("#customer_choices").get_by_role("link", name=customer_name, exact=True).click()
    page.wait_for_url(re.compile(rf"/contracts/new\?customer_id={customer_id}$"))
    htmx_settled(page)
    page.locator("[name=title]").fill("会议室设备采购合同")
    # Line 1 from the catalogue: choosing the product fills in its name and price.
    pick(page, "lines-0-product_id")
    expect(page.locator("[name=lines-0-name]")).not_to_have_value("")
    page.locator("[name=lines-0-quantity]").fill("2")
    page.locator("[name=lines-0-unit_price]").fill("10000")
    page.get_by_role("button", name="Add a line").click()
    page.locator("[name=lines-1-name]").wait_for()
    page.locator("[name=lines-1-name]").fill("安装服务")
    page.locator("[name=lines-1-unit]").fill("次")
    page.locator("[name=lines-1-quantity]").fill("1")
    page.locator("[name=lines-1-unit_price]").fill("500")
    page.locator("[name=deliveries-0-planned_date]").fill((day + timedelta(days=30)).isoformat())
    page.locator("[name=deliveries-0-description]").fill("全部设备到货安装")
    page.locator("[name=instalments-0-planned_date]").fill((day + timedelta(days=7)).isoformat())
    page.locator("[name=instalments-0-amount]").fill("10000")
    page.locator("[name=instalments-0-description]").fill("预付款")
    page.get_by_role("button", name="Add an instalment").click()
    page.locator("[name=instalments-1-amount]").wait_for()
    page.locator("[name=instalments-1-planned_date]").fill((day + timedelta(days=45)).isoformat())
    page.locator("[name=instalments-1-description]").fill("验收款")
    # "Fill the remainder": the last instalment takes the total less the first one.
    page.get_by_role("button", name="Fill the remainder").click()
    expect(page.locator("[name=instalments-1-amount]")).to_have_value("13165.00")
    htmx_settled(page)
    page.locator("[name=after_sales_terms]").fill("保修一年，4 小时响应。")
    page.locator("#contract_totals .grand").get_by_text("¥23,165.00").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    snap(page, "contract-form.png", full_page=True)
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url(re.compile(r"/contracts/\d+$"))
    url = page.url
    number = NUMBER.search(page.locator(".page-head").inner_text()).group(0)
    assert "Under review" in page.locator("h1").inner_text()

    approve_on_panel(new_context, "manager", url)

    page.goto(url)
    assert "Approved" in page.locator("h1").inner_text()
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(tiny_pdf(f"Signed {number}"))
    sign = page.locator("#sign_form")
    sign.get_by_label("Signed contract (scan)").set_input_files(str(scan))
    sign.get_by_role("button", name="Mark as signed").click()
    expect(page.locator("h1")).to_contain_text("Signed")
    assert page.get_by_text("signed.pdf").count() >= 1
    snap(page, "contract-signed.png", full_page=True)

    pdf = page.request.get(url + ".pdf")
    assert pdf.ok
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert customer_name in text and number in text
    context.close()

    context, page = as_user(new_context, "service1")
    page.goto(url)
    page.get_by_role("link", name="Archive", exact=True).click()
    page.get_by_label("Archive number").fill(f"DA-{number}")
    page.get_by_label("Archive location").fill("档案室 B-02-1")
    page.locator("#archive_form").get_by_role("button", name="Archive").click()
    expect(page.locator("h1")).to_contain_text("Archived")
    page.goto("/contracts/archive?q=" + number)
    assert page.get_by_text(f"DA-{number}").count() == 1
    context.close()


@pytest.mark.slow(9)
def test_signed_contract_amended_and_versions_compared(new_context, live_server):
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sales1"))
        pending = select(ContractAmendment.contract_id).where(ContractAmendment.status == "pending")
        contract = db.session.scalars(
            select(Contract)
            .where(
                Contract.owner_id == user.id,
                Contract.status.in_(["signed", "executing"]),
                Contract.version == 1,
                Contract.total < Decimal("500000"),
                Contract.id.not_in(pending),
            )
            .order_by(Contract.id)
        ).first()
        cid = contract.id
        db.session.remove()
    context, page = as_user(new_context, "sales1")
    page.goto(f"/contracts/{cid}")
    page.get_by_role("link", name="Amend", exact=True).click()
    page.locator("[name=reason]").fill("客户场地改造延期，交货顺延一个月。")
    field = page.locator("[name=deliveries-0-planned_date]")
    old = date.fromisoformat(field.input_value())
    new = old + timedelta(days=31)
    field.fill(new.isoformat())
    page.get_by_role("button", name="Submit the amendment for review").click()
    page.wait_for_url(re.compile(r"/contracts/amendments/\d+$"))
    amendment_url = page.url
    assert old.isoformat() in page.locator(".version-diff").inner_text()
    context.close()

    approve_on_panel(new_context, "manager", amendment_url)

    context, page = as_user(new_context, "sales1")
    page.goto(f"/contracts/{cid}")
    expect(page.locator("h1")).to_contain_text("Version 2")
    diff = page.locator("#version_diff")
    assert "Changes from version 1 to version 2" in diff.inner_text()
    assert old.isoformat() in diff.inner_text() and new.isoformat() in diff.inner_text()
    # Compare version 2 with itself through the selector (htmx swaps the diff).
    page.locator("#v-old").select_option("2")
    page.locator("#version_diff").get_by_text("No difference.").wait_for()
    snap(page, "contract-versions.png", full_page=True)
    context.close()
