"""The history panels and the audit log's filter read in Chinese: no raw codes, no English."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import AuditLog

CJK = re.compile(r"[\u3400-\u9fff]")
RAW = ("draft", "pending", "approved", "Submitted at", "Approved at", "demo data")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _history_text(page: str) -> str:
    """The visible text of the page's history panel."""
    match = re.search(r'<section class="card history-panel".*?</section>', page, re.S)
    assert match, "the page has no history panel"
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", match.group(0)))


def _record_with(app, record_type: str, **where) -> int:
    """A demo record of this type whose log has an entry like `where` (action, or a change)."""
    with app.app_context():
        for log in db.session.scalars(
            select(AuditLog).where(AuditLog.record_type == record_type).order_by(AuditLog.id)
        ):
            if "action" in where and log.action != where["action"]:
                continue
            if "change" in where and (log.changes or {}).get(where["change"][0]) != list(
                where["change"][1]
            ):
                continue
            return log.record_id
    pytest.fail(f"the demo has no {record_type} with {where}")


def _assert_no_raw_words(text: str) -> None:
    for word in RAW:
        assert not re.search(rf"\b{word}\b", text, re.I), f"{word!r} in the history: {text}"


def test_manager_reads_a_research_plans_history_in_chinese(app, login):
    plan_id = _record_with(app, "ResearchPlan", change=("status", ("pending", "approved")))
    page = login("manager").get(f"/research/plans/{plan_id}", headers=ZH)
    assert page.status_code == 200
    text = _history_text(page.get_data(as_text=True))
    _assert_no_raw_words(text)
    assert "审批中" in text and "已批准" in text  # pending → approved, by the plan's own words
    assert "演示数据" in text


def test_manager_reads_a_budgets_history_with_amounts_in_yuan(app, login):
    budget_id = _record_with(app, "Budget", action="adjust")
    page = login("manager").get(f"/expense/budgets/{budget_id}", headers=ZH)
    assert page.status_code == 200
    text = _history_text(page.get_data(as_text=True))
    _assert_no_raw_words(text)
    assert re.search(r"¥[\d,]+\.\d{2}\s*→\s*改为\s*¥[\d,]+\.\d{2}", text), text
    assert not re.search(r"(?<![¥,\d])\d{4,}\.\d{2}", text)  # no bare 67200.00
    assert "已批准" in text and "演示数据" in text


def test_every_record_type_in_the_audit_filter_is_named_in_chinese(login):
    page = login("manager").get("/audit/", headers=ZH).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="type".*?</select>', page, re.S).group(0)
    options = [
        html_lib.unescape(text.strip())
        for value, text in re.findall(
            r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', select_html
        )
        if value
    ]
    assert len(options) > 30
    english = [o for o in options if not CJK.search(o)]
    assert not english, f"record types named in English: {english}"
