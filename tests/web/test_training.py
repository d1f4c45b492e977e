"""Training records (P7.1): who sees whose, the form's bad input, archive and restore."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, TrainingRecord

EN = {"Accept-Language": "en"}


def record_of(app, owner_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(TrainingRecord.id).where(TrainingRecord.owner_id == owner_id).limit(1)
        )


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(TrainingRecord.id)))


def good(trainee_id, **change):
    data = {
        "trainee": str(trainee_id),
        "course": "产品知识培训",
        "provider": "公司产品部",
        "taken_on": "2026-03-10",
        "hours": "7.5",
        "result": "合格",
        "notes": "",
    }
    data.update(change)
    return data


def test_sales_rep_sees_only_their_own_training(login):
    page = login("sales1").get("/org/training").get_data(as_text=True)
    assert "销售合同条款与风险" in page  # sales1's
    for other in ("刘洋", "陈静", "李晓梅", "大客户开发与商务谈判"):
        assert other not in page


def test_group_leader_sees_the_groups_training_but_not_other_groups(login):
    page = login("sales3").get("/org/training").get_data(as_text=True)
    for name in ("张伟", "刘洋", "陈静"):
        assert name in page
    assert "李晓梅" not in page and "市场调研方法与问卷设计" not in page


@pytest.mark.parametrize("username", ["manager", "boss", "admin"])
def test_manager_executive_and_admin_see_everyones_training(login, username):
    page = login(username).get("/org/training").get_data(as_text=True)
    for name in ("王建国", "李晓梅", "张伟", "黄丽"):
        assert name in page


def test_finance_without_records_sees_an_empty_list(login):
    page = login("finance1").get("/org/training", headers=EN).get_data(as_text=True)
    assert "No training recorded yet." in page


def test_sales_rep_opening_another_reps_record_gets_404(app, login, demo):
    other = record_of(app, demo["sales2"])
    c = login("sales1")
    assert c.get(f"/org/training/{other}").status_code == 404
    assert c.get(f"/org/training/{other}/edit").status_code == 404
    assert c.post(f"/org/training/{other}/archive").status_code == 404
    with app.app_context():
        assert db.session.get(TrainingRecord, other).archived_at is None


def test_unknown_record_is_404(login):
    c = login("manager")
    assert c.get("/org/training/999999").status_code == 404
    assert c.get("/org/training/999999/edit").status_code == 404
    assert c.post("/org/training/999999/archive").status_code == 404


def test_group_leader_may_read_but_not_change_a_members_record(app, login, demo):
    record = record_of(app, demo["sales1"])
    c = login("sales3")
    assert c.get(f"/org/training/{record}").status_code == 200
    assert c.get(f"/org/training/{record}/edit").status_code == 403
    assert c.post(f"/org/training/{record}/archive").status_code == 403


def test_filters_by_person_year_and_search_and_adds_up_hours(login, demo):
    c = login("manager")
    page = c.get(f"/org/training?person={demo['sales1']}").get_data(as_text=True)
    assert "顾问式销售技巧" in page and "销售合同条款与风险" in page
    assert "大客户开发与商务谈判" not in page
    assert ">17<" in page  # 14 + 3 hours for 张伟
    page = c.get("/org/training?year=2025").get_data(as_text=True)
    assert "营销团队管理与绩效辅导" in page and "社交媒体内容运营" not in page
    page = c.get("/org/training?q=投诉").get_data(as_text=True)
    assert "客户投诉处理与沟通" in page and "顾问式销售技巧" not in page
    page = c.get("/org/training?q=李晓梅").get_data(as_text=True)
    assert "社交媒体内容运营" in page and "顾问式销售技巧" not in page


def test_sorts_by_hours_both_ways(login):
    c = login("manager")
    up = c.get("/org/training?sort=hours&dir=asc").get_data(as_text=True)
    down = c.get("/org/training?sort=hours&dir=desc").get_data(as_text=True)
    assert up.index("品牌视觉规范培训") < up.index("大客户开发与商务谈判")
    assert down.index("大客户开发与商务谈判") < down.index("品牌视觉规范培训")
    # Nonsense parameters fall back to the defaults instead of failing.
    assert c.get("/org/training?sort=evil&dir=x&page=-3&year=abc&person=z").status_code == 200


def test_pages_through_many_records_with_a_fixed_number_of_queries(app, login, demo, count_queries):
    with app.app_context():
        for i in range(60):
            db.session.add(
                TrainingRecord(
                    owner_id=demo["sales2"],
                    course=f"在线课程 {i:02d}",
                    taken_on=date(2025, 1, 1 + i % 28),
                    hours=Decimal("1.5"),
                )
            )
        db.session.commit()
    c = login("manager")
    with count_queries() as small:
        c.get(f"/org/training?person={demo['sales1']}")
    with count_queries() as big:
        page = c.get("/org/training", headers=EN).get_data(as_text=True)
    assert big.count == small.count
    assert "Page 1 of 3" in page
    page2 = c.get("/org/training?page=2").get_data(as_text=True)
    assert "在线课程" in page2


def test_list_answers_htmx_with_the_results_fragment(login):
    response = login("manager").get("/org/training?q=培训", htmx="training_results")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="training_results"') and "<html" not in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_sales_rep_records_their_own_training(app, login, demo):
    c = login("sales1")
    response = c.post("/org/training/new", good(demo["sales1"]))
    assert response.status_code == 303
    with app.app_context():
        record = db.session.scalars(
            select(TrainingRecord).where(TrainingRecord.course == "产品知识培训")
        ).one()
        assert record.owner_id == demo["sales1"]
        assert record.hours == Decimal("7.5")
        assert db.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.record_type == "TrainingRecord", AuditLog.record_id == record.id
            )
        )
    assert response.headers["Location"].endswith(f"/org/training/{record.id}")


def test_sales_rep_cannot_record_training_for_someone_else(app, login, demo):
    before = count(app)
    response = login("sales1").post("/org/training/new", good(demo["sales2"]), headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="trainee-error"' in page and "Choose a person from the list." in page
    assert count(app) == before


def test_manager_records_training_for_anyone(app, login, demo):
    response = login("manager").post("/org/training/new", good(demo["service1"]))
    assert response.status_code == 303
    with app.app_context():
        owners = db.session.scalars(
            select(TrainingRecord.owner_id).where(TrainingRecord.course == "产品知识培训")
        ).all()
    assert owners == [demo["service1"]]


BAD = [
    ({"course": ""}, "course"),
    ({"course": "课" * 121}, "course"),
    ({"provider": "机" * 121}, "provider"),
    ({"result": "好" * 41}, "result"),
    ({"notes": "注" * 5001}, "notes"),
    ({"hours": ""}, "hours"),
    ({"hours": "-1"}, "hours"),
    ({"hours": "0"}, "hours"),
    ({"hours": "abc"}, "hours"),
    ({"hours": "1000.5"}, "hours"),
    ({"hours": "NaN"}, "hours"),
    ({"hours": "Infinity"}, "hours"),
    ({"hours": "1.25"}, "hours"),
    ({"taken_on": ""}, "taken_on"),
    ({"taken_on": "2026-02-30"}, "taken_on"),
    ({"taken_on": "30/01/2026"}, "taken_on"),
    ({"taken_on": "1900-01-01"}, "taken_on"),
    ({"trainee": "999999"}, "trainee"),
    ({"trainee": "abc"}, "trainee"),
    ({"trainee": ""}, "trainee"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_training_form_refuses_bad_input_next_to_the_field(app, login, demo, change, field):
    before = count(app)
    response = login("manager").post("/org/training/new", good(demo["sales1"], **change))
    assert response.status_code == 422, change
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert f'aria-describedby="{field}-error"' in page or f'{field}-error"' in page
    assert count(app) == before


def test_training_form_without_csrf_token_is_refused(app, login, demo):
    before = count(app)
    response = login("manager").post("/org/training/new", good(demo["sales1"]), csrf=False)
    assert response.status_code == 400
    assert count(app) == before


def test_invalid_form_over_htmx_returns_only_the_form(login, demo):
    response = login("manager").post(
        "/org/training/new", good(demo["sales1"], course=""), htmx=True
    )
    assert response.status_code == 422
    assert response.get_data(as_text=True).lstrip().startswith('<form id="training_form"')


def test_owner_corrects_a_record_and_history_shows_the_change(app, login, demo):
    record = record_of(app, demo["sales1"])
    c = login("sales1")
    response = c.post(f"/org/training/{record}/edit", good(demo["sales1"], hours="15"))
    assert response.status_code == 303
    page = c.get(f"/org/training/{record}").get_data(as_text=True)
    assert "15" in page and "<del>" in page


def test_edit_with_bad_input_changes_nothing(app, login, demo):
    record = record_of(app, demo["sales1"])
    with app.app_context():
        before = db.session.get(TrainingRecord, record).course
    response = login("sales1").post(
        f"/org/training/{record}/edit", good(demo["sales1"], course="", hours="-5")
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(TrainingRecord, record).course == before


def test_owner_archives_and_restores_a_record(app, login, demo):
    record = record_of(app, demo["sales1"])
    c = login("sales1")
    assert c.post(f"/org/training/{record}/archive").status_code == 303
    with app.app_context():
        assert db.session.get(TrainingRecord, record).archived_at is not None
    listing = c.get("/org/training").get_data(as_text=True)
    assert f'/org/training/{record}"' not in listing
    assert f'/org/training/{record}"' in c.get("/org/training?status=archived").get_data(
        as_text=True
    )
    assert c.post(f"/org/training/{record}/restore").status_code == 303
    with app.app_context():
        assert db.session.get(TrainingRecord, record).archived_at is None
        actions = db.session.scalars(
            select(AuditLog.action).where(
                AuditLog.record_type == "TrainingRecord", AuditLog.record_id == record
            )
        ).all()
    assert "archive" in actions and "restore" in actions


def test_training_is_in_the_sidebar(login):
    page = login("sales1").get("/org/training").get_data(as_text=True)
    assert 'href="/org/training"' in page and 'href="/org/policy"' in page
