"""Market activities through the browser's eyes (P3.2): the plan form and its bad input,
submission and approval through the engine (with the company leader over the threshold or
over the free budget), the budget reserved on the monitoring page, change requests, the
list (search, filters, sort, htmx fragment, export), the month calendar, the lifecycle
(start, end, cancel, archive, brand-scan) and who may see and do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from mktapp.brand import activities as svc
from mktapp.core import approvals as engine
from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.brand import Activity, ActivityBudgetLine, ActivityChange


def _plan(**changes) -> dict:
    data = {
        "kind": "launch",
        "theme": "智能会议平板新品发布会",
        "purpose": "发布新品，邀请重点客户体验",
        "target_participants": "120",
        "target_leads": "30",
        "target_sales": "500000",
        "start_on": "2026-12-10",
        "end_on": "2026-12-11",
        "place": "上海国际会议中心",
        "form": "offline",
        "audience": "华东区重点客户",
        "content": "开场、新品演示、客户体验、答谢晚宴",
        "staff-0-user_id": "",
        "staff-0-duty": "",
        "lines-0-category": "activity",
        "lines-0-period": "",
        "lines-0-amount": "8000",
        "lines-0-note": "场地",
        "lines-1-category": "brand",
        "lines-1-period": "2026-12",
        "lines-1-amount": "2000",
        "lines-1-note": "物料",
    }
    data.update(changes)
    return data


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _activity(app, number=None) -> Activity:
    with app.app_context():
        stmt = select(Activity).order_by(Activity.id.desc())
        if number:
            stmt = select(Activity).where(Activity.number == number)
        activity = db.session.scalar(stmt)
        activity.budget_lines  # noqa: B018 (loaded before the session ends)
        db.session.expunge_all()
        return activity


def _new(client, **changes):
    return client.post("/brand/activities/new", data=_plan(**changes))


def _approve_all(app, login, activity_id, doc_type="Activity", comment=""):
    """Approve each pending step as its assignee (manager, then boss)."""
    for username in ("manager", "boss"):
        with app.app_context():
            request = (
                db.session.query(engine.ApprovalRequest)
                .filter_by(doc_type=doc_type, doc_id=activity_id)
                .order_by(engine.ApprovalRequest.round.desc())
                .first()
            )
            step = engine.pending_step(request)
            if step is None:
                return
            step_id = step.id
        response = login(username).post(
            f"/approvals/steps/{step_id}/approve", data={"comment": comment}
        )
        assert response.status_code in (303, 204), response.get_data(as_text=True)[:800]


def _free(app, category, year, month) -> Decimal:
    with app.app_context():
        return svc.budget_cells(year).get((category, month), svc.BudgetCell()).free


# --- the list --------------------------------------------------------------------------------


def test_empty_list_shows_the_empty_state(login):
    page = login("market1").get("/brand/activities/")
    assert page.status_code == 200
    assert "/brand/activities/new" in page.get_data(as_text=True)


def test_administrator_alone_cannot_see_activities(login):
    assert login("admin").get("/brand/activities/").status_code == 403


def test_sales_rep_reads_but_cannot_plan(login, app):
    market = login("market1")
    _new(market)
    activity = _activity(app)
    sales = login("sales1")
    assert sales.get("/brand/activities/").status_code == 200
    assert sales.get(f"/brand/activities/{activity.id}").status_code == 200
    assert sales.get("/brand/activities/new").status_code == 403
    assert _new(sales).status_code == 403


def test_unknown_activity_is_a_404(login):
    assert login("market1").get("/brand/activities/99999").status_code == 404


def test_list_search_filter_sort_fragment_and_export(login, app):
    client = login("market1")
    _new(client)
    _new(
        client,
        theme="双十二促销活动",
        kind="promotion",
        place="杭州门店",
        **{"start_on": "2026-12-12", "end_on": "2026-12-12"},
    )
    page = client.get("/brand/activities/?q=杭州").get_data(as_text=True)
    assert "双十二促销活动" in page and "智能会议平板新品发布会" not in page
    fragment = client.get("/brand/activities/?kind=launch", htmx="activity_rows")
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and '<div id="activity_rows">' in text
    assert "<html" not in text and "智能会议平板新品发布会" in text and "双十二" not in text
    assert "HD-2026-0001" in client.get("/brand/activities/?q=HD-2026-0001").get_data(as_text=True)
    assert "双十二" not in client.get("/brand/activities/?status=approved").get_data(as_text=True)
    sorted_page = client.get("/brand/activities/?sort=number&dir=asc").get_data(as_text=True)
    assert sorted_page.index("智能会议") < sorted_page.index("双十二")
    sorted_page = client.get("/brand/activities/?sort=number&dir=desc").get_data(as_text=True)
    assert sorted_page.index("智能会议") > sorted_page.index("双十二")
    export = client.get("/brand/activities.xlsx?kind=promotion")
    assert export.status_code == 200
    assert export.mimetype.endswith("spreadsheetml.sheet")


def test_list_filter_matches_nothing(login):
    client = login("market1")
    _new(client)
    assert "HD-2026-0001" in client.get("/brand/activities/?year=2026").get_data(as_text=True)
    text = client.get("/brand/activities/?year=2001").get_data(as_text=True)
    assert "HD-2026-0001" not in text and 'class="empty-state"' in text


# --- the plan form -----------------------------------------------------------------------------


def test_new_form_has_staff_and_budget_rows_and_adds_a_row(login):
    client = login("market1")
    page = client.get("/brand/activities/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "lines-2-amount" in text and "staff-2-duty" in text
    more = client.post("/brand/activities/new", data=_plan(action="add_line"), htmx=True)
    assert more.status_code == 200 and "lines-3-amount" in more.get_data(as_text=True)


def test_plan_is_saved_numbered_with_staff_and_lines(login, app, demo):
    response = _new(
        login("market1"), **{"staff-0-user_id": str(demo["market2"]), "staff-0-duty": "签到"}
    )
    assert response.status_code == 303
    activity = _activity(app)
    assert activity.number == "HD-2026-0001" and activity.status == "draft"
    lines = sorted((b.category, b.year, b.month, b.amount) for b in activity.budget_lines)
    assert lines == [
        ("activity", 2026, 12, Decimal("8000.00")),
        ("brand", 2026, 12, Decimal("2000.00")),
    ]
    with app.app_context():
        a = db.session.get(Activity, activity.id)
        assert [(s.user_id, s.duty) for s in a.staff] == [(demo["market2"], "签到")]
    page = login("market1").get(f"/brand/activities/{activity.id}").get_data(as_text=True)
    assert "¥10,000.00" in page and "上海国际会议中心" in page


def test_end_before_start_is_refused_and_nothing_is_stored(login, app):
    response = _new(login("market1"), end_on="2026-12-01")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="end_on-error"' in text
    assert _count(app, Activity) == 0


def test_unknown_category_is_refused(login, app):
    response = _new(login("market1"), **{"lines-0-category": "yachts"})
    assert response.status_code == 422
    assert 'id="lines-0-category-error"' in response.get_data(as_text=True)
    assert _count(app, Activity) == 0 and _count(app, ActivityBudgetLine) == 0


def test_amount_below_zero_is_refused(login, app):
    response = _new(login("market1"), **{"lines-1-amount": "-500"})
    assert response.status_code == 422
    assert 'id="lines-1-amount-error"' in response.get_data(as_text=True)
    assert _count(app, Activity) == 0 and _count(app, ActivityBudgetLine) == 0


def test_another_specialist_cannot_edit_a_draft_but_the_manager_can(login, app):
    _new(login("market1"))
    activity = _activity(app)
    assert login("market2").get(f"/brand/activities/{activity.id}/edit").status_code == 403
    manager = login("manager")
    assert manager.get(f"/brand/activities/{activity.id}/edit").status_code == 200
    response = manager.post(f"/brand/activities/{activity.id}/edit", data=_plan(theme="新主题"))
    assert response.status_code == 303
    assert _activity(app).theme == "新主题"


# --- approval, reservation, lifecycle -----------------------------------------------------------------


def test_submit_and_approve_reserves_the_budget_on_monitoring(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    before = _free(app, "activity", 2026, 12)
    response = client.post(f"/brand/activities/{activity.id}/submit")
    assert response.status_code == 303
    assert _activity(app).status == "pending"
    # under the threshold: the marketing manager only
    _approve_all(app, login, activity.id)
    assert _activity(app).status == "approved"
    assert _free(app, "activity", 2026, 12) == before - Decimal("8000.00")
    monitoring = login("manager").get("/expense/monitoring?year=2026").get_data(as_text=True)
    assert "8,000" in monitoring


def test_editing_an_approved_plan_is_refused_and_nothing_changes(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    response = client.post(f"/brand/activities/{activity.id}/edit", data=_plan(theme="偷偷改"))
    assert response.status_code == 422
    assert "/change" in response.get_data(as_text=True) or response.status_code == 422
    assert _activity(app).theme == "智能会议平板新品发布会"


def test_over_the_free_budget_needs_a_reason_and_the_executive(login, app):
    client = login("market1")
    free = _free(app, "brand", 2026, 12)
    need = free + Decimal("5000")
    _new(client, **{"lines-1-amount": str(need)})
    activity = _activity(app)
    refused = client.post(f"/brand/activities/{activity.id}/submit", data={})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "2026-12" in text or "2026年12月" in text
    assert f"{need:,.2f}" in text
    assert _activity(app).status == "draft"
    ok = client.post(
        f"/brand/activities/{activity.id}/submit", data={"over_budget_reason": "年底冲量，值得投入"}
    )
    assert ok.status_code == 303
    with app.app_context():
        request = engine.current_request(db.session.get(Activity, activity.id))
        assert [s.status for s in request.steps] == ["pending", "waiting"]
    page = login("manager").get(f"/brand/activities/{activity.id}").get_data(as_text=True)
    assert f"{need:,.2f}" in page  # the approver sees the warning
    _approve_all(app, login, activity.id, comment="同意，超支部分从Q1调剂")
    done = _activity(app)
    assert done.status == "approved"
    assert "年底冲量" in done.over_budget_reason and "Q1" in done.over_budget_reason


def test_threshold_brings_in_the_executive(login, app):
    client = login("market1")
    _new(client, **{"lines-0-amount": "60000", "lines-0-period": "2026-12"})
    activity = _activity(app)
    with app.app_context():
        a = db.session.get(Activity, activity.id)
        assert svc.needs_executive(a) == (a.budget_total >= svc.executive_threshold())


def test_start_end_and_scan(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    assert client.post(f"/brand/activities/{activity.id}/end").status_code == 422
    assert client.post(f"/brand/activities/{activity.id}/start").status_code == 303
    assert _activity(app).status == "running"
    assert client.post(f"/brand/activities/{activity.id}/end").status_code == 303
    assert _activity(app).status == "ended"


def test_brand_scan_moves_activities_by_date(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["brand-scan", "--date", "2026-12-10"])
    assert result.exit_code == 0 and "1 activities started" in result.output
    assert _activity(app).status == "running"
    result = runner.invoke(args=["brand-scan", "--date", "2026-12-12"])
    assert "1 ended" in result.output
    assert _activity(app).status == "ended"


def test_cancel_needs_a_reason_and_releases_the_budget(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    reserved = _free(app, "activity", 2026, 12)
    assert (
        client.post(f"/brand/activities/{activity.id}/cancel", data={"reason": ""}).status_code
        == 422
    )
    assert _activity(app).status == "approved"
    assert (
        client.post(
            f"/brand/activities/{activity.id}/cancel", data={"reason": "场地取消"}
        ).status_code
        == 303
    )
    done = _activity(app)
    assert done.status == "cancelled" and done.cancel_reason == "场地取消"
    assert _free(app, "activity", 2026, 12) == reserved + Decimal("8000.00")
    assert client.post(f"/brand/activities/{activity.id}/archive").status_code == 303
    assert _activity(app).archived_at is not None


def test_archive_a_draft(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    assert client.post(f"/brand/activities/{activity.id}/archive").status_code == 303
    assert "智能会议" not in client.get("/brand/activities/").get_data(as_text=True)
    assert "智能会议" in client.get("/brand/activities/?archived=1").get_data(as_text=True)


# --- change requests ----------------------------------------------------------------------------------


def test_change_request_is_approved_and_applied(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    form = client.get(f"/brand/activities/{activity.id}/change")
    assert form.status_code == 200 and "上海国际会议中心" in form.get_data(as_text=True)
    no_reason = client.post(
        f"/brand/activities/{activity.id}/change", data=_plan(place="苏州会展中心", reason="")
    )
    assert no_reason.status_code == 422 and _count(app, ActivityChange) == 0
    response = client.post(
        f"/brand/activities/{activity.id}/change",
        data=_plan(place="苏州会展中心", reason="上海场地档期冲突"),
    )
    assert response.status_code == 303
    with app.app_context():
        change = db.session.scalar(select(ActivityChange))
        assert change.status == "pending"
        change_id = change.id
    assert _activity(app).place == "上海国际会议中心"  # not applied before approval
    page = client.get(f"/brand/changes/{change_id}").get_data(as_text=True)
    assert "苏州会展中心" in page and "上海国际会议中心" in page
    detail = client.get(f"/brand/activities/{activity.id}").get_data(as_text=True)
    assert "苏州会展中心" in detail  # the pending change's comparison on the activity page
    _approve_all(app, login, change_id, doc_type="ActivityChange")
    assert _activity(app).place == "苏州会展中心"
    with app.app_context():
        assert db.session.get(ActivityChange, change_id).status == "approved"


def test_change_request_with_bad_budget_line_is_refused(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    response = client.post(
        f"/brand/activities/{activity.id}/change",
        data=_plan(reason="加预算", **{"lines-0-amount": "-1"}),
    )
    assert response.status_code == 422 and _count(app, ActivityChange) == 0


def test_change_request_only_for_approved_plans(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    assert client.get(f"/brand/activities/{activity.id}/change").status_code == 403


# --- the calendar -------------------------------------------------------------------------------------


def test_calendar_shows_the_month_grid_with_the_activity(login, app):
    client = login("market1")
    _new(client)
    page = client.get("/brand/activities/calendar?month=2026-12")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "智能会议平板新品发布会" in text and "cal-s2" in text
    assert "month=2026-11" in text and "month=2027-01" in text
    fragment = client.get("/brand/activities/calendar?month=2027-01", htmx="calendar_grid")
    assert "<html" not in fragment.get_data(as_text=True)


def test_calendar_marks_today_and_works_in_english(login, app, demo):
    with app.app_context():
        db.session.get(User, demo["market1"]).locale = "en"
        db.session.commit()
    client = login("market1")
    text = client.get("/brand/activities/calendar").get_data(as_text=True)
    assert 'aria-current="date"' in text and "Mon" in text and "Today" in text
    bad = client.get("/brand/activities/calendar?month=nonsense")
    assert bad.status_code == 200


def test_nav_lists_activities(login):
    text = login("market1").get("/brand/activities/").get_data(as_text=True)
    assert "/brand/activities/calendar" in text


def test_date_helpers():
    assert svc.parse_month("2026-11", date(2026, 1, 1)) == date(2026, 11, 1)
    assert svc.parse_month("2026-13", date(2026, 1, 5)) == date(2026, 1, 1)


def test_threshold_setting_is_listed_with_the_flow(login):
    text = login("admin").get("/approvals/settings").get_data(as_text=True)
    assert "市场活动方案" in text and "市场活动由公司领导审批的预算起点" in text


def test_list_runs_the_same_statements_however_many_activities(login, app, count_queries):
    client = login("market1")
    _new(client)
    client.get("/brand/activities/?q=x")  # warm the sidebar and scope caches
    with count_queries() as few:
        client.get("/brand/activities/?q=智能")
    for i in range(12):
        _new(client, theme=f"智能活动 {i}")
    with count_queries() as many:
        client.get("/brand/activities/?q=智能")
    assert few.count == many.count
    with count_queries() as cached:
        client.get("/brand/activities/?q=智能")
    assert cached.count < many.count  # the rows come from the fragment cache


def test_returned_plan_is_edited_and_resubmitted(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    with app.app_context():
        step = engine.pending_step(engine.current_request(db.session.get(Activity, activity.id)))
        step_id = step.id
    rejected = login("manager").post(
        f"/approvals/steps/{step_id}/reject", data={"comment": "预算明细不够细"}
    )
    assert rejected.status_code in (303, 204)
    assert _activity(app).status == "rejected"
    edited = client.post(f"/brand/activities/{activity.id}/edit", data=_plan(place="苏州"))
    assert edited.status_code == 303 and _activity(app).place == "苏州"
    assert client.post(f"/brand/activities/{activity.id}/submit").status_code == 303
    assert _activity(app).status == "pending"


def test_registered_panels_and_actions_show_on_the_activity_page(login, app, monkeypatch):
    from mktapp.brand import activity_page

    parts = activity_page._parts
    monkeypatch.setattr(parts, "_panels", list(parts._panels))
    monkeypatch.setattr(parts, "_actions", list(parts._actions))
    activity_page.register_panel(
        activity_page.Panel(
            key="test-panel",
            title="签到面板",
            template="_macros/toasts.html",
            load=lambda activity, user: {"messages": [("success", f"面板内容 {activity.number}")]},
            permissions=("brand.view",),
        )
    )
    activity_page.register_action(
        activity_page.Action("brand.calendar", "查看日历", args=lambda activity: {})
    )
    client = login("market1")
    _new(client)
    activity = _activity(app)
    text = client.get(f"/brand/activities/{activity.id}").get_data(as_text=True)
    assert "签到面板" in text and f"面板内容 {activity.number}" in text
    assert "查看日历" in text and 'href="/brand/activities/calendar"' in text


def test_change_over_the_free_budget_goes_to_the_executive(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    client.post(f"/brand/activities/{activity.id}/submit")
    _approve_all(app, login, activity.id)
    need = _free(app, "brand", 2026, 12) + Decimal("2000.00") + Decimal("2000.00")
    response = client.post(
        f"/brand/activities/{activity.id}/change",
        data=_plan(reason="追加品牌投放", **{"lines-1-amount": str(need)}),
    )
    assert response.status_code == 303
    with app.app_context():
        change = db.session.scalar(select(ActivityChange))
        request = engine.current_request(change)
        assert [s.status for s in request.steps] == ["pending", "waiting"]
        change_id = change.id
    page = login("manager").get(f"/brand/changes/{change_id}").get_data(as_text=True)
    assert f"{need:,.2f}" in page
    _approve_all(app, login, change_id, doc_type="ActivityChange", comment="同意追加")
    done = _activity(app)
    assert sum(b.amount for b in done.budget_lines) == Decimal("8000.00") + need
    assert "同意追加" in done.over_budget_reason


def test_too_long_cancel_reason_is_a_422_not_a_crash(login, app):
    client = login("market1")
    _new(client)
    activity = _activity(app)
    response = client.post(f"/brand/activities/{activity.id}/cancel", data={"reason": "长" * 2100})
    assert response.status_code == 422 and _activity(app).status == "draft"
    assert client.post(f"/brand/activities/{activity.id}/start", csrf=False).status_code == 400
