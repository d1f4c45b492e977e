"""Issue 6's "done when", in a real browser: market1 plans a trade show with two budget
lines and submits it; the manager approves; market1 works through the tasks; three
visitors answer the feedback questionnaire through the QR link's URL in fresh contexts;
sales1 records a lead whose source is the activity and a signed contract for it; sales1's
claim for the booth is linked to the activity, approved and paid; market1 evaluates; the
manager approves; the frozen PDF's text has the theme, the participants, the claim's cost
and the ROI. Screenshots: the calendar, the activity page, the PDF's pages."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from mktapp.core import clock
from mktapp.demo.claims import tiny_pdf
from tests.e2e.browser import SCREENSHOTS, htmx_settled, pick, sign_in, snap

THEME = "2026 苏州智能制造展 展位 A-08（端到端）"
LEAD = "苏州端到端精密机械有限公司"
PHONE = {"width": 390, "height": 844}


def as_user(new_context, username: str, locale: str = "en-US"):
    context, watch = new_context(locale=locale)
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page, watch


def approve_everything(
    new_context, url: str, approvers=("manager", "boss"), locale: str = "en-US"
) -> None:
    """Each approver in turn approves the current step on the page's approval panel when it
    is theirs (the leader's step comes only above a threshold or over budget)."""
    approve = "同意" if locale == "zh-CN" else "Approve"
    for username in approvers:
        context, page, _watch = as_user(new_context, username, locale)
        page.goto(url)
        panel = page.locator("#approval_panel")
        button = panel.get_by_role("button", name=approve, exact=True)
        if button.count():
            comment = panel.get_by_role("textbox", name=re.compile("comment|意见", re.I))
            if comment.count():
                comment.first.fill("同意，按计划执行。")
            button.click()
            page.wait_for_load_state("networkidle")
            page.locator("#approval_panel").get_by_role(
                "button", name=approve, exact=True
            ).wait_for(state="detached")
        context.close()


@pytest.mark.slow(50)
def test_trade_show_from_plan_to_frozen_evaluation_pdf(new_context, browser, live_server, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    today = clock.today()
    month = f"{today:%Y-%m}"

    # 1. market1 plans the trade show with two budget lines and submits it.
    context, page, watch = as_user(new_context, "market1")
    page.goto("/brand/activities/new")
    page.locator("[name=kind]").select_option("expo")
    page.locator("[name=theme]").fill(THEME)
    page.locator("[name=purpose]").fill("展示新一代智能装配线，收集华东制造企业线索。")
    page.locator("[name=target_participants]").fill("3")
    page.locator("[name=target_leads]").fill("1")
    page.locator("[name=target_sales]").fill("20000")
    page.locator("[name=start_on]").fill(today.isoformat())
    page.locator("[name=end_on]").fill(today.isoformat())
    page.locator("[name=place]").fill("苏州国际博览中心 A 馆 A-08")
    page.locator("[name=audience]").fill("制造企业设备经理、采购经理")
    page.locator("[name=content]").fill("展位接待、产品演示、现场签到与反馈问卷。")
    page.locator("[name=lines-0-category]").select_option("activity")
    page.locator("[name=lines-0-period]").fill(month)
    page.locator("[name=lines-0-amount]").fill("8000")
    page.locator("[name=lines-0-note]").fill("展位费与搭建")
    page.locator("[name=lines-1-category]").select_option("brand")
    page.locator("[name=lines-1-period]").fill(month)
    page.locator("[name=lines-1-amount]").fill("2000")
    page.locator("[name=lines-1-note]").fill("宣传物料")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/brand/activities/\d+$"))
    url = page.url
    activity_id = int(url.rsplit("/", 1)[1])
    page.locator(".page-head summary", has_text="Submit for approval").click()
    reason = page.locator("[name=over_budget_reason]")
    if reason.count():  # the demo year's budget may be spent already: say why
        reason.fill("展位须本月锁定，超出部分从下月活动费中调剂。")
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.locator(".page-head")).to_contain_text("Under review")

    # 2. The manager approves (and the company leader, when the plan asks for it).
    approve_everything(new_context, url)
    page.goto(url)
    expect(page.locator(".page-head")).to_contain_text("Approved")

    # 3. market1 starts it and works through the checklist made from the template.
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator(".page-head")).to_contain_text("In progress")
    page.goto(f"{url}/tasks")
    page.get_by_role("button", name=re.compile(r"^Start from template")).click()
    selects = page.locator("#activity_tasks select[id^=task-status-]")
    selects.first.wait_for()
    htmx_settled(page)
    total = selects.count()
    assert total >= 5
    open_tasks = page.locator(
        "#activity_tasks select[id^=task-status-]:not(:has(option[value=done]:checked))"
    )
    for _ in range(total):
        # Each change posts the status and swaps the checklist in anew (done tasks may
        # move), so take the first task still open each time.
        task = open_tasks.first.get_attribute("id")
        with page.expect_response(lambda r: r.url.endswith("/status")):
            page.locator(f"#{task}").select_option("done")
        # The server's answer marks the option selected (an attribute, unlike a choice in
        # the browser): once it is there, the checklist was swapped in anew.
        page.locator(f"#{task} option[value=done][selected]").wait_for(state="attached")
        htmx_settled(page)
    assert open_tasks.count() == 0
    expect(page.locator("#activity_tasks")).to_contain_text(f"{total} of {total}")
    snap(page, "brand-tasks-en.png", full_page=True)

    # Three visitors at the booth: walk-ins, checked in as they are added.
    page.goto(f"{url}/participants")
    for name, company in [("王海", "苏州精工"), ("李娜", "无锡智造"), ("赵强", "常州机电")]:
        form = page.locator("form.exe-add-person")
        form.get_by_label("Walk-in (checked in now)").check()
        form.get_by_label("Full name").fill(name)
        form.get_by_label("Company").fill(company)
        form.get_by_role("button", name="Add").click()
        page.locator("#activity_participants").get_by_text(name).wait_for()
        htmx_settled(page)

    # The standard feedback questionnaire, and its public link (what the QR code holds).
    page.goto(f"{url}/feedback")
    page.get_by_role("button", name="Create the standard on-site feedback questionnaire").click()
    link = page.locator("input.exe-url")
    link.wait_for()
    public_url = link.input_value()
    sign = context.request.get(f"{url}/feedback/qr.svg")
    assert sign.ok and b"<svg" in sign.body()
    assert not watch.take(), "console or network problems on market1's pages"

    # 4. Three visitors answer on their phones, with no login.
    for rating, nps in [("5", 9), ("4", 8), ("5", 10)]:
        visitor_context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport=PHONE
        )
        try:
            visitor = visitor_context.new_page()
            visitor.goto(public_url)
            questions = visitor.locator("fieldset.q")
            questions.nth(0).locator("label.q-point", has_text=rating).click()
            questions.nth(1).locator("label.q-point").nth(nps).click()
            questions.nth(3).locator("label.q-option").first.click()
            visitor.locator("button.ps-submit").click()
            visitor.wait_for_url(re.compile(r"/thanks$"))
        finally:
            visitor_context.close()

    # 5. sales1 records a lead from the activity and a signed contract for it.
    sales, spage, swatch = as_user(new_context, "sales1")
    spage.goto("/sales/customers/new")
    spage.locator("[name=name]").fill(LEAD)
    spage.locator("[name=source]").select_option("activity")
    spage.get_by_label("Source activity").select_option(str(activity_id))
    spage.locator("[name=contact_name]").fill("王海")
    spage.locator("[name=contact_phone]").fill("13912345678")
    spage.get_by_role("button", name=re.compile(r"^(Save|Create anyway|Save anyway)$")).click()
    spage.wait_for_url(re.compile(r"/sales/customers/\d+$"))
    customer_id = int(spage.url.rsplit("/", 1)[1])

    spage.goto(f"/contracts/new?customer_id={customer_id}")
    spage.locator("[name=title]").fill("智能装配线样机采购合同")
    pick(spage, "lines-0-product_id")
    expect(spage.locator("[name=lines-0-name]")).not_to_have_value("")
    spage.locator("[name=lines-0-quantity]").fill("2")
    spage.locator("[name=lines-0-unit_price]").fill("10000")
    spage.locator("[name=deliveries-0-planned_date]").fill((today + timedelta(days=20)).isoformat())
    spage.locator("[name=deliveries-0-description]").fill("样机到货安装")
    grand = spage.locator("#contract_totals .grand dd")
    expect(grand).not_to_have_text("¥0.00")
    htmx_settled(spage)  # the last change's totals request is in
    total_text = grand.inner_text()
    spage.locator("[name=instalments-0-planned_date]").fill((today + timedelta(days=7)).isoformat())
    spage.locator("[name=instalments-0-amount]").fill(re.sub(r"[^\d.]", "", total_text))
    spage.locator("[name=instalments-0-description]").fill("全款")
    htmx_settled(spage)  # the last change's totals request is in
    spage.get_by_role("button", name="Submit for review").click()
    spage.wait_for_url(re.compile(r"/contracts/\d+$"))
    contract_url = spage.url
    approve_everything(new_context, contract_url)
    spage.goto(contract_url)
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(tiny_pdf("Signed"))
    sign_form = spage.locator("#sign_form")
    sign_form.get_by_label("Signed contract (scan)").set_input_files(str(scan))
    sign_form.get_by_role("button", name="Mark as signed").click()
    expect(spage.locator("h1")).to_contain_text("Signed")

    # 6. sales1's claim for the booth, linked to the activity, approved and paid.
    spage.goto(f"/expense/claims/new?activity={activity_id}")
    assert spage.get_by_label("Paid for (market activity)").input_value() == str(activity_id)
    spage.get_by_label("Category").select_option("activity")
    spage.get_by_label("Amount (yuan)").fill("6000")
    spage.locator("#reason").fill("苏州智能制造展展位费")
    spage.get_by_label("Invoice number").fill("2631066001")
    spage.locator("#claim_budget").wait_for()
    spage.get_by_label("Reason for exceeding the budget").fill("展位费已列入活动预算。")
    receipt = tmp_path / "展位费发票.pdf"
    receipt.write_bytes(tiny_pdf("Invoice 2631066001"))
    spage.get_by_label("Receipt").set_input_files(str(receipt))
    spage.get_by_role("button", name="Submit for approval").click()
    spage.wait_for_url(re.compile(r"/expense/claims/\d+$"))
    claim_url = spage.url
    approve_everything(new_context, claim_url, ("sales3", "finance1", "boss"))
    sales.close()
    finance, fpage, _fw = as_user(new_context, "finance1")
    fpage.goto(claim_url)
    fpage.get_by_label("Payment reference").fill("ZF2026HD001")
    fpage.get_by_role("button", name="Record payment").click()
    fpage.get_by_text("ZF2026HD001").first.wait_for()
    finance.close()

    # 7. market1 ends the activity and evaluates it.
    page.goto(url)
    page.locator(".page-head summary", has_text="End").click()
    page.get_by_role("button", name="Yes, end it").click()
    expect(page.locator(".page-head")).to_contain_text("Ended")
    page.goto(f"{url}/evaluation")
    form = page.locator("#evaluation-form")
    form.locator("[name=reach]").fill("5200")
    form.locator("[name=media_coverage]").fill("3")
    form.locator("[name=inquiries]").fill("4")
    form.locator("[name=new_followers]").fill("36")
    form.locator("[name=what_worked]").fill("现场演示吸引了目标客户，签到与问卷一气呵成。")
    form.locator("[name=what_to_change]").fill("提前两周邀约重点客户，展位再靠近主通道。")
    form.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Submit for approval").wait_for()
    tiles = page.locator("main").inner_text()
    assert "¥6,000.00" in tiles  # the paid claim is the activity's cost
    roi = re.search(r"ROI\s*\n?\s*(-?[\d,]+\.\d%)", tiles)
    assert roi, tiles[:2000]
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".page-head")).to_contain_text("Under review")
    context.close()

    # 8. The manager approves the evaluation (in Chinese: the frozen PDF is in the language
    # of whoever approves it); its PDF is frozen.
    approve_everything(new_context, f"{url}/evaluation", ("manager",), "zh-CN")
    manager, mpage, mwatch = as_user(new_context, "manager", "zh-CN")
    mpage.goto(url)
    expect(mpage.locator(".page-head")).to_contain_text("已评估")
    snap(mpage, "brand-activity-zh.png", full_page=True)
    mpage.goto(f"/brand/activities/calendar?month={month}")
    mpage.get_by_role("link", name=THEME).first.wait_for()
    snap(mpage, "brand-calendar-zh.png", full_page=True)
    mpage.goto(f"{url}/evaluation")
    snap(mpage, "brand-evaluation-zh.png", full_page=True)
    href = mpage.get_by_role("link", name=re.compile("PDF")).first.get_attribute("href")
    response = mpage.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "evaluation.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", THEME) in flat
    assert "6,000.00" in flat
    assert roi.group(1) in flat
    participants = re.search(r"参与人\s+(\d+)\s+(\d+)", text)  # the KPI row: actual, target
    assert participants and participants.groups() == ("3", "3"), text[:3000]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(SCREENSHOTS / "brand-evaluation-pdf")],
        check=True,
    )
    assert not mwatch.take()
    manager.close()
