"""Activity evaluation pages (P3.4): the page of an ended activity (KPI tiles, charts, the
form), bad input refused with 422 and nothing stored, submission once, approval by the
marketing manager with the frozen PDF, and who may see or change what."""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import (
    Activity,
    ActivityBudgetLine,
    ActivityEvaluation,
    ActivityParticipant,
    Customer,
    User,
    utcnow,
)

GOOD = {
    "reach": "120000",
    "media_coverage": "8",
    "media_notes": "第一财经、36氪报道",
    "inquiries": "45",
    "new_followers": "1300",
    "what_worked": "现场演示吸引了大量咨询。",
    "what_to_change": "提前两周发出邀请。",
}


def _activity(app, status="ended", number="HD-2026-9101") -> int:
    with app.app_context():
        planner = db.session.scalar(select(User).where(User.username == "market1"))
        activity = Activity(
            number=number,
            kind="launch",
            theme="新品发布会·上海站",
            target_participants=20,
            target_leads=3,
            target_sales=Decimal("50000"),
            start_on=date(2026, 6, 19),
            end_on=date(2026, 6, 20),
            status=status,
            owner_id=planner.id,
        )
        activity.budget_lines = [
            ActivityBudgetLine(category="activity", year=2026, month=6, amount=Decimal("8000"))
        ]
        db.session.add(activity)
        db.session.flush()
        for i in range(25):
            db.session.add(
                ActivityParticipant(
                    activity_id=activity.id,
                    name=f"来宾{i}",
                    checked_in_at=utcnow() if i < 18 else None,
                )
            )
        for i in range(4):
            db.session.add(
                Customer(name=f"线索{number}{i}", source="activity", source_activity_id=activity.id)
            )
        db.session.commit()
        return activity.id


def _evaluation(app, activity_id):
    with app.app_context():
        return db.session.scalar(
            select(ActivityEvaluation).where(ActivityEvaluation.activity_id == activity_id)
        )


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ActivityEvaluation))


