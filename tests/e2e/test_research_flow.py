"""Issue 5's main flow in a real browser: market1 builds a five-question questionnaire with
the htmx builder and publishes it; a fresh browser with no login answers it on a phone
through the public link; market1 sees the answer in the analysis. Screenshots of the
phone page, the builder and the analysis in Chinese and English."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import SCREENSHOTS, htmx_settled, sign_in, snap

PHONE = {"width": 390, "height": 844}


def _signed_in(new_context, locale: str):
    context, watch = new_context(locale=locale)
    page = context.new_page()
    sign_in(page, "market1")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return context, page, watch


def _add_question(page, kind: str, text: str, options: str = "", required: bool = False):
    before = page.locator(".builder-item").count()
    form = page.locator("form.builder-add")
    form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=text]").fill(text)
    if options:
        form.locator("textarea[name=options]").fill(options)
    if required:
        form.locator("input[name=required]").check()
    form.locator("button[type=submit]").click()
    page.locator(".builder-item").nth(before).wait_for()
    htmx_settled(page)


@pytest.mark.slow(11)
def test_market_specialist_builds_publishes_and_analyses_a_questionnaire(
    new_context, browser, live_server
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _signed_in(new_context, "zh-CN")

    page.goto("/research/surveys/new")
    page.locator("input[name=title]").fill("2026 渠道合作满意度快速调查")
    page.locator("textarea[name=intro]").fill("本调查共 5 题，约需 1 分钟。感谢您的支持！")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(r"/research/surveys/\d+$"))
    survey_url = page.url

    _add_question(page, "single", "贵公司与我们合作多久了？", "不到1年\n1–3年\n3年以上", True)
    _add_question(page, "rating", "您对我们的总体满意度如何？", required=True)
    _add_question(page, "nps", "您有多大可能向同行推荐我们？")
    _add_question(page, "short_text", "用一句话评价我们")
    _add_question(page, "long_text", "您还有什么建议？")
    assert page.locator(".builder-item").count() == 5
    # Move the rating question to the top and back with the arrow buttons.
    page.locator(".builder-item").nth(1).locator("button[value=up]").click()
    page.locator(".builder-item").first.get_by_text("总体满意度").wait_for()
    page.locator(".builder-item").first.locator("button[value=down]").click()
    page.locator(".builder-item").first.get_by_text("合作多久").wait_for()
    snap(page, "research-builder-zh.png", full_page=True)

    page.locator("form[action$='/publish'] button[type=submit]").click()
    page.wait_for_url(survey_url)
    link = page.locator("#public-link").input_value()
    assert re.search(r"/research/s/[\w-]{30,}$", link)

    # A respondent on a phone, not signed in.
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE)
    try:
        visitor = phone.new_page()
        visitor.goto(link)
        assert visitor.locator("aside.sidebar").count() == 0
        snap(visitor, "research-public-phone-zh.png", full_page=True)
        questions = visitor.locator("fieldset.q")
        questions.nth(0).locator("label.q-option", has_text="1–3年").click()
        questions.nth(1).locator("label.q-point", has_text="4").click()
        questions.nth(2).locator("label.q-point").nth(9).click()
        questions.nth(3).locator("input").fill("响应快，专业")
        questions.nth(4).locator("textarea").fill("希望增加线上下单功能。")
        visitor.locator("button.ps-submit").click()
        visitor.wait_for_url(re.compile(r"/thanks$"))
        assert "感谢您的参与" in visitor.locator("h1").inner_text()
    finally:
        phone.close()

    english = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PHONE)
    try:
        reader = english.new_page()
        reader.goto(link)
        assert reader.locator("button.ps-submit").inner_text().strip() == "Send my answers"
        snap(reader, "research-public-phone-en.png", full_page=True)
    finally:
        english.close()

    page.goto(survey_url + "/analysis")
    body = page.locator("#analysis_body")
    assert body.locator(".total-tile.total-main .total-value").inner_text().strip() == "1"
    assert "响应快，专业" in body.inner_text()
    assert "+100" in body.inner_text()  # one promoter: NPS +100
    snap(page, "research-analysis-zh.png", full_page=True)
    assert not watch.problems, "\n".join(watch.problems)

    # The same pages in English.
    context_en, page_en, watch_en = _signed_in(new_context, "en-US")
    page_en.goto(survey_url)
    snap(page_en, "research-builder-en.png", full_page=True)
    page_en.goto(survey_url + "/analysis")
    assert "Analysis" in page_en.locator("h1").inner_text()
    snap(page_en, "research-analysis-en.png", full_page=True)
    assert not watch_en.problems, watch_en.problems


def test_satisfaction_analysis_with_300_demo_responses_and_a_crosstab(new_context):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _signed_in(new_context, "zh-CN")
    page.goto("/research/surveys/?kind=satisfaction")
    page.get_by_role("link", name="客户满意度调查").first.click()
    page.wait_for_url(re.compile(r"/research/surveys/\d+$"))
    page.goto(page.url + "/analysis")
    assert int(page.locator(".total-tile.total-main .total-value").inner_text()) > 100
    page.locator("#ct-q1").select_option(index=4)
    page.locator("#ct-q2").select_option(index=0)
    page.get_by_role("button", name="生成交叉表").click()
    page.locator("#crosstab table.crosstab").wait_for()
    page.locator("#crosstab").scroll_into_view_if_needed()
    snap(page, "research-analysis-demo-zh.png", full_page=True)
    page.goto("/research/plans/timeline?span=6")
    snap(page, "research-timeline-zh.png", full_page=True)
    assert not watch.problems, watch.problems
