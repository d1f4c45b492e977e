"""Issue 11 item 6 in a real browser: sales1 types part of a name into the customer picker
of a new opportunity, moves through the options with the arrow keys, chooses one with
Enter and saves; the opportunity belongs to that customer. Escape closes the list; axe
finds nothing serious with the list open. Screenshots at 1440 and 390 px wide."""

from __future__ import annotations

import re
from urllib.parse import unquote

from playwright.sync_api import expect

from tests.e2e.browser import run_axe, sign_in, snap


def search_for(page, box, text: str) -> None:
    """Type `text` and wait for its options (not those of a shorter text typed before)."""
    with page.expect_response(
        lambda r: "/pick/customers" in r.url and unquote(r.url).endswith(f"-q={text}")
    ):
        box.press_sequentially(text, delay=60)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_sales_rep_picks_a_customer_with_the_keyboard_and_saves(new_context, axe_source):
    context, watch = new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, "sales1")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/sales/opportunities/new")

    box = page.get_by_role("combobox", name="客户")
    listbox = page.locator("#customer_id-list")
    box.click()
    search_for(page, box, "科技")
    options = listbox.get_by_role("option")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#customer_id-status")).not_to_be_empty()
    # every option is a customer whose name holds what was typed
    for text in options.locator(".picker-label").all_inner_texts():
        assert "科技" in text

    box.press("ArrowDown")
    box.press("ArrowDown")
    second = options.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    box.press("ArrowUp")
    first = options.nth(0)
    expect(first).to_have_attribute("aria-selected", "true")
    violations = run_axe(page, axe_source)
    assert violations == [], violations
    snap(page, "record-picker-open-1440.png")

    chosen_name = first.get_attribute("data-label")
    chosen_id = first.get_attribute("data-value")
    box.press("Enter")
    expect(box).to_have_value(chosen_name)
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("input[type=hidden][name=customer_id]")).to_have_value(chosen_id)
    assert re.search(r"/sales/opportunities/new$", page.url)  # Enter chose, it did not submit

    # Escape closes a list opened again, and the choice stands
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("input[type=hidden][name=customer_id]")).to_have_value(chosen_id)

    page.get_by_label("标题").fill("选择器测试：选择器选出的客户")
    page.get_by_label("金额（元）").fill("66,000")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/sales/opportunities/\d+$"))
    expect(page.locator("main")).to_contain_text(chosen_name)
    assert watch.take() == []

    # The same picker on a phone: the list fits the screen under the box.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/sales/opportunities/new")
    box = page.get_by_role("combobox", name="客户")
    box.click()
    search_for(page, box, "电子")
    expect(page.locator("#customer_id-list").get_by_role("option").first).to_be_visible()
    box.press("ArrowDown")
    pop = page.locator("#customer_id-pop").bounding_box()
    assert pop is not None and pop["x"] >= 0 and pop["x"] + pop["width"] <= 390
    snap(page, "record-picker-open-390.png")
    assert watch.take() == []