def test_evaluation_page_shows_kpis_charts_and_form(app, login):
    aid = _activity(app)
    page = login("market1").get(f"/brand/activities/{aid}/evaluation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "新品发布会·上海站" in html and "<svg" in html
    assert "kpi-miss" in html and "kpi-ok" in html  # 18 of 20 participants, 4 of 3 leads
    assert 'name="reach"' in html and "approval_panel" not in html  # nothing saved yet
    fragment = login("market1").get(f"/brand/activities/{aid}/evaluation", htmx="evaluation-form")
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'name="reach"' in text


def test_saving_then_submitting_then_approving(app, login, tmp_path):
    aid = _activity(app)
    author = login("market1")
    response = author.post(f"/brand/activities/{aid}/evaluation", data=GOOD)
    assert response.status_code == 303
    evaluation = _evaluation(app, aid)
    assert evaluation.reach == 120000 and evaluation.status == "draft"
    assert author.get(f"/brand/activities/{aid}/evaluation.pdf").mimetype == "application/pdf"
    assert author.post(f"/brand/activities/{aid}/evaluation/submit").status_code == 303
    assert _evaluation(app, aid).status == "pending"
    # submitting twice: refused, nothing changed
    again = author.post(f"/brand/activities/{aid}/evaluation/submit")
    assert again.status_code == 422
    assert "submitted already" in again.get_data(as_text=True) or "已提交" in again.get_data(
        as_text=True
    )
    # editing under review: refused
    assert (
        author.post(f"/brand/activities/{aid}/evaluation", data={**GOOD, "reach": "1"}).status_code
        == 422
    )
    assert _evaluation(app, aid).reach == 120000
    # the marketing manager approves from the approval panel
    manager = login("manager")
    page = manager.get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert "approval_panel" in page
    with app.app_context():
        ev = db.session.scalar(
            select(ActivityEvaluation).where(ActivityEvaluation.activity_id == aid)
        )
        step = engine.pending_step(engine.current_request(ev))
        step_id = step.id
    assert manager.post(f"/approvals/steps/{step_id}/approve", data={}).status_code in (200, 303)
    evaluation = _evaluation(app, aid)
    assert evaluation.status == "approved" and evaluation.pdf_attachment_id
    with app.app_context():
        assert db.session.get(Activity, aid).status == "evaluated"
    # the approved evaluation cannot be edited; the frozen PDF is offered
    locked = author.post(f"/brand/activities/{aid}/evaluation", data={**GOOD, "reach": "2"})
    assert locked.status_code == 422 and _evaluation(app, aid).reach == 120000
    page = author.get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert "evaluation.pdf" in page
    pdf = author.get(f"/brand/activities/{aid}/evaluation.pdf")
    path = tmp_path / "e.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "新品发布会·上海站" in text and "提前两周发出邀请" in text
    # the inbox link of the flow reaches the page
    assert author.get(f"/brand/evaluations/{evaluation.id}").status_code == 303


def test_evaluating_before_the_end_is_refused(app, login):
    aid = _activity(app, status="running")
    author = login("market1")
    page = author.get(f"/brand/activities/{aid}/evaluation")
    assert page.status_code == 200 and 'name="reach"' not in page.get_data(as_text=True)
    response = author.post(f"/brand/activities/{aid}/evaluation", data=GOOD)
    assert response.status_code == 422
    assert author.post(f"/brand/activities/{aid}/evaluation/submit").status_code == 422
    assert _count(app) == 0
    with app.app_context():
        assert db.session.get(Activity, aid).status == "running"


def test_bad_numbers_are_refused_next_to_the_field(app, login):
    aid = _activity(app)
    author = login("market1")
    for field, value in [
        ("reach", "-5"),
        ("inquiries", "99999999999"),
        ("new_followers", "abc"),
        ("media_coverage", ""),
    ]:
        response = author.post(f"/brand/activities/{aid}/evaluation", data={**GOOD, field: value})
        assert response.status_code == 422, field
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html, field
    assert _count(app) == 0


def test_submit_without_saving_is_refused(app, login):
    aid = _activity(app)
    assert login("market1").post(f"/brand/activities/{aid}/evaluation/submit").status_code == 422
    assert _count(app) == 0


def test_permissions(app, login):
    aid = _activity(app)
    # a sales rep reads (brand.view) but may not write
    rep = login("sales1")
    assert rep.get(f"/brand/activities/{aid}/evaluation").status_code == 200
    assert rep.post(f"/brand/activities/{aid}/evaluation", data=GOOD).status_code == 403
    assert rep.post(f"/brand/activities/{aid}/evaluation/submit").status_code == 403
    # the administrator holds no brand.view
    assert login("admin").get(f"/brand/activities/{aid}/evaluation").status_code == 403
    assert login("market1").get("/brand/activities/999999/evaluation").status_code == 404
    assert _count(app) == 0


def test_panel_and_action_are_registered_on_the_activity_page(app, login):
    from mktapp.brand.activity_page import actions_for, panels_for

    aid = _activity(app)
    login("market1").post(f"/brand/activities/{aid}/evaluation", data=GOOD)
    with app.test_request_context():
        activity = db.session.get(Activity, aid)
        user = db.session.scalar(select(User).where(User.username == "market1"))
        actions = actions_for(activity, user)
        assert (f"/brand/activities/{aid}/evaluation", "Evaluate") in [
            (url, str(label)) for url, label in actions
        ] or any(url.endswith("/evaluation") for url, _label in actions)
        panels = panels_for(activity, user)
        panel, ctx = next((p, c) for p, c in panels if p.key == "evaluation")
        assert panel.order == 50 and ctx["evaluation"].status == "draft"
        from flask import render_template

        html = render_template(panel.template, **ctx)
        assert f"/brand/activities/{aid}/evaluation" in html


# --- the links that feed the evaluation: claims paid for an activity, leads from one -----------


def _claim_data(activity_id, **change):
    values = {
        "category": "activity",
        "amount": "300.00",
        "incurred_on": clock.today().isoformat(),
        "payment_method": "bank",
        "reason": "发布会场地布置",
        "over_budget_reason": "活动临时增加",
        "activity_id": str(activity_id),
        "action": "draft",
    }
    values.update(change)
    return values


def _claims(app):
    from mktapp.models import ExpenseClaim

    with app.app_context():
        return db.session.execute(
            select(ExpenseClaim.link_type, ExpenseClaim.link_id).where(
                ExpenseClaim.reason == "发布会场地布置"
            )
        ).all()


def test_a_claim_links_to_an_activity_and_counts_in_its_cost(app, login):
    from mktapp.models import ExpenseClaim

    aid = _activity(app)
    rep = login("sales1")
    form = rep.get("/expense/claims/new").get_data(as_text=True)
    assert 'name="activity_id"' in form and "HD-2026-9101" in form
    page = login("market1").get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert f"/expense/claims/new?activity={aid}" in page
    chosen = rep.get(f"/expense/claims/new?activity={aid}").get_data(as_text=True)
    assert f'<option selected value="{aid}">' in chosen
    response = rep.post("/expense/claims/new", data=_claim_data(aid))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert _claims(app) == [("activity", aid)]
    with app.app_context():
        claim = db.session.scalar(
            select(ExpenseClaim).where(ExpenseClaim.reason == "发布会场地布置")
        )
        claim_id = claim.id
    detail = rep.get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    assert "HD-2026-9101" in detail
    edit = rep.get(f"/expense/claims/{claim_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{aid}">' in edit or f'value="{aid}" selected' in edit
    # a draft claim is not a cost; approved it is
    page = login("market1").get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert "¥300.00" not in page
    with app.app_context():
        db.session.get(ExpenseClaim, claim_id).status = "approved"
        db.session.commit()
    page = login("market1").get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert "¥300.00" in page


def test_a_claim_for_a_cancelled_or_unknown_activity_is_refused(app, login):
    cancelled = _activity(app, status="cancelled", number="HD-2026-9102")
    rep = login("sales1")
    for value in (cancelled, 999999, "abc"):
        response = rep.post("/expense/claims/new", data=_claim_data(value))
        assert response.status_code == 422, value
        assert 'id="activity_id-error"' in response.get_data(as_text=True), value
    # an archived activity is not visible any more
    archived = _activity(app, number="HD-2026-9103")
    with app.app_context():
        db.session.get(Activity, archived).archived_at = utcnow()
        db.session.commit()
    assert rep.post("/expense/claims/new", data=_claim_data(archived)).status_code == 422
    assert _claims(app) == []


def _customer_data(activity_id, source="activity", name="苏州新锐科技有限公司"):
    return {
        "name": name,
        "kind": "company",
        "grade": "B",
        "status": "potential",
        "source": source,
        "source_activity_id": str(activity_id),
    }


def _source_of(app, name="苏州新锐科技有限公司"):
    with app.app_context():
        return db.session.scalar(select(Customer.source_activity_id).where(Customer.name == name))


def test_a_customer_records_its_source_activity(app, login):
    aid = _activity(app)
    market = login("market1")
    form = market.get("/sales/customers/new").get_data(as_text=True)
    assert 'name="source_activity_id"' in form and "HD-2026-9101" in form
    response = market.post("/sales/customers/new", data=_customer_data(aid))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert _source_of(app) == aid
    with app.app_context():
        cid = db.session.scalar(select(Customer.id).where(Customer.name == "苏州新锐科技有限公司"))
    page = market.get(f"/sales/customers/{cid}").get_data(as_text=True)
    assert "HD-2026-9101" in page
    # it counts as a lead of the activity (4 made by _activity + this one)
    evaluation = market.get(f"/brand/activities/{aid}/evaluation").get_data(as_text=True)
    assert "5 / 3" in evaluation or ">5<" in evaluation
    # another source clears it
    other = _customer_data(aid, source="fair")
    assert market.post(f"/sales/customers/{cid}/edit", data=other).status_code == 303
    assert _source_of(app) is None


def test_a_source_activity_must_be_recent_and_approved(app, login):
    draft = _activity(app, status="draft", number="HD-2026-9104")
    old = _activity(app, status="evaluated", number="HD-2024-9105")
    with app.app_context():
        record = db.session.get(Activity, old)
        record.start_on, record.end_on = date(2024, 3, 1), date(2024, 3, 2)
        db.session.commit()
    market = login("market1")
    form = market.get("/sales/customers/new").get_data(as_text=True)
    assert "HD-2026-9104" not in form and "HD-2024-9105" not in form
    for value in (draft, old, 999999, "abc"):
        response = market.post("/sales/customers/new", data=_customer_data(value))
        assert response.status_code == 422, value
        assert 'id="source_activity_id-error"' in response.get_data(as_text=True), value
    assert _source_of(app) is None
