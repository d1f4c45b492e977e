"""Every audited record type, field and code reads in the reader's language in the history.

The history panel and the audit log show a record type's title, each changed field's
label and each value. These tests walk every audited model and every column its log
entries hold, and fail (naming model and column) when a title or label is missing,
left to humanise() (English made from the code name) or untranslated in zh_Hans, or
when a code column (status, stage, kind ...) shows a code that has no label.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

import pytest
from flask_babel import LazyString, force_locale
from sqlalchemy import String, Text, inspect, select
from sqlalchemy.orm import joinedload

from mktapp.core import audit, audit_display
from mktapp.core.audit_display import (
    audited_types,
    declared_label,
    declared_title,
    format_value,
    model_class,
    value_formatter,
)
from mktapp.extensions import db
from mktapp.models import AuditLog

CJK = re.compile(r"[\u3400-\u9fff]")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Lifecycle columns always have a vocabulary, whatever the demo holds.
LIFECYCLE = {"status", "stage"}
# Code-like text that people type and read as typed: log-in names, group and post
# codes, WeChat IDs.
TYPED_IDENTIFIERS = {
    ("User", "username"),
    ("Group", "code"),
    ("Post", "code"),
    ("Contact", "wechat"),
}


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def _msgid(label) -> str:
    """The English msgid behind a lazy label (a plain str is its own)."""
    if isinstance(label, LazyString):
        return label._args[0]
    return str(label)


def _problem_with(label, what: str) -> str | None:
    """Why a declared label does not read in both languages, or None."""
    if label is None:
        return f"{what}: no label declared (the page would show humanise()'s English)"
    msgid = _msgid(label)
    with force_locale("zh_Hans"):
        chinese = str(label)
    if chinese == msgid or not CJK.search(chinese):
        return f"{what}: {msgid!r} has no zh_Hans translation"
    with force_locale("en"):
        english = str(label)
    if not english.strip():
        return f"{what}: {msgid!r} reads empty in en"
    return None


def _audited_fields() -> list[tuple[str, str]]:
    return [(t, key) for t in audited_types() for key in audit.audited_fields(model_class(t))]


def test_every_audited_record_type_has_a_title_in_chinese_and_english(ctx):
    problems = [
        p for t in audited_types() if (p := _problem_with(declared_title(t), f"{t} (type title)"))
    ]
    assert not problems, "\n".join(problems)


def test_every_audited_column_has_a_label_in_chinese_and_english(ctx):
    fields = _audited_fields()
    assert len(fields) > 300  # the walk reaches every chapter's models
    problems = [
        p for t, key in fields if (p := _problem_with(declared_label(t, key), f"{t}.{key}"))
    ]
    assert not problems, "\n".join(problems)


def test_every_action_of_the_log_has_a_label_in_chinese_and_english(ctx):
    problems = [
        p
        for code, label in audit.ACTION_LABELS.items()
        if (p := _problem_with(label, f"action {code!r}"))
    ]
    assert not problems, "\n".join(problems)


def test_every_vocabulary_label_is_translated(ctx):
    problems = []
    for t, key in _audited_fields():
        vocabulary = value_formatter(t, key)
        if isinstance(vocabulary, Mapping):
            for code, label in vocabulary.items():
                if problem := _problem_with(label, f"{t}.{key} = {code!r}"):
                    problems.append(problem)
    assert not problems, "\n".join(problems)


def _codes_in_demo() -> dict[tuple[str, str], set[str]]:
    """Every text value of every audited String column: in its table and in the log."""
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for log in db.session.scalars(select(AuditLog)):
        for key, pair in (log.changes or {}).items():
            if isinstance(pair, list):
                values[(log.record_type, key)].update(v for v in pair if isinstance(v, str))
    for t in audited_types():
        columns = inspect(model_class(t)).columns
        for key in audit.audited_fields(model_class(t)):
            column = columns.get(key)
            if column is None or not isinstance(column.type, String):
                continue
            if isinstance(column.type, Text):
                continue
            values[(t, key)].update(
                v for v in db.session.scalars(select(column).distinct()) if isinstance(v, str)
            )
    return values


def test_every_code_column_shows_each_code_by_its_label(ctx):
    """status, stage and every column whose values are codes ("draft", "walk_in") read as
    their translated label: the demo company's data and log hold every code in use."""
    values = _codes_in_demo()
    problems = []
    with force_locale("zh_Hans"):
        for t, key in _audited_fields():
            column = inspect(model_class(t)).columns.get(key)
            if column is None or not isinstance(column.type, String):
                continue
            if isinstance(column.type, Text) or (t, key) in TYPED_IDENTIFIERS:
                continue
            found = {v for v in values.get((t, key), ()) if v}
            looks_coded = bool(found) and all(CODE.match(v) for v in found)
            if key not in LIFECYCLE and not looks_coded:
                continue
            if value_formatter(t, key) is None:
                problems.append(f"{t}.{key}: codes {sorted(found)[:5]} have no vocabulary")
                continue
            for code in sorted(found):
                text = format_value(t, key, code)
                if text == code or not CJK.search(text):
                    problems.append(f"{t}.{key}: the code {code!r} reads {text!r}")
    assert not problems, "\n".join(problems)


