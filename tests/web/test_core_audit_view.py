"""The audit view and the history panel, through the browser's eyes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select, update

from mktapp.core import audit
from mktapp.extensions import db
from mktapp.models import AuditLog, TrainingRecord, User, utcnow


def _make_training(app, owner_id: int, actor_id: int, course: str = "客户关系管理") -> int:
    with app.app_context(), audit.acting_as(actor_id):
        record = TrainingRecord(
            owner_id=owner_id, course=course, taken_on=date(2024, 5, 6), hours=Decimal("6.0")
        )
        db.session.add(record)
        db.session.commit()
        return record.id


def _rows(html: str) -> int:
    return len(re.findall(r"<tr>\s*<td class=\"nowrap\">", html))


@pytest.mark.parametrize("username", ["admin", "manager", "boss"])
def test_admin_manager_and_executive_open_the_audit_log(login, username):
    page = login(username).get("/audit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Audit log</h1>" in html or "审计" in html or "Audit" in html
    assert 'id="audit_rows"' in html


@pytest.mark.parametrize("username", ["sales1", "market1", "service1", "finance1"])
def test_staff_without_audit_permission_are_refused(login, username):
    assert login(username).get("/audit/").status_code == 403


def test_audit_log_is_in_the_admin_section_of_the_sidebar(login):
    html = login("manager").get("/").get_data(as_text=True)
    assert 'href="/audit/"' in html
    html = login("sales1").get("/").get_data(as_text=True)
    assert 'href="/audit/"' not in html


def test_audit_log_shows_newest_first_with_who_and_what(app, login, demo):
    first = _make_training(app, demo["sales1"], demo["manager"], "第一门课")
    second = _make_training(app, demo["sales2"], demo["market1"], "第二门课")
    client = login("manager")
    html = client.get("/audit/?type=TrainingRecord", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert html.index("第二门课") < html.index("第一门课")
    assert f"#{first}" in html and f"#{second}" in html
    oldest = client.get("/audit/?type=TrainingRecord&sort=old").get_data(as_text=True)
    assert oldest.index("第一门课") < oldest.index("第二门课")


def test_filters_by_type_actor_action_text_and_record(app, login, demo):
    rec = _make_training(app, demo["sales1"], demo["manager"], "谈判技巧")
    _make_training(app, demo["sales2"], demo["market1"], "品牌管理")
    with app.app_context(), audit.acting_as(demo["manager"]):
        record = db.session.get(TrainingRecord, rec)
        record.archived_at = utcnow()
        db.session.commit()
    client = login("manager")

    by_actor = client.get(f"/audit/?type=TrainingRecord&actor={demo['market1']}").get_data(
        as_text=True
    )
    assert "品牌管理" in by_actor and "谈判技巧" not in by_actor

    archived = client.get("/audit/?action=archive").get_data(as_text=True)
    assert _rows(archived) == 1 and "谈判技巧" in archived

    text = client.get("/audit/?q=品牌").get_data(as_text=True)
    assert "品牌管理" in text and "谈判技巧" not in text

    one = client.get(f"/audit/?type=TrainingRecord&record_id={rec}").get_data(as_text=True)
    assert _rows(one) == 2

    system = client.get("/audit/?actor=system&type=User").get_data(as_text=True)
    assert _rows(system) > 0  # the demo data was loaded by the system


def test_date_range_is_in_the_company_time_zone(app, login, demo):
    rec = _make_training(app, demo["sales1"], demo["manager"], "时区课程")
    # 2024-06-01 23:30 in Shanghai is 15:30 UTC that day.
    with app.app_context():
        db.session.execute(
            update(AuditLog)
            .where(AuditLog.record_id == rec, AuditLog.record_type == "TrainingRecord")
            .values(at=datetime(2024, 6, 1, 15, 30, tzinfo=UTC))
        )
        db.session.commit()
    client = login("manager")
    inside = client.get("/audit/?date_from=2024-06-01&date_to=2024-06-01").get_data(as_text=True)
    assert "时区课程" in inside
    after = client.get("/audit/?date_from=2024-06-02").get_data(as_text=True)
    assert "时区课程" not in after


def test_impossible_dates_and_end_before_start_say_so(login):
    client = login("manager")
    bad = client.get("/audit/?date_from=2024-02-30")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="date_from-error"' in html and 'aria-invalid="true"' in html
    reversed_range = client.get("/audit/?date_from=2024-05-02&date_to=2024-05-01")
    assert reversed_range.status_code == 422
    assert "date_to-error" in reversed_range.get_data(as_text=True)
    unknown = client.get("/audit/?type=NoSuchThing&actor=abc")
    assert unknown.status_code == 422


def test_htmx_filtering_returns_only_the_rows_block(login):
    response = login("manager").get("/audit/?type=User", htmx="audit_rows")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="audit_rows"')
    assert "<html" not in html and "audit-filters" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_paging_keeps_filters_and_costs_a_fixed_number_of_queries(app, login, demo, count_queries):
    client = login("manager")
    for i in range(3):
        _make_training(app, demo["sales1"], demo["manager"], f"课程{i}")
    # The demo has training records of its own; these were written by the manager.
    url = f"/audit/?type=TrainingRecord&actor={demo['manager']}"
    client.get("/audit/")  # warm up
    with count_queries() as few:
        client.get(url)
    for i in range(40):
        _make_training(app, demo["sales1" if i % 2 else "sales2"], demo["manager"], f"更多{i}")
    with count_queries() as many:
        page = client.get(url)
    assert many.count == few.count
    html = page.get_data(as_text=True)
    assert _rows(html) == app.config["PAGE_SIZE"]
    assert "page=2" in html and "type=TrainingRecord" in html
    second = client.get(url + "&page=2").get_data(as_text=True)
    assert _rows(second) == 43 - app.config["PAGE_SIZE"]
    assert client.get("/audit/?page=abc").status_code == 200
    assert client.get("/audit/?page=999").status_code == 200


def test_archive_and_restore_read_as_such_in_both_languages(app, login, demo):
    rec = _make_training(app, demo["sales1"], demo["manager"])
    with app.app_context(), audit.acting_as(demo["manager"]):
        record = db.session.get(TrainingRecord, rec)
        record.archived_at = utcnow()
        db.session.commit()
        record.archived_at = None
        db.session.commit()
    client = login("manager")
    html = client.get(f"/audit/?record_id={rec}&type=TrainingRecord").get_data(as_text=True)
    assert "Archived" in html or "归档" in html
    assert "Restored" in html or "恢复" in html


def _render_history(app, user_id: int, record_type, record_id: int) -> str:
    with app.test_request_context():
        user = db.session.get(User, user_id)
        login_user(user)
        record = db.session.get(record_type, record_id)
        return render_template_string(
            '{% from "_macros/history.html" import history_panel %}{{ history_panel(record) }}',
            record=record,
        )


def test_history_panel_shows_changes_from_and_to_newest_first(app, demo):
    rec = _make_training(app, demo["sales1"], demo["manager"], "产品培训")
    with app.app_context(), audit.acting_as(demo["market1"]):
        record = db.session.get(TrainingRecord, rec)
        record.hours = Decimal("7.5")
        record.notes = "很长的培训说明。" * 20
        record.owner_id = demo["sales2"]
        db.session.commit()
    html = _render_history(app, demo["manager"], TrainingRecord, rec)
    with app.app_context():
        names = {u.username: u.display_name for u in db.session.scalars(select(User))}
    assert html.index(names["market1"]) < html.index(names["manager"])
    assert "6.0" in html and "7.5" in html and "→" in html
    assert names["sales1"] in html and names["sales2"] in html  # owner shown by name
    assert '<details class="long-text">' in html  # long text folded, full text inside
    assert "很长的培训说明。" * 20 in html
    assert f"record_id={rec}" in html  # link to the audit view for who may see it


def test_history_panel_has_no_audit_link_for_staff_and_says_when_empty(app, demo):
    rec = _make_training(app, demo["sales1"], demo["sales1"])
    html = _render_history(app, demo["sales1"], TrainingRecord, rec)
    assert "/audit/" not in html
    with app.app_context():
        db.session.execute(AuditLog.__table__.delete())
        db.session.commit()
    empty = _render_history(app, demo["sales1"], TrainingRecord, rec)
    assert 'class="empty"' in empty


def test_history_of_a_user_shows_role_changes_and_no_password(app, client, demo):
    client.login("sales1")
    with app.app_context():
        user = db.session.get(User, demo["sales1"])
        assert user.last_login_at > utcnow() - timedelta(minutes=1)
    html = _render_history(app, demo["manager"], User, demo["sales1"])
    assert "password" not in html.lower()
    assert "pbkdf2" not in html
