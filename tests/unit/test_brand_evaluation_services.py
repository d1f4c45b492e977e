"""Activity evaluation services (P3.4): the figures computed in SQL against hand-counted
data (attendance, the lead funnel, sales before and after, cost by category, ROI,
satisfaction through the research analysis), the entered fields' bounds, the lifecycle
(only after the end, submitted once, frozen figures, locked when approved) and the
number of statements the computation needs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from mktapp.brand import evaluation as svc
from mktapp.core import approvals as engine
from mktapp.extensions import db
from mktapp.models import (
    Activity,
    ActivityBudgetLine,
    ActivityEvaluation,
    ActivityParticipant,
    Contract,
    Customer,
    ExpenseClaim,
    Opportunity,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    User,
    utcnow,
)

END = date(2026, 6, 20)
START = date(2026, 6, 19)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def build_activity(status="ended", number="HD-2026-9001", with_data=True) -> Activity:
    """An ended activity with hand-countable data (see the expected figures below)."""
    planner = _user("market1")
    rep = _user("sales1")
    activity = Activity(
        number=number,
        kind="launch",
        theme="新品发布会·上海站",
        target_participants=50,
        target_leads=10,
        target_sales=Decimal("100000"),
        start_on=START,
        end_on=END,
        place="上海国际会议中心",
        status=status,
        owner_id=planner.id,
    )
    activity.budget_lines = [
        ActivityBudgetLine(category="activity", year=2026, month=6, amount=Decimal("20000")),
        ActivityBudgetLine(category="advertising", year=2026, month=6, amount=Decimal("5000")),
    ]
    db.session.add(activity)
    db.session.flush()
    if not with_data:
        return activity
    # 40 participants, 30 checked in
    for i in range(40):
        db.session.add(
            ActivityParticipant(
                activity_id=activity.id,
                name=f"来宾{i}",
                checked_in_at=utcnow() if i < 30 else None,
            )
        )
    # 12 leads (one archived: not counted -> 11)
    leads = []
    for i in range(12):
        c = Customer(
            name=f"线索客户{number}-{i}",
            owner_id=rep.id,
            source="activity",
            source_activity_id=activity.id,
            archived_at=utcnow() if i == 11 else None,
        )
        db.session.add(c)
        leads.append(c)
    other = Customer(name=f"别的客户{number}", owner_id=rep.id)
    db.session.add(other)
    db.session.flush()
    # participant who is a known customer (not a lead)
    db.session.add(
        ActivityParticipant(activity_id=activity.id, name="老客户", customer_id=other.id)
    )
    for i, stage in enumerate(["won", "won", "proposal", "contact", "lost"]):
        db.session.add(
            Opportunity(
                customer_id=leads[i].id,
                title=f"商机{i}",
                stage=stage,
                amount=Decimal("10000"),
                owner_id=rep.id,
            )
        )
    db.session.add(
        Opportunity(customer_id=other.id, title="别的", amount=Decimal("99"), owner_id=rep.id)
    )

    def contract(n, customer, status, total, signed_on):
        db.session.add(
            Contract(
                number=f"HT-{number}-{n}",
                title="合同",
                customer_id=customer.id,
                status=status,
                draft_date=START,
                total=Decimal(total),
                signed_on=signed_on,
                owner_id=rep.id,
            )
        )

    contract(1, leads[0], "signed", "30000", END + timedelta(days=10))
    contract(2, leads[1], "executing", "30000", END + timedelta(days=30))
    contract(3, leads[2], "completed", "30000", END + timedelta(days=200))  # outside window
    contract(4, leads[3], "draft", "77777", None)  # not signed
    contract(5, other, "signed", "5000", END + timedelta(days=5))  # participant's customer
    contract(6, other, "signed", "20000", START - timedelta(days=20))  # before
    # claims: counted (approved, paid), not counted (draft, rejected, archived, other)
    for n, (cat, amount, status, link) in enumerate(
        [
            ("activity", "15000", "approved", activity.id),
            ("advertising", "3000", "paid", activity.id),
            ("advertising", "4000", "paid", activity.id),
            ("activity", "9999", "draft", activity.id),
            ("activity", "8888", "rejected", activity.id),
            ("activity", "7777", "approved", activity.id + 1000),
        ]
    ):
        db.session.add(
            ExpenseClaim(
                number=f"BX-{number}-{n}",
                category=cat,
                reason="活动费用",
                amount=Decimal(amount),
                incurred_on=END,
                payment_method="bank",
                status=status,
                link_type="activity",
                link_id=link,
                owner_id=planner.id,
            )
        )
    # the feedback questionnaire: a rating question (4 answers: 5,5,4,2) and NPS (10,9,6)
    survey = Survey(title="现场反馈", owner_id=planner.id, status="open")
    db.session.add(survey)
    db.session.flush()
    rating = SurveyQuestion(survey_id=survey.id, seq=1, kind="rating", text="总体满意度")
    nps = SurveyQuestion(survey_id=survey.id, seq=2, kind="nps", text="推荐意愿")
    db.session.add_all([rating, nps])
    db.session.flush()
    for r, n in [(5, 10), (5, 9), (4, 6), (2, None)]:
        response = SurveyResponse(survey_id=survey.id, channel="qr")
        db.session.add(response)
        db.session.flush()
        db.session.add(SurveyAnswer(response_id=response.id, question_id=rating.id, num=r))
        if n is not None:
            db.session.add(SurveyAnswer(response_id=response.id, question_id=nps.id, num=n))
    activity.survey_id = survey.id
    db.session.flush()
    return activity


def entered(**changes) -> svc.EvaluationInput:
    values = {
        "reach": 120000,
        "media_coverage": 8,
        "media_notes": "第一财经、36氪报道",
        "inquiries": 45,
        "new_followers": 1300,
        "what_worked": "现场演示吸引了大量咨询。",
        "what_to_change": "提前两周发出邀请。",
    }
    values.update(changes)
    return svc.EvaluationInput(**values)


def test_figures_are_counted_from_the_data(demo, app_ctx):
    activity = build_activity()
    fig = svc.compute_figures(activity)
    assert fig["attendance"] == {"target": 50, "registered": 41, "actual": 30, "rate": 0.6}
    f = fig["funnel"]
    assert (f["leads"], f["target"], f["opportunities"], f["won"]) == (11, 10, 5, 2)
    assert f["opportunity_amount"] == "50000.00"
    assert (f["contracts"], f["contract_amount"]) == (3, "90000.00")
    s = fig["sales"]
    assert (s["after_contracts"], s["after_amount"]) == (3, "65000.00")
    assert (s["before_contracts"], s["before_amount"]) == (1, "20000.00")
    assert s["growth_pct"] == pytest.approx(225.0)
    cost = fig["cost"]
    assert cost["actual"] == "22000.00" and cost["budget"] == "25000.00"
    assert cost["by_category"] == [
        {"category": "activity", "budget": "20000.00", "actual": "15000.00"},
        {"category": "advertising", "budget": "5000.00", "actual": "7000.00"},
    ]
    assert fig["cost_per_lead"] == "2000.00"
    assert fig["roi_pct"] == pytest.approx((90000 - 22000) / 22000 * 100)
    rating, nps = fig["satisfaction"]["rating"], fig["satisfaction"]["nps"]
    assert rating["mean"] == pytest.approx(4.0) and rating["answered"] == 4
    assert rating["csat"] == pytest.approx(75.0)
    assert [r["count"] for r in rating["rows"]] == [0, 1, 0, 1, 2]
    assert nps["score"] == pytest.approx(100 * (2 - 1) / 3)
    json.dumps(fig)  # JSON-ready


def test_figures_need_only_a_few_statements(demo, app_ctx, count_queries):
    activity = build_activity()
    db.session.commit()
    activity = db.session.get(Activity, activity.id)
    with count_queries() as q:
        svc.compute_figures(activity)
    assert q.count <= 14, q.statements


def test_empty_activity_has_no_division_by_zero(demo, app_ctx):
    activity = build_activity(with_data=False)
    activity.target_participants = 0
    fig = svc.compute_figures(activity)
    assert fig["roi_pct"] is None and fig["cost_per_lead"] is None
    assert fig["sales"]["growth_pct"] is None
    assert fig["satisfaction"] == {"survey_id": None, "rating": None, "nps": None}
    charts = svc.chart_set(fig)
    assert charts["satisfaction"] is None and "<svg" in charts["attendance"]


def test_kpis_compare_with_the_plan(demo, app_ctx):
    activity = build_activity()
    fig = svc.compute_figures(activity)
    tiles = {k.label: k for k in svc.kpis(activity, fig, None)}
    assert [t.ok for t in tiles.values()][:4] == [False, True, False, True]


@pytest.mark.parametrize("status", ["draft", "approved", "running", "cancelled"])
def test_only_an_ended_activity_can_be_evaluated(demo, app_ctx, status):
    activity = build_activity(status=status, with_data=False)
    with pytest.raises(svc.EvaluationError):
        svc.save(_user("market1"), activity, entered())
    with pytest.raises(svc.EvaluationError):
        svc.submit(_user("market1"), activity)
    assert svc.evaluation_of(activity) is None


@pytest.mark.parametrize(
    "field,value", [("reach", -1), ("inquiries", 10**7), ("media_coverage", 10**6)]
)
def test_entered_numbers_are_bounded(demo, app_ctx, field, value):
    activity = build_activity(with_data=False)
    with pytest.raises(svc.EvaluationError) as error:
        svc.save(_user("market1"), activity, entered(**{field: value}))
    assert error.value.field == field


def test_lifecycle_freezes_figures_and_the_pdf(demo, app_ctx):
    activity = build_activity()
    author, manager = _user("market1"), _user("manager")
    svc.save(author, activity, entered())
    evaluation = svc.submit(author, activity)
    db.session.commit()
    assert evaluation.status == "pending"
    frozen = json.loads(evaluation.figures)
    assert frozen["funnel"]["leads"] == 11
    with pytest.raises(svc.EvaluationError):
        svc.submit(author, activity)  # twice
    with pytest.raises(svc.EvaluationError):
        svc.save(author, activity, entered(reach=1))  # under review
    # later data does not change the frozen figures
    db.session.add(Customer(name="晚到的线索", owner_id=author.id, source_activity_id=activity.id))
    db.session.flush()
    assert svc.figures_of(activity, evaluation)["funnel"]["leads"] == 11
    step = engine.pending_step(engine.current_request(evaluation))
    engine.approve(step.id, manager)
    db.session.commit()
    evaluation = db.session.get(ActivityEvaluation, evaluation.id)
    assert evaluation.status == "approved" and evaluation.activity.status == "evaluated"
    pdf = svc.frozen_pdf(evaluation)
    assert pdf is not None and pdf.content_type == "application/pdf"
    with pytest.raises(svc.EvaluationError):
        svc.save(author, evaluation.activity, entered(reach=5))


def test_submission_needs_the_lessons(demo, app_ctx):
    activity = build_activity(with_data=False)
    svc.save(_user("market1"), activity, entered(what_to_change=""))
    with pytest.raises(svc.EvaluationError):
        svc.submit(_user("market1"), activity)
    assert svc.evaluation_of(activity).status == "draft"


def test_a_returned_evaluation_is_edited_and_submitted_again_with_fresh_figures(demo, app_ctx):
    activity = build_activity()
    author, manager = _user("market1"), _user("manager")
    svc.save(author, activity, entered())
    evaluation = svc.submit(author, activity)
    db.session.commit()
    step = engine.pending_step(engine.current_request(evaluation))
    engine.reject(step.id, manager, "请补充媒体报道的链接。")
    db.session.commit()
    assert evaluation.status == "rejected" and activity.status == "ended"
    assert evaluation.pdf_attachment_id is None
    db.session.add(Customer(name="补录线索", owner_id=author.id, source_activity_id=activity.id))
    svc.save(author, activity, entered(media_notes="https://example.cn/news/1"))
    svc.submit(author, activity)
    db.session.commit()
    assert evaluation.status == "pending"
    assert json.loads(evaluation.figures)["funnel"]["leads"] == 12
