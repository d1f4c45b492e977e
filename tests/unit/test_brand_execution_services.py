"""Execution services (P3.3): checklist templates and their dates, who may change a task,
progress and overdue, the overdue scan (once per task), participants' validation and
counts, invitations limited to visible customers, the standard feedback questionnaire and
its QR code."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from mktapp.brand import execution as svc
from mktapp.extensions import db
from mktapp.models import Customer, Notification, User
from mktapp.models.brand import Activity, ActivityParticipant, ActivityStaff


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _activity(status="approved", kind="expo", owner="market1", staff=(), start=None) -> Activity:
    start = start or date(2026, 10, 20)
    n = (db.session.scalar(select(func.count(Activity.id))) or 0) + 1
    activity = Activity(
        number=f"HD-2026-{n:04d}",
        kind=kind,
        theme="测试活动",
        start_on=start,
        end_on=start + timedelta(days=2),
        status=status,
        owner_id=_user(owner).id,
        target_participants=20,
    )
    db.session.add(activity)
    db.session.flush()
    for name in staff:
        db.session.add(ActivityStaff(activity_id=activity.id, user_id=_user(name).id))
    db.session.flush()
    db.session.refresh(activity)
    return activity


def test_every_kind_has_a_template_and_expo_has_the_trade_show_steps(app_ctx):
    from flask_babel import force_locale

    from mktapp.models import ACTIVITY_KINDS

    assert set(svc.TASK_TEMPLATES) == set(ACTIVITY_KINDS)
    with force_locale("en"):
        titles = [str(t.title) for t in svc.template_for("expo")]
    assert len(titles) == 8 and titles[:2] == ["Book the booth", "Booth design and build"]
    assert titles[-1] == "Sort the leads after the show"
    assert svc.template_for("unknown") == svc.TASK_TEMPLATES["other"]


def test_template_dates_are_relative_and_owners_go_round_the_staff(app_ctx, demo):
    activity = _activity(staff=("market2", "sales1"))
    made = svc.apply_template(_user("market1"), activity)
    db.session.flush()
    template = svc.template_for("expo")
    assert len(made) == len(template)
    for task, item in zip(made, template, strict=True):
        anchor = activity.end_on if item.anchor == "end" else activity.start_on
        assert task.due_on == anchor + timedelta(days=item.days)
    owners = [t.owner_id for t in made]
    assert owners[:2] == [_user("market2").id, _user("sales1").id]
    # A second time nothing is missing: refused.
    with pytest.raises(svc.ExecutionError):
        svc.apply_template(_user("market1"), activity)


def test_template_without_staff_gives_every_task_to_the_owner(app_ctx, demo):
    activity = _activity(kind="charity")
    made = svc.apply_template(_user("market1"), activity)
    assert {t.owner_id for t in made} == {activity.owner_id}


def test_who_may_change_tasks(app_ctx, demo):
    activity = _activity()
    task = svc.add_task(_user("market1"), activity, "展位预订", _user("market2").id, None)
    assert svc.may_manage_tasks(_user("market1"), activity)
    assert svc.may_manage_tasks(_user("manager"), activity)
    assert not svc.may_manage_tasks(_user("market2"), activity)
    assert svc.may_change_task(_user("market2"), task, activity)  # its owner
    assert not svc.may_change_task(_user("sales1"), task, activity)
    activity.status = "draft"
    assert not svc.may_manage_tasks(_user("market1"), activity)
    with pytest.raises(svc.ExecutionError):
        svc.set_status(_user("market1"), task, "done")


def test_progress_and_overdue(app_ctx, demo):
    activity = _activity()
    owner = _user("market1")
    today = date(2026, 10, 1)
    a = svc.add_task(owner, activity, "甲", None, today - timedelta(days=1))
    svc.add_task(owner, activity, "乙", None, today)
    c = svc.add_task(owner, activity, "丙", None, today - timedelta(days=5))
    svc.set_status(owner, c, "done")
    summary = svc.summarise(svc.tasks_of(activity), today)
    assert (summary.total, summary.done, summary.overdue, summary.percent) == (3, 1, 1, 33)
    assert svc.is_overdue(a, today) and not svc.is_overdue(c, today)
    svc.set_status(owner, c, "doing")
    assert c.done_at is None


def test_done_task_cannot_be_removed_and_bad_inputs_are_refused(app_ctx, demo):
    activity = _activity()
    owner = _user("market1")
    with pytest.raises(svc.ExecutionError) as empty:
        svc.add_task(owner, activity, "  ", None, None)
    assert empty.value.field == "title"
    with pytest.raises(svc.ExecutionError) as stranger:
        svc.add_task(owner, activity, "样品运输", _user("finance1").id, None)
    assert stranger.value.field == "owner_id"
    task = svc.add_task(owner, activity, "样品运输", None, None)
    svc.set_status(owner, task, "done")
    with pytest.raises(svc.ExecutionError):
        svc.remove_task(owner, task)
    with pytest.raises(svc.ExecutionError):
        svc.set_status(owner, task, "lost")


def test_overdue_scan_tells_each_owner_once_and_again_after_a_new_date(app_ctx, demo):
    activity = _activity(status="running", start=date(2026, 10, 1))
    owner = _user("market1")
    market2 = _user("market2")
    today = date(2026, 10, 10)
    late = svc.add_task(owner, activity, "宣传物料印制", market2.id, today - timedelta(days=1))
    svc.add_task(owner, activity, "未到期", market2.id, today + timedelta(days=1))
    svc.add_task(owner, activity, "无人负责", None, today - timedelta(days=3))
    ended = _activity(status="ended")
    svc.add_task(owner, ended, "活动已结束的任务", market2.id, today - timedelta(days=3))
    db.session.commit()

    def notes() -> int:
        return db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == market2.id)
        )

    before = notes()
    assert svc.scan_overdue(today, lambda a: f"/brand/activities/{a.id}/tasks") == 1
    db.session.commit()
    assert notes() == before + 1
    assert svc.scan_overdue(today) == 0
    # A new due date: chased again once it passes.
    svc.update_task(owner, late, late.title, market2.id, today + timedelta(days=2))
    db.session.commit()
    assert svc.scan_overdue(today) == 0
    assert svc.scan_overdue(today + timedelta(days=3)) == 2  # it and "未到期"


def test_participants_validation_counts_and_check_in(app_ctx, demo):
    activity = _activity(status="running")
    user = _user("market1")
    with pytest.raises(svc.ExecutionError) as no_name:
        svc.add_participant(user, activity, "registered", " ")
    assert no_name.value.field == "name"
    with pytest.raises(svc.ExecutionError) as kind:
        svc.add_participant(user, activity, "invited", "王芳")
    assert kind.value.field == "kind"
    first = svc.add_participant(user, activity, "registered", "王芳", "华东机电", "13800138000")
    with pytest.raises(svc.ExecutionError) as twice:
        svc.add_participant(user, activity, "walk_in", "王芳", "", "138-0013-8000")
    assert twice.value.field == "phone"
    walk = svc.add_participant(user, activity, "walk_in", "陈先生")
    assert walk.checked_in_at is not None and first.checked_in_at is None
    svc.check_in(user, first)
    at = first.checked_in_at
    svc.check_in(user, first)  # twice: the first time is kept
    assert first.checked_in_at == at
    counts = svc.participant_counts(activity)
    assert counts.planned == {"invited": 0, "registered": 1, "walk_in": 1}
    assert counts.total_checked_in == 2 and counts.target == 20 and counts.percent_of_target == 10
    page = svc.participants_page(activity, "华东")
    assert [p.name for p in page.items] == ["王芳"] and page.total == 1
    with pytest.raises(svc.ExecutionError):
        svc.add_participant(_user("sales1"), activity, "walk_in", "某人")


def test_a_sales_rep_finds_and_invites_only_customers_they_may_see(app_ctx, demo):
    activity = _activity()
    rep = _user("sales1")
    theirs = db.session.scalar(
        select(Customer).where(Customer.owner_id == _user("sales2").id).limit(1)
    )
    assert theirs is not None
    found, _invited = svc.search_customers(rep, activity, theirs.name)
    assert theirs.id not in {c.id for c in found}
    market = _user("market1")
    made = svc.invite_customers(market, activity, [theirs.id])
    assert len(made) == 1 and made[0].kind == "invited" and made[0].company == theirs.name
    assert svc.invite_customers(market, activity, [theirs.id]) == []  # already invited
    assert (
        db.session.scalar(
            select(func.count(ActivityParticipant.id)).where(
                ActivityParticipant.activity_id == activity.id
            )
        )
        == 1
    )


def test_standard_questionnaire_is_published_and_its_qr_code_is_svg(app_ctx, demo):
    activity = _activity(status="running")
    user = _user("market1")
    assert svc.sign_problem(None)
    survey = svc.create_standard_survey(user, activity)
    assert activity.survey_id == survey.id and survey.status == "open"
    assert [q.kind for q in survey.questions] == [
        "rating",
        "nps",
        "multi",
        "single",
        "short_text",
        "long_text",
    ]
    assert len(survey.questions[2].option_list) == len(svc.INTEREST_OPTIONS)
    assert svc.sign_problem(survey) is None
    survey.answer_limit = "invitation"  # only invited customers answer: no sign at the venue
    assert "邀请链接" in svc.sign_problem(survey)
    survey.answer_limit = "open"
    url = f"https://mkt.example.com/research/s/{survey.token}"
    root = ET.fromstring(svc.qr_svg(url, inline=False).split("?>", 1)[1])
    assert root.tag.endswith("svg")
    assert svc.qr_svg(url).startswith("<svg")
    with pytest.raises(svc.ExecutionError):
        svc.create_standard_survey(user, activity)
    from mktapp.research import surveys as research

    research.close(user, survey)
    assert survey.title in svc.sign_problem(survey)
    with pytest.raises(svc.ExecutionError) as closed:
        svc.attach_survey(user, _activity(), survey.id)
    assert closed.value.field == "survey_id"
