"""Executing an approved market activity (P3.3) through the browser's eyes: the task
checklist (template, in-place status, edit, reorder, remove, permissions, the overdue scan),
participants and check-in, and the on-site feedback questionnaire with its QR sign."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import Customer, Notification, Survey, User
from mktapp.models.brand import Activity, ActivityParticipant, ActivityStaff, ActivityTask
from tests.conftest import Client


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _activity(app, status="approved", kind="expo", owner="market1", staff=(), start=None, **kw):
    """An activity made directly through the model (the plan is another part's work)."""
    start = start or clock.today() + timedelta(days=30)
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.username == owner))
        number = f"HD-2026-{(db.session.scalar(select(func.count(Activity.id))) or 0) + 1:04d}"
        activity = Activity(
            number=number,
            kind=kind,
            theme=kw.pop("theme", "2026 秋季工业展"),
            start_on=start,
            end_on=kw.pop("end", start + timedelta(days=2)),
            status=status,
            owner_id=owner_id,
            target_participants=kw.pop("target", 50),
            place="上海国家会展中心",
            **kw,
        )
        db.session.add(activity)
        db.session.flush()
        for name in staff:
            uid = db.session.scalar(select(User.id).where(User.username == name))
            db.session.add(ActivityStaff(activity_id=activity.id, user_id=uid, duty="接待"))
        db.session.commit()
        return activity.id


def _task(app, activity_id, title="展位预订", owner="market1", status="todo", due=None):
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.username == owner))
        task = ActivityTask(
            activity_id=activity_id,
            seq=1,
            title=title,
            owner_id=owner_id,
            status=status,
            due_on=due,
        )
        db.session.add(task)
        db.session.commit()
        return task.id


