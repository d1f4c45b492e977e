"""The approval inbox, decisions from the list and from a document, withdraw, comments, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import settings as company_settings
from mktapp.extensions import db
from mktapp.models import ApprovalEvent, ApprovalStep, Setting, TrainingRecord, User


@pytest.fixture
def submitted(app, demo, training_flow):
    """A training record of sales1, submitted: it waits on sales3 (group leader)."""
    with app.test_request_context():
        record = TrainingRecord(
            owner_id=demo["sales1"],
            course="销售技巧",
            taken_on=date(2026, 3, 1),
            hours=Decimal("4"),
        )
        db.session.add(record)
        db.session.flush()
        request = engine.submit(record, db.session.get(User, demo["sales1"]))
        db.session.commit()
        return {"record": record.id, "step": request.steps[0].id}


def _step(app, step_id):
    with app.app_context():
        return db.session.get(ApprovalStep, step_id).status


def test_inbox_shows_what_waits_on_the_leader_only(login, submitted):
    page = login("sales3").get("/approvals/").get_data(as_text=True)
    assert "销售技巧" in page and f"/approvals/steps/{submitted['step']}/approve" in page
    other = login("sales2").get("/approvals/").get_data(as_text=True)
    assert "销售技巧" not in other


def test_inbox_fragment_and_badge(login, submitted):
    c = login("sales3")
    fragment = c.get("/approvals/", htmx="approval_rows").get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="approval_rows"')
    badge = c.get("/approvals/count").get_data(as_text=True)
    assert ">1</span>" in badge
    assert "hidden" in login("sales2").get("/approvals/count").get_data(as_text=True)


def test_sidebar_entries_with_a_count_poll_it(login, demo):
    """待我审批 and 待付款 carry their count in the sidebar (loaded after the page)."""
    manager = login("manager").get("/").get_data(as_text=True)
    assert 'class="nav-badge" hx-get="/approvals/count"' in manager
    finance = login("finance1").get("/").get_data(as_text=True)
    assert 'class="nav-badge" hx-get="/expense/payments/count"' in finance
    assert "/expense/payments/count" not in manager


def test_leader_approves_from_the_inbox(app, login, submitted):
    c = login("sales3")
    response = c.post(
        f"/approvals/steps/{submitted['step']}/approve", {"next": "/approvals/"}, htmx=True
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/approvals/"
    assert _step(app, submitted["step"]) == "approved"


def test_the_same_step_twice_is_409_and_records_one_decision(app, login, submitted):
    c = login("sales3")
    assert c.post(f"/approvals/steps/{submitted['step']}/approve").status_code == 303
    again = c.post(f"/approvals/steps/{submitted['step']}/approve")
    assert again.status_code == 409
    with app.app_context():
        n = db.session.scalar(
            select(func.count(ApprovalEvent.id)).where(
                ApprovalEvent.action == "approve", ApprovalEvent.doc_type == "TrainingRecord"
            )
        )
    assert n == 1


def test_wrong_person_cannot_decide(app, login, submitted):
    # finance1 may see the record? No: training records are not theirs -> 404.
    assert (
        login("finance1").post(f"/approvals/steps/{submitted['step']}/approve").status_code == 404
    )
    # The manager sees it but it is not their step.
    response = login("manager").post(f"/approvals/steps/{submitted['step']}/approve")
    assert response.status_code == 403
    # The applicant cannot approve their own.
    assert login("sales1").post(f"/approvals/steps/{submitted['step']}/approve").status_code == 403
    assert _step(app, submitted["step"]) == "pending"


def test_reject_without_reason_is_422_and_changes_nothing(app, login, submitted):
    c = login("sales3")
    response = c.post(f"/approvals/steps/{submitted['step']}/reject", {"comment": " "})
    assert response.status_code == 422
    assert _step(app, submitted["step"]) == "pending"
    ok = c.post(f"/approvals/steps/{submitted['step']}/reject", {"comment": "证书缺失"})
    assert ok.status_code == 303
    assert _step(app, submitted["step"]) == "rejected"


def test_refused_decision_over_htmx_returns_the_inbox_rows_with_the_message(login, submitted):
    c = login("sales3")
    response = c.post(
        f"/approvals/steps/{submitted['step']}/reject",
        {"comment": ""},
        htmx=True,
        headers={"HX-Target": "approval_rows"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="approval_rows"') and 'role="alert"' in html


def test_applicant_withdraws_then_the_leader_has_nothing(app, login, submitted):
    c = login("sales1")
    url = f"/approvals/TrainingRecord/{submitted['record']}/withdraw"
    assert login("sales3").post(url).status_code == 403  # not the applicant
    assert c.post(url).status_code == 303
    assert _step(app, submitted["step"]) == "cancelled"
    assert "销售技巧" not in login("sales3").get("/approvals/").get_data(as_text=True)


def test_comment_on_the_timeline(app, login, submitted):
    c = login("sales3")
    url = f"/approvals/TrainingRecord/{submitted['record']}/comment"
    assert c.post(url, {"comment": ""}).status_code == 422
    assert c.post(url, {"comment": "请补充证书"}).status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(
                select(ApprovalEvent.comment).where(ApprovalEvent.action == "comment")
            )
            == "请补充证书"
        )


def test_unknown_document_type_or_step_is_404(login, submitted):
    c = login("sales3")
    assert c.post("/approvals/Nope/1/comment", {"comment": "x"}).status_code == 404
    assert c.post("/approvals/steps/999999/approve").status_code == 404


def test_decision_without_csrf_is_400(login, submitted):
    c = login("sales3")
    assert c.post(f"/approvals/steps/{submitted['step']}/approve", csrf=False).status_code == 400


def test_approval_panel_renders_on_a_document(app, login, submitted):
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context("/org/training/1"):
        login_user(
            db.session.get(
                User, db.session.scalar(select(User.id).where(User.username == "sales3"))
            )
        )
        record = db.session.get(TrainingRecord, submitted["record"])
        html = render_template_string(
            '{% from "_macros/approvals.html" import approval_panel %}{{ approval_panel(doc) }}',
            doc=record,
        )
    assert 'id="approval_panel"' in html
    assert f"/approvals/steps/{submitted['step']}/approve" in html  # sales3 may decide
    assert "/withdraw" not in html  # only the applicant may withdraw


@pytest.fixture
def a_setting(app):
    spec = company_settings.register(
        company_settings.SettingSpec("test.threshold", "Test threshold", Decimal("50000.00"))
    )
    yield spec
    company_settings.REGISTRY.pop(spec.key, None)


def _all_settings(**changes) -> dict:
    """The settings form as the page fills it: every registered setting at its default."""
    data = {}
    for spec in company_settings.REGISTRY.values():
        if spec.kind == "bool":
            if spec.default:
                data[spec.key] = "1"
        else:
            data[spec.key] = str(spec.default)
    data.update(changes)
    return data


def test_settings_page_shows_flows_and_saves_thresholds(app, login, training_flow, a_setting):
    c = login("admin")
    page = c.get("/approvals/settings").get_data(as_text=True)
    assert "Test threshold" in page and "50000.00" in page
    bad = c.post("/approvals/settings", _all_settings(**{"test.threshold": "12.345"}))
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert (
        c.post("/approvals/settings", _all_settings(**{"test.threshold": "-5"})).status_code == 422
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Setting.id))) == 0
    ok = c.post("/approvals/settings", _all_settings(**{"test.threshold": "80000"}))
    assert ok.status_code == 303
    with app.app_context():
        assert company_settings.get("test.threshold") == Decimal("80000.00")


def test_only_the_administrator_changes_settings(login):
    assert login("manager").get("/approvals/settings").status_code == 403
    assert login("sales1").post("/approvals/settings", {}).status_code == 403


def test_inbox_costs_a_fixed_number_of_queries(app, login, training_flow, count_queries, demo):
    c = login("sales3")

    def submit(n):
        with app.test_request_context():
            applicant = db.session.get(User, demo["sales1"])
            for i in range(n):
                record = TrainingRecord(
                    owner_id=applicant.id, course=f"课程{i}", taken_on=date(2026, 3, 1), hours=1
                )
                db.session.add(record)
                db.session.flush()
                engine.submit(record, applicant)
            db.session.commit()

    submit(3)
    c.get("/approvals/")
    with count_queries() as few:
        c.get("/approvals/")
    submit(60)
    with count_queries() as many:
        page = c.get("/approvals/").get_data(as_text=True)
    assert few.count == many.count <= 6
    assert "课程59" in page or "课程10" in page
