"""Research plans through the browser's eyes: the list, the form, the schedule and staff
fragments, approval by the marketing manager through the engine, start and finish, the
timeline, field notes and who may see what."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import FieldNote, ResearchPlan


def _plan(app, title="新产品需求调研") -> int:
    with app.app_context():
        return db.session.scalar(
            select(ResearchPlan.id).where(ResearchPlan.title.like(f"%{title}%"))
        )


def _new_plan(client, **changes) -> object:
    data = {
        "title": "新产品需求调研",
        "purpose": "了解客户对新产品的需求",
        "subjects": "华东区重点客户",
        "contents": ["demand", "competitors"],
        "methods": ["questionnaire", "interview"],
        "start_on": "2026-12-01",
        "end_on": "2027-01-31",
    }
    data.update(changes)
    return client.post("/research/plans/new", data=data)


def test_market_specialist_sees_the_plan_list_with_demo_plans(login):
    page = login("market1").get("/research/plans/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "华东区智能办公设备市场需求调研" in text and "进行中" in text


def test_plan_list_search_answers_with_the_rows_fragment(login):
    response = login("market1").get("/research/plans/?q=竞争对手", htmx="plan_rows")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and '<div id="plan_rows">' in text
    assert "<html" not in text
    assert "主要竞争对手产品与价格跟踪" in text and "华东区智能办公设备" not in text


def test_plan_list_filters_by_status_and_content(login):
    text = (
        login("market1")
        .get("/research/plans/?status=done&content=satisfaction")
        .get_data(as_text=True)
    )
    assert "2026年度客户满意度调研" in text and "主要竞争对手" not in text


def test_sales_rep_cannot_open_research(login):
    client = login("sales1")
    assert client.get("/research/plans/").status_code == 403
    assert client.get("/research/surveys/").status_code == 403


def test_executive_reads_plans_but_cannot_write_one(login):
    client = login("boss")
    assert client.get("/research/plans/").status_code == 200
    assert client.get("/research/plans/new").status_code == 403


def test_unknown_plan_is_a_404(login):
    assert login("market1").get("/research/plans/99999").status_code == 404


def test_plan_ending_before_it_starts_is_refused_and_nothing_is_saved(app, login):
    response = _new_plan(login("market1"), end_on="2026-11-01")
    assert response.status_code == 422
    assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
    assert _plan(app) is None


def test_plan_without_content_is_refused(app, login):
    response = _new_plan(login("market1"), contents=[])
    assert response.status_code == 422
    assert _plan(app) is None


def test_plan_goes_from_draft_through_the_manager_to_completed(app, login):
    author = login("market1")
    assert _new_plan(author).status_code == 303
    plan_id = _plan(app)
    # Submitting without a schedule or staff is refused.
    refused = author.post(f"/research/plans/{plan_id}/submit")
    assert refused.status_code == 422 and "里程碑" in refused.get_data(as_text=True)
    fragment = author.post(
        f"/research/plans/{plan_id}/milestones",
        data={"due_on": "2026-12-15", "title": "问卷定稿"},
        htmx=True,
    )
    assert fragment.status_code == 200
    assert 'id="plan_schedule"' in fragment.get_data(as_text=True)
    assert "问卷定稿" in fragment.get_data(as_text=True)
    with app.app_context():
        from mktapp.models import User

        market2 = db.session.scalar(select(User.id).where(User.username == "market2"))
    staff = author.post(
        f"/research/plans/{plan_id}/staff",
        data={"user_id": str(market2), "task": "客户访谈"},
        htmx=True,
    )
    assert "客户访谈" in staff.get_data(as_text=True)
    assert author.post(f"/research/plans/{plan_id}/submit").status_code == 303
    with app.app_context():
        plan = db.session.get(ResearchPlan, plan_id)
        assert plan.status == "pending"
        step = engine.pending_step(engine.current_request(plan))
        assert step.assignee_role == "marketing_manager"
        step_id = step.id
    # Under review the plan cannot be edited.
    assert author.get(f"/research/plans/{plan_id}/edit").status_code == 422
    manager = login("manager")
    page = manager.get(f"/research/plans/{plan_id}").get_data(as_text=True)
    assert f"/approvals/steps/{step_id}/approve" in page
    manager.post(f"/approvals/steps/{step_id}/approve", data={"comment": "同意"})
    with app.app_context():
        assert db.session.get(ResearchPlan, plan_id).status == "approved"
    assert author.post(f"/research/plans/{plan_id}/start").status_code == 303
    assert author.post(f"/research/plans/{plan_id}/finish").status_code == 303
    with app.app_context():
        assert db.session.get(ResearchPlan, plan_id).status == "done"


def test_manager_rejection_returns_the_plan_to_its_author(app, login):
    plan_id = _plan(app, "行业政策与技术趋势")
    with app.app_context():
        step_id = engine.pending_step(
            engine.current_request(db.session.get(ResearchPlan, plan_id))
        ).id
    login("manager").post(f"/approvals/steps/{step_id}/reject", data={"comment": "请补充预算"})
    with app.app_context():
        assert db.session.get(ResearchPlan, plan_id).status == "rejected"
    assert login("market2").get(f"/research/plans/{plan_id}/edit").status_code == 200


def test_author_cannot_approve_their_own_plan(app, login):
    plan_id = _plan(app, "行业政策与技术趋势")
    with app.app_context():
        step_id = engine.pending_step(
            engine.current_request(db.session.get(ResearchPlan, plan_id))
        ).id
    login("market2").post(f"/approvals/steps/{step_id}/approve", data={})
    with app.app_context():
        assert db.session.get(ResearchPlan, plan_id).status == "pending"


def test_milestone_is_ticked_off_in_place(app, login):
    plan_id = _plan(app, "华东区智能办公设备")
    with app.app_context():
        milestone = db.session.get(ResearchPlan, plan_id).milestones[-1]
        mid, done = milestone.id, milestone.done
    response = login("market1").post(f"/research/milestones/{mid}/toggle", htmx=True)
    assert response.status_code == 200 and 'id="plan_schedule"' in response.get_data(as_text=True)
    with app.app_context():
        from mktapp.models import ResearchMilestone

        assert db.session.get(ResearchMilestone, mid).done is not done


def test_timeline_draws_the_plans_as_svg(login):
    # The demo's plan started a month ago and runs 75 days: a window from 3 months back.
    start = clock.today().replace(day=1) - timedelta(days=80)
    url = f"/research/plans/timeline?from={start:%Y-%m}&span=6"
    text = login("manager").get(url).get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="gantt"' in text
    assert "华东区智能办公设备" in text


def test_timeline_with_a_bad_month_falls_back_to_this_quarter(login):
    assert login("manager").get("/research/plans/timeline?from=junk").status_code == 200


def test_field_note_is_recorded_with_an_attachment_panel(app, login):
    plan_id = _plan(app, "华东区智能办公设备")
    client = login("market1")
    response = client.post(
        f"/research/plans/{plan_id}/notes/new",
        data={
            "method": "focus_group",
            "held_on": "2026-11-20",
            "title": "经销商座谈会",
            "participants": "6 家经销商",
            "notes": "主要诉求：账期与返利。",
        },
    )
    assert response.status_code == 303
    note_url = response.headers["Location"]
    page = client.get(note_url).get_data(as_text=True)
    assert "经销商座谈会" in page and "attachment-upload" in page


def test_field_note_with_a_method_outside_the_list_is_refused(app, login):
    plan_id = _plan(app, "华东区智能办公设备")
    with app.app_context():
        before = db.session.scalar(select(func.count(FieldNote.id)))
    response = login("market1").post(
        f"/research/plans/{plan_id}/notes/new",
        data={"method": "questionnaire", "held_on": "2026-11-20", "title": "x", "notes": "y"},
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(FieldNote.id))) == before


def test_plans_export_to_excel(login):
    from io import BytesIO

    from openpyxl import load_workbook

    response = login("market1").get("/research/plans.xlsx?status=done")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    titles = [row[1] for row in sheet.iter_rows(values_only=True)]
    assert any(t and "客户满意度调研" in t for t in titles)


def test_sidebar_links_research_for_market_specialists(login):
    text = login("market1").get("/research/plans/").get_data(as_text=True)
    assert re.search(r'href="/research/surveys/"', text)
    assert re.search(r'href="/research/plans/timeline"', text)


def test_policy_chapter_p2_links_to_plans_and_questionnaires(login):
    page = login("market1").get("/org/policy/P2").get_data(as_text=True)
    assert 'href="/research/plans/"' in page and 'href="/research/surveys/"' in page
