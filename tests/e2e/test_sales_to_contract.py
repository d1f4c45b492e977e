"""Issue 4's acceptance test, the way a user clicks it: from a trade-show card to an
archived contract, across the customers, pipeline and contracts chapters.

sales1 imports the cards from an .xlsx file, opens an imported customer, starts an
opportunity from the customer's page, takes it through the five stages on the board,
drafts a contract from the opportunity (two catalogue lines, two instalments making the
total) and submits it; the manager approves it on the contract page; sales1 marks it
signed with the scan; service1 archives it; the PDF names the customer and the number.
Screenshots: test-artifacts/screenshots/flow-*.png.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from mktapp.core import clock
from mktapp.demo.claims import tiny_pdf
from tests.e2e.browser import SCREENSHOTS, htmx_settled, pick, sign_in, snap

NUMBER = re.compile(r"HT-\d{4}-\d{4}")
CUSTOMER = "常州鼎新自动化设备有限公司"
OTHER = "无锡华晟精工机械有限公司"
TITLE = "鼎新自动化：二期装配线智能化改造"
STAGES_ZH = ["初步接触", "需求分析", "产品演示与方案", "商务谈判与合同签订"]
STAGE_CODES = ["contact", "needs", "proposal", "negotiation"]


def cards_xlsx(path) -> None:
    """Two trade-show cards, as a market team types them up."""
    book = Workbook()
    sheet = book.active
    sheet.append(["公司名称", "联系人", "职务", "手机", "邮箱", "省份", "城市", "备注"])
    sheet.append(
        [CUSTOMER, "钱丽", "设备部经理", "13655510001", "qianli@example.cn", "江苏", "常州", ""]
    )
    sheet.append([OTHER, "孙志强", "采购主管", "13655510002", "", "江苏", "无锡", "索要报价单"])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # from the top: a full-page shot of a scrolled page draws the sticky bars mid-page
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, f"flow-{name}.png", full_page=True)


def signed_in(new_context, username: str, locale: str):
    context, watch = new_context(locale=locale)
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page, watch


def yuan(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


@pytest.mark.slow(30)
def test_trade_show_card_becomes_an_archived_contract(new_context, tmp_path):
    today = clock.today()
    context, page, watch = signed_in(new_context, "sales1", "zh-CN")

    # 1. Import the cards: upload, column mapping with preview, check, import.
    page.goto("/sales/customers/import")
    file = tmp_path / "展会名片.xlsx"
    cards_xlsx(file)
    page.locator("input[type=file]").set_input_files(str(file))
    page.get_by_role("button", name="上传并对应列").click()
    page.wait_for_url(re.compile(r"/sales/customers/import/[\w-]+$"))
    assert page.locator("#col0").input_value() == "name"
    assert page.locator("#col3").input_value() == "phone"
    page.get_by_label("来源说明").fill("2026 常州智能制造展")
    page.get_by_role("button", name="检查数据").click()
    page.locator(".import-report").wait_for()
    shot(page, "01-import-report")
    page.get_by_role("button", name="导入 2 个客户").click()
    # A sales rep's import is his own: the leads land in "my customers".
    page.wait_for_url(re.compile(r"/sales/customers/mine"))
    rows = page.locator("#customer_rows").inner_text()
    assert CUSTOMER in rows and OTHER in rows
    page.locator("#customer_rows a.customer-name", has_text=CUSTOMER).click()
    page.wait_for_url(re.compile(r"/sales/customers/\d+$"))
    customer_url = page.url
    expect(page.locator("h1")).to_contain_text(CUSTOMER)

    # 2. A new opportunity from the customer's page, then the five stages on the board.
    page.locator(".page-head .actions").get_by_role("link", name="新建商机").click()
    page.wait_for_url(re.compile(r"/sales/opportunities/new"))
    expect(page.get_by_role("combobox", name="客户")).to_have_value(CUSTOMER)
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("金额（元）").fill("380,000")
    page.get_by_label("预计成交日期").fill((today + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/sales/opportunities/\d+$"))
    opportunity_url = page.url

    page.goto("/sales/pipeline")
    page.locator("#pipeline_filters").get_by_role("searchbox").fill("二期装配线")
    # the active search swaps the board in: wait until only the new card is left
    page.wait_for_url(re.compile(r"/sales/pipeline\?q="))
    expect(page.locator("article.deal-card")).to_have_count(1)
    card = page.locator("article.deal-card", has_text=TITLE)
    page.locator(".stage-col-prospect article.deal-card", has_text=TITLE).wait_for()
    for label, code in zip(STAGES_ZH, STAGE_CODES, strict=True):
        card.get_by_role("button", name=f"推进到{label}").click()
        page.locator(f".stage-col-{code} article.deal-card", has_text=TITLE).wait_for()
    assert page.locator("article.deal-card").count() == 1
    shot(page, "02-board-negotiation")

    # 3. "Draft contract" on the opportunity: two catalogue lines, two instalments.
    card.get_by_role("link", name=TITLE).click()
    page.wait_for_url(opportunity_url)
    expect(page.locator("h1")).to_contain_text("商务谈判与合同签订")
    page.get_by_role("link", name="起草合同").click()
    page.wait_for_url(re.compile(r"/contracts/new\?"))
    htmx_settled(page)  # a boosted link: the form's hx-* attributes go live after the settle
    expect(page.locator("[name=title]")).to_have_value(TITLE)
    pick(page, "lines-0-product_id")  # the catalogue's first product, found in the picker
    expect(page.locator("[name=lines-0-name]")).not_to_have_value("")
    page.locator("[name=lines-0-quantity]").fill("2")
    page.get_by_role("button", name="添加一行").click()
    page.locator("#lines-1-product_id").wait_for()
    htmx_settled(page)  # the new row's product choice fills its name and price by htmx
    pick(page, "lines-1-product_id", nth=1)
    expect(page.locator("[name=lines-1-name]")).not_to_have_value("")
    page.locator("[name=lines-1-quantity]").fill("1")
    page.locator("[name=deliveries-0-planned_date]").fill((today + timedelta(days=30)).isoformat())
    page.locator("[name=deliveries-0-description]").fill("设备到货并安装调试")
    # Let the totals catch up with the lines, then split the total into two payments.
    page.locator("[name=after_sales_terms]").fill("整线保修一年，4 小时响应。")
    grand = page.locator("#contract_totals .grand dd")
    expect(grand).not_to_have_text("¥0.00")
    htmx_settled(page)  # the last change's totals request is in
    total = yuan(grand.inner_text())
    first = (total * Decimal("0.3")).quantize(Decimal("0.01"))
    page.locator("[name=instalments-0-planned_date]").fill((today + timedelta(days=7)).isoformat())
    page.locator("[name=instalments-0-amount]").fill(str(first))
    page.locator("[name=instalments-0-description]").fill("预付款 30%")
    page.get_by_role("button", name="添加一期付款").click()
    page.locator("[name=instalments-1-amount]").wait_for()
    page.locator("[name=instalments-1-planned_date]").fill((today + timedelta(days=45)).isoformat())
    page.locator("[name=instalments-1-amount]").fill(str(total - first))
    page.locator("[name=instalments-1-description]").fill("验收款 70%")
    htmx_settled(page)  # the last change's totals request is in
    expect(page.locator("#contract_totals")).not_to_contain_text("与合同总额不符")
    shot(page, "03-contract-form")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/contracts/\d+$"))
    contract_url = page.url
    number = NUMBER.search(page.locator(".page-head").inner_text()).group(0)
    page.locator(".page-head .actions").get_by_role("button", name="提交审核").click()
    expect(page.locator("h1")).to_contain_text("审批中")
    problems = watch.take()

    # 4. The manager approves it on the contract page.
    mcontext, mpage, mwatch = signed_in(new_context, "manager", "en-US")
    mpage.goto(contract_url)
    expect(mpage.locator("h1")).to_contain_text("Under review")
    mpage.locator("#approval_panel").get_by_role("button", name="Approve", exact=True).click()
    expect(mpage.locator("h1")).to_contain_text("Approved")
    problems += mwatch.take()
    mcontext.close()

    # 5. sales1 marks it signed, with the date and the scan.
    page.goto(contract_url)
    expect(page.locator("h1")).to_contain_text("已批准")
    scan = tmp_path / "signed-scan.pdf"
    scan.write_bytes(tiny_pdf(f"Signed {number}"))
    sign = page.locator("#sign_form")
    sign.get_by_label("签订日期").fill(today.isoformat())
    sign.get_by_label("已签合同扫描件").set_input_files(str(scan))
    sign.get_by_role("button", name="登记签订").click()
    expect(page.locator("h1")).to_contain_text("已签订")
    assert page.get_by_text("signed-scan.pdf").count() >= 1

    # The chapters link up: contract -> its opportunity -> its customer, and back.
    page.locator(".props").get_by_role("link", name=TITLE).click()
    page.wait_for_url(opportunity_url)
    expect(page.locator(".opp-contracts")).to_contain_text(number)
    expect(page.locator(".opp-contracts")).to_contain_text("已签订")
    shot(page, "04-opportunity-page")
    page.locator(".opp-main .props").get_by_role("link", name=CUSTOMER).click()
    page.wait_for_url(customer_url)
    opportunities = page.locator(".panel-opportunities")
    expect(opportunities).to_contain_text(TITLE)
    contracts = page.locator(".panel-contracts")
    expect(contracts).to_contain_text(number)
    expect(page.locator(".timeline")).to_contain_text(number)
    shot(page, "04-customer-page")
    page.locator(".panel-contracts").get_by_role("link", name=number).click()
    page.wait_for_url(contract_url)
    problems += watch.take()

    # 6. service1 archives it.
    scontext, spage, swatch = signed_in(new_context, "service1", "en-US")
    spage.goto(contract_url)
    spage.locator(".page-head .actions").get_by_role("link", name="Archive", exact=True).click()
    spage.get_by_label("Archive number").fill(f"DA-{number}")
    spage.get_by_label("Archive location").fill("档案室 C-01-4")
    spage.locator("#archive_form").get_by_role("button", name="Archive").click()
    expect(spage.locator("h1")).to_contain_text("Archived")
    expect(spage.locator(".props")).to_contain_text("档案室 C-01-4")
    shot(spage, "05-contract-archived")
    problems += swatch.take()
    scontext.close()

    # 7. The contract PDF names the customer and carries the number.
    pdf = page.request.get(contract_url + ".pdf")
    assert pdf.ok
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert CUSTOMER in text and number in text
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(SCREENSHOTS / "flow-06-contract-pdf"),
        ],
        check=True,
    )
    problems += watch.take()
    assert problems == []