def _tasks(app, activity_id) -> list[ActivityTask]:
    with app.app_context():
        rows = db.session.scalars(
            select(ActivityTask)
            .where(ActivityTask.activity_id == activity_id)
            .order_by(ActivityTask.seq, ActivityTask.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


# --- tasks -------------------------------------------------------------------------------------


def test_expo_checklist_starts_from_template_with_dates_and_staff_owners(app, login):
    aid = _activity(app, staff=("market2", "sales1"))
    client = login("market1")
    page = client.get(f"/brand/activities/{aid}/tasks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and f"/brand/activities/{aid}/tasks/template" in html
    fragment = client.get(f"/brand/activities/{aid}/tasks", htmx="activity_tasks")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]

    response = client.post(f"/brand/activities/{aid}/tasks/template", htmx=True)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="activity_tasks"') and "<html" not in fragment
    tasks = _tasks(app, aid)
    assert len(tasks) == 8
    with app.app_context():
        start = db.session.get(Activity, aid).start_on
    assert tasks[0].due_on == start - timedelta(days=60)  # the booth is booked first
    staff = {_user_id(app, "market2"), _user_id(app, "sales1")}
    assert {t.owner_id for t in tasks} == staff
    assert '<progress id="tasks-progress' in fragment and 'value="0"' in fragment

    # Again: nothing left to add, a message and nothing written.
    again = client.post(f"/brand/activities/{aid}/tasks/template", htmx=True)
    assert again.status_code == 422
    assert len(_tasks(app, aid)) == 8


def test_task_added_edited_moved_and_status_changed_in_place(app, login):
    aid = _activity(app)
    client = login("market1")
    market2 = _user_id(app, "market2")
    due = (clock.today() + timedelta(days=5)).isoformat()
    added = client.post(
        f"/brand/activities/{aid}/tasks",
        data={"task-title": "宣传物料印制", "task-owner_id": str(market2), "task-due_on": due},
        htmx=True,
    )
    assert added.status_code == 200 and "宣传物料印制" in added.get_data(as_text=True)
    client.post(
        f"/brand/activities/{aid}/tasks",
        data={"task-title": "邀请客户", "task-owner_id": "0", "task-due_on": ""},
        htmx=True,
    )
    first, second = _tasks(app, aid)
    assert first.owner_id == market2 and first.due_on.isoformat() == due

    edit = client.get(f"/brand/activity-tasks/{first.id}/edit", htmx=True)
    assert edit.status_code == 200 and 'name="task_edit-title"' in edit.get_data(as_text=True)
    saved = client.post(
        f"/brand/activity-tasks/{first.id}",
        data={"task_edit-title": "宣传物料印制（两千份）", "task_edit-owner_id": "0"},
        htmx=True,
    )
    assert saved.status_code == 200
    assert _tasks(app, aid)[0].title == "宣传物料印制（两千份）"

    moved = client.post(
        f"/brand/activity-tasks/{second.id}/move", data={"direction": "up"}, htmx=True
    )
    assert moved.status_code == 200
    assert [t.title for t in _tasks(app, aid)] == ["邀请客户", "宣传物料印制（两千份）"]

    done = client.post(
        f"/brand/activity-tasks/{second.id}/status", data={"status": "done"}, htmx=True
    )
    assert done.status_code == 200
    fragment = done.get_data(as_text=True)
    assert 'value="1"' in fragment and "50%" in fragment
    task = next(t for t in _tasks(app, aid) if t.id == second.id)
    assert task.status == "done" and task.done_at is not None

    # Without JavaScript the same form posts and comes back to the page.
    plain = client.post(f"/brand/activity-tasks/{second.id}/status", data={"status": "doing"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(
        f"/activities/{aid}/tasks"
    )


def test_bad_task_input_is_422_with_messages_and_nothing_stored(app, login):
    aid = _activity(app)
    client = login("market1")
    response = client.post(
        f"/brand/activities/{aid}/tasks",
        data={"task-title": "", "task-owner_id": "0", "task-due_on": "2026-02-31"},
        htmx=True,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and html.count('class="error"') >= 2
    # An owner not in the list (a customer-service agent, not on the activity).
    stranger = _user_id(app, "service1")
    response = client.post(
        f"/brand/activities/{aid}/tasks",
        data={"task-title": "样品运输", "task-owner_id": str(stranger)},
        htmx=True,
    )
    assert response.status_code == 422
    assert _tasks(app, aid) == []
    bad_status = client.post(
        f"/brand/activity-tasks/{_task(app, aid)}/status", data={"status": "lost"}, htmx=True
    )
    assert bad_status.status_code == 422
    assert _tasks(app, aid)[0].status == "todo"


def test_only_tasks_not_done_are_removed(app, login):
    aid = _activity(app)
    done_id = _task(app, aid, "展位预订", status="done")
    open_id = _task(app, aid, "样品运输")
    client = login("market1")
    page = client.get(f"/brand/activities/{aid}/tasks").get_data(as_text=True)
    assert f"/brand/activity-tasks/{open_id}/remove" in page
    assert f"/brand/activity-tasks/{done_id}/remove" not in page
    refused = client.post(f"/brand/activity-tasks/{done_id}/remove", htmx=True)
    assert refused.status_code == 422
    removed = client.post(f"/brand/activity-tasks/{open_id}/remove", htmx=True)
    assert removed.status_code == 200
    assert [t.id for t in _tasks(app, aid)] == [done_id]


def test_sales_rep_reads_tasks_but_cannot_change_them(app, login):
    aid = _activity(app, staff=("sales1",))
    tid = _task(app, aid, owner="sales1")
    client = login("sales1")
    page = client.get(f"/brand/activities/{aid}/tasks")
    assert page.status_code == 200 and "展位预订" in page.get_data(as_text=True)
    assert f"/brand/activity-tasks/{tid}/status" not in page.get_data(as_text=True)
    assert (
        client.post(f"/brand/activity-tasks/{tid}/status", data={"status": "done"}).status_code
        == 403
    )
    assert (
        client.post(f"/brand/activities/{aid}/tasks", data={"task-title": "x"}).status_code == 403
    )
    assert client.post(f"/brand/activities/{aid}/tasks/template").status_code == 403
    assert client.post(f"/brand/activity-tasks/{tid}/remove").status_code == 403
    assert _tasks(app, aid)[0].status == "todo"


def test_other_specialist_changes_only_own_task(app, login):
    aid = _activity(app)
    mine = _task(app, aid, "接待排班", owner="market2")
    theirs = _task(app, aid, "展位预订", owner="market1")
    client = login("market2")
    assert (
        client.post(f"/brand/activity-tasks/{theirs}/status", data={"status": "done"}).status_code
        == 403
    )
    assert (
        client.post(f"/brand/activities/{aid}/tasks", data={"task-title": "x"}).status_code == 403
    )
    ok = client.post(f"/brand/activity-tasks/{mine}/status", data={"status": "doing"}, htmx=True)
    assert ok.status_code == 200
    # The manager may change any task.
    manager = login("manager")
    assert (
        manager.post(
            f"/brand/activity-tasks/{theirs}/status", data={"status": "done"}, htmx=True
        ).status_code
        == 200
    )
    statuses = {t.id: t.status for t in _tasks(app, aid)}
    assert statuses == {mine: "doing", theirs: "done"}


def test_tasks_change_only_once_the_activity_is_approved(app, login):
    aid = _activity(app, status="pending")
    tid = _task(app, aid)
    client = login("market1")
    page = client.get(f"/brand/activities/{aid}/tasks").get_data(as_text=True)
    assert "/tasks/template" not in page
    assert (
        client.post(f"/brand/activities/{aid}/tasks", data={"task-title": "x"}).status_code == 403
    )
    assert (
        client.post(f"/brand/activity-tasks/{tid}/status", data={"status": "done"}).status_code
        == 403
    )


def test_unknown_activity_is_404(app, login):
    client = login("market1")
    assert client.get("/brand/activities/999/tasks").status_code == 404
    assert (
        client.post("/brand/activity-tasks/999/status", data={"status": "done"}).status_code == 404
    )


def test_overdue_task_is_marked_and_its_owner_told_once_by_the_scan(app, login):
    aid = _activity(app, status="running", start=clock.today())
    late = _task(app, aid, "宣传物料印制", owner="market2", due=clock.today() - timedelta(days=2))
    _task(
        app, aid, "展位预订", owner="market2", status="done", due=clock.today() - timedelta(days=9)
    )
    page = login("market1").get(f"/brand/activities/{aid}/tasks").get_data(as_text=True)
    assert f'id="task-{late}" class="task-row task-todo is-late"' in page

    runner = app.test_cli_runner()
    result = runner.invoke(args=["activity-tasks-scan"])
    assert result.exit_code == 0, result.output
    assert "1 overdue activity tasks notified" in result.output
    market2 = _user_id(app, "market2")
    with app.app_context():
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == market2)
        ).all()
        mine = [n for n in notes if "宣传物料印制" in n.title]
        assert len(mine) == 1 and mine[0].url.startswith("/brand/activities/")
        assert db.session.get(ActivityTask, late).overdue_notified_at is not None
    again = runner.invoke(args=["activity-tasks-scan"])
    assert "0 overdue activity tasks notified" in again.output


# --- participants -------------------------------------------------------------------------------


def _people(app, activity_id) -> list[ActivityParticipant]:
    with app.app_context():
        rows = db.session.scalars(
            select(ActivityParticipant)
            .where(ActivityParticipant.activity_id == activity_id)
            .order_by(ActivityParticipant.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_registration_walk_in_check_in_and_counts(app, login):
    aid = _activity(app, status="running", target=40)
    client = login("market1")
    page = client.get(f"/brand/activities/{aid}/participants")
    assert page.status_code == 200
    reg = client.post(
        f"/brand/activities/{aid}/participants",
        data={
            "participant-kind": "registered",
            "participant-name": "王芳",
            "participant-company": "华东机电",
            "participant-phone": "138 0013 8000",
        },
        htmx=True,
    )
    assert reg.status_code == 200 and "王芳" in reg.get_data(as_text=True)
    walk = client.post(
        f"/brand/activities/{aid}/participants",
        data={"participant-kind": "walk_in", "participant-name": "陈先生", "full": "1"},
        htmx=True,
    )
    assert walk.status_code == 200
    # Without JavaScript: the form posts and comes back to the page.
    plain = client.post(
        f"/brand/activities/{aid}/participants",
        data={"participant-kind": "registered", "participant-name": "赵敏"},
    )
    assert plain.status_code == 303
    registered, walk_in, _plain = _people(app, aid)
    assert registered.checked_in_at is None and walk_in.checked_in_at is not None

    checked = client.post(
        f"/brand/activity-participants/{registered.id}/check-in", data={"full": "1"}, htmx=True
    )
    assert checked.status_code == 200
    fragment = checked.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="activity_participants"')
    assert f"/brand/activity-participants/{registered.id}/undo-check-in" in fragment
    assert '<progress max="40" value="2"' in fragment and "赵敏" in fragment
    assert _people(app, aid)[0].checked_in_at is not None

    # The search box answers with the rows only.
    rows = client.get(
        f"/brand/activities/{aid}/participants?q=华东&full=1", htmx="participant_rows"
    )
    html = rows.get_data(as_text=True)
    assert rows.status_code == 200 and html.lstrip().startswith('<div id="participant_rows"')
    assert "王芳" in html and "陈先生" not in html


def test_bad_participant_input_is_422_and_nothing_stored(app, login):
    aid = _activity(app)
    client = login("market1")
    missing = client.post(
        f"/brand/activities/{aid}/participants",
        data={"participant-kind": "registered", "participant-name": "", "participant-phone": "12"},
        htmx=True,
    )
    assert missing.status_code == 422
    assert 'id="participant-name-error"' in missing.get_data(as_text=True)
    bad_phone = client.post(
        f"/brand/activities/{aid}/participants",
        data={
            "participant-kind": "registered",
            "participant-name": "李雷",
            "participant-phone": "12",
        },
        htmx=True,
    )
    assert bad_phone.status_code == 422
    assert 'id="participant-phone-error"' in bad_phone.get_data(as_text=True)
    assert _people(app, aid) == []
    client.post(
        f"/brand/activities/{aid}/participants",
        data={
            "participant-kind": "registered",
            "participant-name": "李雷",
            "participant-phone": "13900001111",
        },
    )
    duplicate = client.post(
        f"/brand/activities/{aid}/participants",
        data={
            "participant-kind": "walk_in",
            "participant-name": "李雷",
            "participant-phone": "139-0000-1111",
        },
    )
    assert duplicate.status_code == 422 and "<html" in duplicate.get_data(as_text=True)
    assert len(_people(app, aid)) == 1


def test_invite_customers_found_by_search_among_those_one_may_see(app, login):
    aid = _activity(app)
    with app.app_context():
        customer = db.session.scalars(
            select(Customer).where(Customer.archived_at.is_(None)).order_by(Customer.id)
        ).first()
        name, cid = customer.name, customer.id
    client = login("market1")
    page = client.get(f"/brand/activities/{aid}/participants").get_data(as_text=True)
    assert 'name="customer"' not in page  # no list of every customer
    found = client.get(
        f"/brand/activities/{aid}/participants/customers?cq={name[:4]}", htmx="customer_results"
    )
    assert found.status_code == 200 and name in found.get_data(as_text=True)
    nothing = client.post(
        f"/brand/activities/{aid}/participants/invite", data={"cq": name[:4]}, htmx=True
    )
    assert nothing.status_code == 422 and 'id="invite-error"' in nothing.get_data(as_text=True)
    assert _people(app, aid) == []
    invited = client.post(
        f"/brand/activities/{aid}/participants/invite", data={"customer": str(cid)}, htmx=True
    )
    assert invited.status_code == 200
    (person,) = _people(app, aid)
    assert person.kind == "invited" and person.customer_id == cid and person.company == name
    assert f'href="/sales/customers/{cid}"' in invited.get_data(as_text=True)
    # The same customer twice: still one row.
    client.post(f"/brand/activities/{aid}/participants/invite", data={"customer": str(cid)})
    assert len(_people(app, aid)) == 1


def test_sales_rep_cannot_invite_or_check_in(app, login):
    aid = _activity(app)
    client = login("sales1")
    assert client.get(f"/brand/activities/{aid}/participants").status_code == 200
    assert (
        client.post(
            f"/brand/activities/{aid}/participants",
            data={"participant-kind": "walk_in", "participant-name": "x"},
        ).status_code
        == 403
    )
    assert client.get(f"/brand/activities/{aid}/participants/customers?cq=a").status_code == 403
    assert _people(app, aid) == []


# --- on-site feedback ----------------------------------------------------------------------------


def test_standard_feedback_questionnaire_with_qr_sign_and_download(app, login):
    aid = _activity(app, status="running", theme="新品发布会 2026")
    client = login("market1")
    empty = client.get(f"/brand/activities/{aid}/feedback")
    assert empty.status_code == 200 and "/feedback/standard" in empty.get_data(as_text=True)
    made = client.post(f"/brand/activities/{aid}/feedback/standard", htmx=True)
    assert made.status_code == 200
    with app.app_context():
        activity = db.session.get(Activity, aid)
        survey = db.session.get(Survey, activity.survey_id)
        assert survey.status == "open" and survey.token
        kinds = [q.kind for q in survey.questions]
        assert kinds == ["rating", "nps", "multi", "single", "short_text", "long_text"]
        token = survey.token
    fragment = made.get_data(as_text=True)
    url = f"http://localhost/research/s/{token}"
    assert url in fragment and "<svg" in fragment and 'id="feedback_count"' in fragment

    sign = client.get(f"/brand/activities/{aid}/feedback/sign")
    html = sign.get_data(as_text=True)
    assert sign.status_code == 200
    assert "扫码填写现场反馈" in html and url in html and "新品发布会 2026" in html
    assert '<svg viewBox="0 0 ' in html and 'class="qr-code"' in html
    assert "style=" not in html.split("<main", 1)[1] and "<script" not in html.split("<main", 1)[1]

    svg = client.get(f"/brand/activities/{aid}/feedback/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "attachment" in svg.headers["Content-Disposition"]
    body = svg.get_data(as_text=True)
    assert body.startswith("<?xml") and "<svg" in body and body.rstrip().endswith("</svg>")
    assert url in body  # the link is the code's title

    # The live count: a fragment polled by the panel.
    count = client.get(f"/brand/activities/{aid}/feedback/count", htmx="feedback_count")
    assert count.status_code == 200 and count.get_data(as_text=True).lstrip().startswith(
        '<p id="feedback_count"'
    )

    # Someone answers through the QR code's link; the live count shows it.
    public = Client(app.test_client())
    assert public.get(f"/research/s/{token}").status_code == 200
    with app.app_context():
        qids = {q.kind: q.id for q in db.session.get(Survey, activity.survey_id).questions}
    answered = public.post(
        f"/research/s/{token}",
        data={f"q{qids['rating']}": "5", f"q{qids['nps']}": "9", f"q{qids['single']}": "0"},
    )
    assert answered.status_code == 303, answered.get_data(as_text=True)[:300]
    count = client.get(f"/brand/activities/{aid}/feedback/count", htmx="feedback_count")
    assert '<span class="num exe-answers-figure">1</span>' in count.get_data(as_text=True)
    # A second standard questionnaire is refused while one is attached.
    again = client.post(f"/brand/activities/{aid}/feedback/standard", htmx=True)
    assert again.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Survey.id))) >= 1
        assert db.session.get(Activity, aid).survey_id == activity.survey_id


def test_closed_questionnaire_sign_is_422_and_public_link_says_closed(app, login):
    aid = _activity(app, status="running")
    client = login("market1")
    client.post(f"/brand/activities/{aid}/feedback/standard")
    with app.app_context():
        activity = db.session.get(Activity, aid)
        survey = db.session.get(Survey, activity.survey_id)
        survey.status = "closed"
        token, sid = survey.token, survey.id
        db.session.commit()
    sign = client.get(f"/brand/activities/{aid}/feedback/sign")
    assert sign.status_code == 422
    html = sign.get_data(as_text=True)
    assert 'role="alert"' in html and "扫码填写现场反馈" not in html
    assert client.get(f"/brand/activities/{aid}/feedback/qr.svg").status_code == 422
    with app.app_context():
        assert db.session.get(Activity, aid).survey_id == sid
        assert db.session.get(Survey, sid).status == "closed"
    # The link the QR code carried: a clear page, not a form.
    public = app.test_client().get(f"/research/s/{token}")
    assert public.status_code == 410
    text = public.get_data(as_text=True)
    assert "该问卷已结束，感谢您的关注。" in text  # closed_reason(), in the default language
    assert "<textarea" not in text and 'type="radio"' not in text


def test_attach_existing_open_questionnaire_and_bad_choice(app, login):
    aid = _activity(app)
    other = _activity(app, theme="客户答谢会")
    client = login("market1")
    client.post(f"/brand/activities/{other}/feedback/standard")
    with app.app_context():
        sid = db.session.get(Activity, other).survey_id
    bad = client.post(
        f"/brand/activities/{aid}/feedback/attach", data={"feedback-survey_id": "0"}, htmx=True
    )
    assert bad.status_code == 422 and 'id="feedback-survey_id-error"' in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Activity, aid).survey_id is None
    ok = client.post(
        f"/brand/activities/{aid}/feedback/attach", data={"feedback-survey_id": str(sid)}, htmx=True
    )
    assert ok.status_code == 200
    with app.app_context():
        assert db.session.get(Activity, aid).survey_id == sid
    # Sales reps read the panel but cannot attach.
    rep = login("sales1")
    assert rep.get(f"/brand/activities/{aid}/feedback").status_code == 200
    assert rep.post(f"/brand/activities/{aid}/feedback/detach").status_code == 403
    detached = client.post(f"/brand/activities/{aid}/feedback/detach", htmx=True)
    assert detached.status_code == 200
    with app.app_context():
        assert db.session.get(Activity, aid).survey_id is None
        assert db.session.get(Survey, sid) is not None


# --- the activity page's panels -----------------------------------------------------------------


def test_panels_are_registered_in_order_and_render_in_few_queries(app, login, count_queries):
    from mktapp.brand import activity_page

    aid = _activity(app, staff=("market2",))
    _task(app, aid)
    with app.app_context():
        db.session.add(ActivityParticipant(activity_id=aid, kind="registered", name="王芳"))
        db.session.commit()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "market1"))
        activity = db.session.get(Activity, aid)
        user.role_codes  # noqa: B018  (roles loaded, as load_user does)
        from flask_login import login_user

        login_user(user)
        keys = []
        for panel in activity_page._parts._panels:
            if panel.key not in ("tasks", "participants", "feedback"):
                continue  # other parts' panels (evaluation) are theirs to test
            with count_queries() as q:
                loaded = panel.load(activity, user)
            assert q.count <= 2, (panel.key, [s[:90] for s in q.statements])
            html = Markup(render_template(panel.template, activity=activity, **loaded))
            assert f'id="activity_{panel.key}"' in html
            keys.append(panel.key)
    assert keys[:3] == ["tasks", "participants", "feedback"] or [
        k for k in keys if k in ("tasks", "participants", "feedback")
    ] == ["tasks", "participants", "feedback"]
    orders = {p.key: p.order for p in activity_page._parts._panels}
    assert (orders["tasks"], orders["participants"], orders["feedback"]) == (20, 30, 40)


def test_after_the_event_a_closed_questionnaire_is_a_plain_note_not_a_warning(app, login):
    aid = _activity(app, status="running")
    client = login("market1")
    client.post(f"/brand/activities/{aid}/feedback/standard")
    with app.app_context():
        activity = db.session.get(Activity, aid)
        db.session.get(Survey, activity.survey_id).status = "closed"
        activity.status = "evaluated"
        db.session.commit()
    html = client.get(f"/brand/activities/{aid}/feedback").get_data(as_text=True)
    assert "活动已结束，问卷不再接收答卷。" in html
    assert 'role="alert"' not in html and "qr-code" not in html