def test_the_whole_demo_history_reads_without_english_fallbacks(ctx, monkeypatch):
    """Every entry the demo company's log holds, as the history panel shows it in zh_Hans."""
    fallbacks: list[str] = []
    original = audit_display.humanise

    def spy(name: str) -> str:
        fallbacks.append(name)
        return original(name)

    monkeypatch.setattr(audit_display, "humanise", spy)
    logs = db.session.scalars(select(AuditLog).options(joinedload(AuditLog.actor))).all()
    assert len(logs) > 100
    with force_locale("zh_Hans"):
        entries = audit_display.present(logs)
    assert not fallbacks, f"humanise() was needed for {sorted(set(fallbacks))}"
    assert all(e.note != "demo data" for e in entries)
    assert {e.note for e in entries} >= {"演示数据"}
    money = [
        value.text
        for entry in entries
        for change in entry.changes
        if audit_display.is_money(inspect(model_class(entry.record_type)).columns.get(change.key))
        for value in (change.before, change.after)
        if not value.empty
    ]
    assert money and all(text.lstrip("-").startswith("¥") for text in money)


def test_money_columns_read_as_yuan_and_date_times_in_the_company_zone(ctx):
    with force_locale("zh_Hans"):
        assert format_value("BudgetLine", "amount", "80000.00") == "¥80,000.00"
        assert format_value("Budget", "amount", "67200.00") == "¥67,200.00"  # adjust entries
        assert format_value("Contract", "tax_rate", "13.00") == "13.00"  # a rate, not money
        # 02:10 UTC is 10:10 in Shanghai
        assert format_value("ResearchPlan", "submitted_at", "2026-12-07T02:10:00+00:00") == (
            "2026-12-07 10:10"
        )
        assert format_value("ResearchMilestone", "done", True) == "是"
        assert format_value("ResearchPlan", "status", "pending") == "审批中"
        assert format_value("ResearchPlan", "methods", "interview,web_search") == "访谈、网络搜索"
    with force_locale("en"):
        assert format_value("ResearchPlan", "status", "pending") == "Under review"
        assert format_value("ResearchPlan", "methods", "interview,web_search") == (
            "Interview, Web search"
        )
    assert audit_display.is_money(inspect(model_class("Opportunity")).columns["amount"])
    assert not audit_display.is_money(inspect(model_class("TrainingRecord")).columns["hours"])


def test_a_stored_set_of_terms_reads_as_labelled_lines(ctx):
    terms = {"title": "年度维保", "total": "61345.44", "lines": [{}, {}, {}], "tax_rate": "13.00"}
    with force_locale("zh_Hans"):
        text = format_value("ContractAmendment", "terms", terms)
    assert text.splitlines() == [
        "合同名称：年度维保",
        "合计：¥61,345.44",
        "合同明细：3 项",
        "税率（%）：13.00",
    ]


def test_system_notes_read_in_the_readers_language(ctx):
    with force_locale("zh_Hans"):
        assert audit.note_text("demo data") == "演示数据"
        assert audit.note_text("brand-scan").startswith("每日检查")
        assert audit.note_text("客户要求延期") == "客户要求延期"  # what a person wrote
    with force_locale("en"):
        assert audit.note_text("demo data") == "Demo data"


def test_a_setting_change_reads_by_the_settings_label_and_kind(ctx):
    from mktapp.core import settings

    money_spec = next(s for s in settings.REGISTRY.values() if s.kind == "money")
    with force_locale("zh_Hans"):
        shown = audit_display.display_record_label("Setting", money_spec.key)
        assert shown == str(money_spec.label) and CJK.search(shown)
        assert format_value("Setting", "value", "5000.00", record=money_spec.key) == "¥5,000.00"
