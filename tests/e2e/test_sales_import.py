"""Issue 4 in a real browser: a market specialist imports trade-show cards from an .xlsx
file (upload, column mapping with preview, the per-row report, import) and finds the
leads in the pool; a sales rep claims one and records a follow-up on its page.
Screenshots of the list, the customer page and the import screens, in Chinese and English.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import Workbook

from mktapp.core import clock
from tests.e2e.browser import SCREENSHOTS, run_axe, sign_in, snap


def cards_xlsx(path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["公司名称", "联系人", "职务", "手机", "邮箱", "省份", "城市", "备注"])
    sheet.append(
        [
            "扬州明德智能装备有限公司",
            "吴敏",
            "采购经理",
            "13912340001",
            "wu@example.cn",
            "江苏",
            "扬州",
            "对自动化产线感兴趣",
        ]
    )
    sheet.append(
        ["镇江天成新材料有限公司", "郭涛", "技术总监", "13912340002", "", "江苏", "镇江", ""]
    )
    sheet.append(["", "没有公司名", "", "13912340003", "", "", "", ""])
    sheet.append(["上海恒通精密机械有限公司", "重复客户", "", "", "", "上海", "上海", ""])
    sheet.append(
        ["泰州汇丰电子有限公司", "何芳", "总经理", "13912340004", "bad-email", "江苏", "泰州", ""]
    )
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    snap(page, f"{name}.png", full_page=True)


def test_market_specialist_imports_cards_and_rep_follows_up(new_context, tmp_path, axe_source):
    context, watch = new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, "market1")
    page.wait_for_url(lambda url: "/auth/login" not in url)

    page.goto("/sales/customers/import")
    shot(page, "sales-import-upload-zh")
    file = tmp_path / "工博会名片.xlsx"
    cards_xlsx(file)
    page.locator("input[type=file]").set_input_files(str(file))
    page.get_by_role("button", name="上传并对应列").click()
    page.wait_for_url(re.compile(r"/sales/customers/import/[\w-]+$"))
    assert page.locator("#col0").input_value() == "name"
    assert page.locator("#col3").input_value() == "phone"
    assert page.get_by_text("扬州明德智能装备有限公司").count() >= 1
    page.get_by_label("来源说明").fill("2026 中国国际工业博览会")
    page.get_by_role("button", name="检查数据").click()
    page.locator(".import-report").wait_for()
    report = page.locator(".import-report").inner_text()
    assert "上海恒通精密机械有限公司" in report and "bad-email" in report
    shot(page, "sales-import-report-zh")
    assert run_axe(page, axe_source) == []
    page.get_by_role("button", name="导入 2 个客户").click()
    page.wait_for_url(re.compile(r"/sales/customers/pool"))
    rows = page.locator("#customer_rows").inner_text()
    assert "扬州明德智能装备有限公司" in rows and "镇江天成新材料有限公司" in rows
    assert "泰州汇丰电子有限公司" not in rows
    shot(page, "sales-customers-pool-zh")
    assert watch.take() == []

    rep, rep_watch = new_context(locale="zh-CN")
    rpage = rep.new_page()
    sign_in(rpage, "sales1")
    rpage.wait_for_url(lambda url: "/auth/login" not in url)
    rpage.goto("/sales/customers/pool")
    rpage.get_by_role("searchbox").fill("扬州明德")
    rpage.locator("#customer_rows a.customer-name", has_text="扬州明德智能装备有限公司").wait_for()
    rpage.locator("#customer_rows a.customer-name", has_text="扬州明德智能装备有限公司").click()
    rpage.get_by_role("button", name="领取客户").click()
    rpage.wait_for_url(re.compile(r"/sales/customers/\d+$"))
    # The page was already the customer's: wait for the claimed page to replace it, or
    # the follow-up typed next is lost in the swap (a 422 for empty notes, now and then).
    rpage.get_by_role("button", name="领取客户").wait_for(state="detached")
    rpage.locator("#notes").fill("电话联系吴经理，约下周上门演示。")
    rpage.locator("#next_date").fill((clock.today() + timedelta(days=7)).isoformat())
    rpage.locator("#next_action").fill("上门演示")
    rpage.get_by_role("button", name="保存跟进").click()
    rpage.locator(".tl-followup", has_text="约下周上门演示").wait_for()
    shot(rpage, "sales-customer-page-zh")
    assert run_axe(rpage, axe_source) == []
    assert rep_watch.take() == []


def test_customer_screens_in_english(new_context, axe_source):
    context, watch = new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, "manager")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto("/sales/customers/")
    assert page.locator("h1").inner_text() == "Customers"
    page.locator("#f-grade").select_option("A")
    page.wait_for_url(re.compile(r"grade=A"))
    shot(page, "sales-customers-en")
    assert run_axe(page, axe_source) == []
    # A full load after axe-core has run (a boosted swap of a page axe has been through
    # logs a CSP message about an inline style axe left behind).
    page.goto(page.locator("#customer_rows a.customer-name").first.get_attribute("href"))
    page.get_by_text("Follow-ups and changes").wait_for()
    shot(page, "sales-customer-page-en")
    assert run_axe(page, axe_source) == []
    page.goto("/sales/followups")
    shot(page, "sales-followups-en")
    page.goto("/sales/customers/import")
    shot(page, "sales-import-upload-en")
    assert watch.take() == []
