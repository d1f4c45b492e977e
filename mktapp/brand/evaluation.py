"""Evaluation of a market activity (P3.4): figures computed in SQL, the evaluator's entries,
the marketing manager's approval and the PDF frozen on approval.

Figures (compute_figures) come from a handful of grouped queries, never a loop over rows:
- attendance: participants registered and checked in, against the plan's target;
- leads: customers whose source_activity_id is the activity; their opportunities (count,
  amount, won) and their signed contracts (status signed or later: count, total);
- sales growth: contracts signed by the activity's customers (its leads and the customers
  among its participants) in the SALES_WINDOW days after the end, against the same number
  of days before the start;
- satisfaction: the feedback questionnaire's first rating question (mean, CSAT,
  distribution) and first NPS question, through research/analysis.py;
- cost: claims linked to the activity (link_type "activity") that are approved or paid,
  by category, against the activity's budget lines; cost per lead; ROI =
  (contract total of the leads - cost) / cost.

The evaluation goes through the approval engine (doc type "ActivityEvaluation", one step:
the marketing manager). Submission freezes the figures as JSON; approval marks the
activity "evaluated" and stores the PDF as an attachment, offered from then on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, union
from werkzeug.datastructures import FileStorage

from mktapp.core import approvals as engine
from mktapp.core import charts, vocab
from mktapp.core.attachments import save_upload
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.i18n import money
from mktapp.core.pdf import render_pdf
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import (
    ACTIVITY_STATUSES,
    CATEGORIES,
    EVALUATION_STATUSES,
    Activity,
    ActivityBudgetLine,
    ActivityEvaluation,
    ActivityParticipant,
    Attachment,
    Contract,
    Customer,
    ExpenseClaim,
    Opportunity,
    SurveyQuestion,
    User,
    utcnow,
)
from mktapp.research import analysis

EDITABLE = frozenset({"draft", "rejected", "withdrawn"})
# The activity statuses in which it may be evaluated (ended) or shown as evaluated.
EVALUABLE = frozenset({"ended"})
# Contract states that count as signed business (see contracts.services.SIGNED_STATES).
SIGNED = ("signed", "executing", "completed", "terminated")
COST_STATUSES = ("approved", "paid")
WON = "won"
SALES_WINDOW = 90  # days after the end (and the same before the start)

# The upper bounds of the entered figures (anything above is a typing mistake).
LIMITS = {
    "reach": 1_000_000_000,
    "media_coverage": 100_000,
    "inquiries": 1_000_000,
    "new_followers": 100_000_000,
}

ENTERED_FIELDS = (
    "reach",
    "media_coverage",
    "media_notes",
    "inquiries",
    "new_followers",
    "what_worked",
    "what_to_change",
)


class EvaluationError(DomainError):
    """Something asked of an evaluation that cannot be done; str() is the message."""


status_label = EVALUATION_STATUSES.label


def evaluation_of(activity: Activity) -> ActivityEvaluation | None:
    return db.session.scalar(
        select(ActivityEvaluation).where(ActivityEvaluation.activity_id == activity.id)
    )


def may_edit(user, activity: Activity, evaluation: ActivityEvaluation | None) -> bool:
    """brand.edit, the activity has ended, and the evaluation is not under review/approved."""
    if not can(user, "brand.edit") or activity.status not in EVALUABLE:
        return False
    return evaluation is None or evaluation.status in EDITABLE


def not_ended_message(activity: Activity) -> str:

    return _(
        "An activity can be evaluated only after it has ended (this one is: %(status)s).",
        status=ACTIVITY_STATUSES.label(activity.status),
    )


# --- the figures ----------------------------------------------------------------------------


def _d(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _ratio(a, b) -> float | None:
    return float(a) / float(b) if b else None


def _leads(activity_id: int):
    return select(Customer.id).where(
        Customer.source_activity_id == activity_id, Customer.archived_at.is_(None)
    )


def _attendance(activity: Activity) -> dict:
    p = ActivityParticipant
    total, checked = db.session.execute(
        select(func.count(p.id), func.count(p.checked_in_at)).where(p.activity_id == activity.id)
    ).one()
    return {
        "target": activity.target_participants or 0,
        "registered": total or 0,
        "actual": checked or 0,
        "rate": _ratio(checked, activity.target_participants),
    }


def _funnel(activity: Activity) -> dict:
    """Leads, their opportunities and their signed contracts: one statement."""
    leads = _leads(activity.id)
    o, c = Opportunity, Contract
    opp = [o.customer_id.in_(leads), o.archived_at.is_(None)]
    con = [c.customer_id.in_(leads), c.status.in_(SIGNED)]
    row = db.session.execute(
        select(
            select(func.count()).select_from(leads.subquery()).scalar_subquery(),
            select(func.count(o.id)).where(*opp).scalar_subquery(),
            select(func.coalesce(func.sum(o.amount), 0)).where(*opp).scalar_subquery(),
            select(func.count(o.id)).where(*opp, o.stage == WON).scalar_subquery(),
            select(func.count(c.id)).where(*con).scalar_subquery(),
            select(func.coalesce(func.sum(c.total), 0)).where(*con).scalar_subquery(),
        )
    ).one()
    n_leads, n_opp, opp_amount, n_won, n_con, con_amount = row
    return {
        "target": activity.target_leads or 0,
        "leads": n_leads or 0,
        "opportunities": n_opp or 0,
        "opportunity_amount": str(_d(opp_amount)),
        "won": n_won or 0,
        "contracts": n_con or 0,
        "contract_amount": str(_d(con_amount)),
    }


def _sales_window(activity: Activity) -> dict:
    """Signed contracts of the activity's customers (its leads and its participants'
    customers) in the SALES_WINDOW days after the end against the same span before the start."""
    customers = union(
        _leads(activity.id),
        select(ActivityParticipant.customer_id).where(
            ActivityParticipant.activity_id == activity.id,
            ActivityParticipant.customer_id.is_not(None),
        ),
    ).subquery()
    after_from = activity.end_on + timedelta(days=1)
    after_to = activity.end_on + timedelta(days=SALES_WINDOW)
    before_from = activity.start_on - timedelta(days=SALES_WINDOW)
    before_to = activity.start_on - timedelta(days=1)
    c = Contract
    in_after = and_(c.signed_on >= after_from, c.signed_on <= after_to)
    in_before = and_(c.signed_on >= before_from, c.signed_on <= before_to)
    row = db.session.execute(
        select(
            func.count(case((in_after, c.id))),
            func.coalesce(func.sum(case((in_after, c.total), else_=0)), 0),
            func.count(case((in_before, c.id))),
            func.coalesce(func.sum(case((in_before, c.total), else_=0)), 0),
        ).where(
            c.customer_id.in_(select(customers.c[0])),
            c.status.in_(SIGNED),
            or_(in_after, in_before),
        )
    ).one()
    after_n, after_amount, before_n, before_amount = row
    after_amount, before_amount = _d(after_amount), _d(before_amount)
    growth = float((after_amount - before_amount) / before_amount * 100) if before_amount else None
    return {
        "days": SALES_WINDOW,
        "after_from": after_from.isoformat(),
        "after_to": after_to.isoformat(),
        "before_from": before_from.isoformat(),
        "before_to": before_to.isoformat(),
        "after_contracts": after_n or 0,
        "after_amount": str(after_amount),
        "before_contracts": before_n or 0,
        "before_amount": str(before_amount),
        "growth_pct": growth,
    }


def _cost(activity: Activity) -> dict:
    """Claims linked to the activity (approved or paid) and its budget, by category."""
    e, b = ExpenseClaim, ActivityBudgetLine
    spent = dict(
        db.session.execute(
            select(e.category, func.sum(e.amount))
            .where(
                e.link_type == "activity",
                e.link_id == activity.id,
                e.status.in_(COST_STATUSES),
                e.archived_at.is_(None),
            )
            .group_by(e.category)
        ).all()
    )
    budget = dict(
        db.session.execute(
            select(b.category, func.sum(b.amount))
            .where(b.activity_id == activity.id)
            .group_by(b.category)
        ).all()
    )
    order = list(CATEGORIES)
    codes = sorted(set(spent) | set(budget), key=lambda k: order.index(k) if k in order else 99)
    rows = [
        {
            "category": code,
            "budget": str(_d(budget.get(code))),
            "actual": str(_d(spent.get(code))),
        }
        for code in codes
    ]
    return {
        "budget": str(sum((_d(v) for v in budget.values()), Decimal("0.00"))),
        "actual": str(sum((_d(v) for v in spent.values()), Decimal("0.00"))),
        "by_category": rows,
    }


def _satisfaction(activity: Activity) -> dict:
    """The feedback questionnaire's first rating and first NPS question (research analysis)."""

    out: dict = {"survey_id": activity.survey_id, "rating": None, "nps": None}
    if not activity.survey_id:
        return out
    questions = db.session.execute(
        select(SurveyQuestion.id, SurveyQuestion.kind)
        .where(
            SurveyQuestion.survey_id == activity.survey_id,
            SurveyQuestion.kind.in_(("rating", "nps")),
        )
        .order_by(SurveyQuestion.seq, SurveyQuestion.id)
    ).all()
    first = {}
    for qid, kind in questions:
        first.setdefault(kind, qid)
    for kind, qid in first.items():
        block = analysis.question_block(qid)
        stats = block.get("stats") or {}
        entry = {
            "question": block["text"],
            "answered": block["answered"],
            "respondents": block["respondents"],
            "mean": stats.get("mean"),
            "rows": [{"label": r["label"], "count": r["count"]} for r in block["rows"]],
        }
        if kind == "rating":
            entry["csat"] = block.get("csat")
        else:
            nps = block.get("nps") or {}
            entry.update(
                score=nps.get("score"),
                promoters=nps.get("promoters", 0),
                passives=nps.get("passives", 0),
                detractors=nps.get("detractors", 0),
            )
        out[kind] = entry
    return out


def compute_figures(activity: Activity) -> dict:
    """Every computed figure of an activity, as JSON-ready data (money as strings)."""
    funnel = _funnel(activity)
    cost = _cost(activity)
    actual = Decimal(cost["actual"])
    revenue = Decimal(funnel["contract_amount"])
    figures = {
        "computed_at": utcnow().isoformat(timespec="seconds"),
        "attendance": _attendance(activity),
        "funnel": funnel,
        "sales": _sales_window(activity),
        "satisfaction": _satisfaction(activity),
        "cost": cost,
        "target_sales": str(_d(activity.target_sales)),
        "cost_per_lead": str(_d(actual / funnel["leads"])) if funnel["leads"] else None,
        "roi_pct": float((revenue - actual) / actual * 100) if actual else None,
    }
    return figures


def figures_of(activity: Activity, evaluation: ActivityEvaluation | None) -> dict:
    """The frozen figures once submitted (under review or approved), else live ones."""
    if (
        evaluation is not None
        and evaluation.figures
        and evaluation.status
        in (
            "pending",
            "approved",
        )
    ):
        return json.loads(evaluation.figures)
    return compute_figures(activity)


# --- presentation: KPI tiles and charts ------------------------------------------------------


@dataclass
class Kpi:
    label: str
    value: str
    target: str | None = None
    ok: bool | None = None  # None: no target to compare with
    note: str = ""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def kpis(activity: Activity, fig: dict, evaluation: ActivityEvaluation | None) -> list[Kpi]:

    att, fun, cost = fig["attendance"], fig["funnel"], fig["cost"]
    revenue = Decimal(fun["contract_amount"])
    target_sales = Decimal(fig.get("target_sales") or 0)
    budget, actual = Decimal(cost["budget"]), Decimal(cost["actual"])
    sat = fig["satisfaction"]
    out = [
        Kpi(
            str(_l("Participants")),
            str(att["actual"]),
            str(att["target"]) if att["target"] else None,
            att["actual"] >= att["target"] if att["target"] else None,
            _("%(n)s registered", n=att["registered"]),
        ),
        Kpi(
            str(_l("Leads")),
            str(fun["leads"]),
            str(fun["target"]) if fun["target"] else None,
            fun["leads"] >= fun["target"] if fun["target"] else None,
        ),
        Kpi(
            str(_l("Contract amount of the leads")),
            money(revenue),
            money(target_sales) if target_sales else None,
            revenue >= target_sales if target_sales else None,
            _("%(n)s contracts", n=fun["contracts"]),
        ),
        Kpi(
            str(_l("Cost")),
            money(actual),
            money(budget) if budget else None,
            actual <= budget if budget else None,
            _("Claims approved or paid"),
        ),
        Kpi(
            str(_l("Cost per lead")),
            money(fig["cost_per_lead"]) if fig["cost_per_lead"] is not None else "—",
        ),
        Kpi(
            str(_l("ROI")),
            _pct(fig["roi_pct"]),
            None,
            fig["roi_pct"] >= 0 if fig["roi_pct"] is not None else None,
        ),
    ]
    if sat.get("rating"):
        mean = sat["rating"]["mean"]
        out.append(
            Kpi(
                str(_l("Satisfaction (1–5)")),
                "—" if mean is None else f"{mean:.2f}",
                note=_("%(n)s answers", n=sat["rating"]["answered"]),
            )
        )
    if sat.get("nps"):
        score = sat["nps"]["score"]
        out.append(
            Kpi(
                "NPS",
                "—" if score is None else f"{score:.0f}",
                None,
                score >= 0 if score is not None else None,
            )
        )
    if evaluation is not None:
        out.append(Kpi(str(_l("Reach")), f"{evaluation.reach:,}"))
        out.append(Kpi(str(_l("Media coverage")), f"{evaluation.media_coverage:,}"))
        out.append(Kpi(str(_l("Inquiries")), f"{evaluation.inquiries:,}"))
        out.append(Kpi(str(_l("New followers")), f"{evaluation.new_followers:,}"))
    return out


category_label = CATEGORIES.label


def chart_set(fig: dict) -> dict:
    """The four SVG charts of the page and the PDF, drawn from the (frozen) figures."""

    att, fun, cost = fig["attendance"], fig["funnel"], fig["cost"]
    planned, actual = _("Target"), _("Actual")
    out = {
        "attendance": charts.bar_chart(
            [_("Registered"), _("Checked in")],
            [
                charts.Series(planned, [att["target"], att["target"]], charts.BUDGET),
                charts.Series(actual, [att["registered"], att["actual"]], charts.ACTUAL),
            ],
            title=_("Attendance: planned and actual"),
            desc=_(
                "Target %(t)s participants; %(r)s registered, %(a)s checked in.",
                t=att["target"],
                r=att["registered"],
                a=att["actual"],
            ),
            fmt=lambda v: f"{v:g}",
            height=240,
        ),
        "funnel": charts.funnel_chart(
            [
                (_("Leads"), fun["leads"], _("target %(n)s", n=fun["target"])),
                (_("Opportunities"), fun["opportunities"], money(fun["opportunity_amount"])),
                (_("Contracts"), fun["contracts"], money(fun["contract_amount"])),
            ],
            title=_("Lead funnel"),
            desc=_(
                "%(l)s leads, %(o)s opportunities, %(c)s signed contracts.",
                l=fun["leads"],
                o=fun["opportunities"],
                c=fun["contracts"],
            ),
        ),
        "budget": None,
        "satisfaction": None,
    }
    rows = cost["by_category"]
    if rows:
        over = [charts.OVER if Decimal(r["actual"]) > Decimal(r["budget"]) else None for r in rows]
        series = charts.Series(
            _("Actual"), [Decimal(r["actual"]) for r in rows], charts.ACTUAL, colors=over
        )
        series.extra["over_name"] = _("Over budget")
        out["budget"] = charts.bar_chart(
            [category_label(r["category"]) for r in rows],
            [
                charts.Series(_("Budget"), [Decimal(r["budget"]) for r in rows], charts.BUDGET),
                series,
            ],
            title=_("Budget and actual cost by category"),
            desc=_("Budget %(b)s, actual %(a)s.", b=money(cost["budget"]), a=money(cost["actual"])),
            height=250,
        )
    rating = fig["satisfaction"].get("rating")
    if rating and rating["answered"]:
        out["satisfaction"] = charts.hbar_chart(
            [_("%(n)s points", n=r["label"]) for r in rating["rows"]],
            [r["count"] for r in rating["rows"]],
            title=_("Satisfaction distribution"),
            desc=rating["question"],
            fmt=lambda v: f"{v:g}",
        )
    return out


# --- writing ------------------------------------------------------------------------------


@dataclass
class EvaluationInput:
    reach: int
    media_coverage: int
    media_notes: str
    inquiries: int
    new_followers: int
    what_worked: str
    what_to_change: str


def _check(data: EvaluationInput) -> None:
    for name, top in LIMITS.items():
        value = getattr(data, name)
        if value is None or value < 0:
            raise EvaluationError(_("Enter a number of zero or more."), name)
        if value > top:
            limit = f"{top:,}"
            raise EvaluationError(_("That is more than %(n)s: check the number.", n=limit), name)


def save(user: User, activity: Activity, data: EvaluationInput) -> ActivityEvaluation:
    """Create or change the evaluation's entered fields (the activity must have ended)."""
    if activity.status not in EVALUABLE:
        raise EvaluationError(not_ended_message(activity))
    evaluation = evaluation_of(activity)
    if not may_edit(user, activity, evaluation):
        raise EvaluationError(
            _("This evaluation is under review or approved and cannot be changed.")
        )
    _check(data)
    if evaluation is None:
        evaluation = ActivityEvaluation(activity_id=activity.id, owner_id=user.id, status="draft")
        db.session.add(evaluation)
    evaluation.reach = data.reach
    evaluation.media_coverage = data.media_coverage
    evaluation.media_notes = (data.media_notes or "").strip()
    evaluation.inquiries = data.inquiries
    evaluation.new_followers = data.new_followers
    evaluation.what_worked = (data.what_worked or "").strip()
    evaluation.what_to_change = (data.what_to_change or "").strip()
    db.session.flush()
    return evaluation


def submit(user: User, activity: Activity) -> ActivityEvaluation:
    """Freeze the figures and send the evaluation to the marketing manager."""
    if activity.status not in EVALUABLE:
        raise EvaluationError(not_ended_message(activity))
    evaluation = evaluation_of(activity)
    if evaluation is None:
        raise EvaluationError(_("Save the evaluation before submitting it."))
    if not may_edit(user, activity, evaluation):
        raise EvaluationError(_("This evaluation has been submitted already."))
    if not evaluation.what_worked or not evaluation.what_to_change:
        raise EvaluationError(
            _("Write what worked and what to change next time before submitting.")
        )
    evaluation.figures = json.dumps(compute_figures(activity), ensure_ascii=False)
    try:
        engine.submit(evaluation, user)
    except engine.ApprovalError as error:
        raise EvaluationError(str(error)) from None
    return evaluation


def render_evaluation_pdf(activity: Activity, evaluation: ActivityEvaluation | None) -> bytes:

    fig = figures_of(activity, evaluation)
    return render_pdf(
        "reports/activity_evaluation.html",
        activity=activity,
        evaluation=evaluation,
        fig=fig,
        kpis=kpis(activity, fig, evaluation),
        charts=chart_set(fig),
    )


def frozen_pdf(evaluation: ActivityEvaluation | None) -> Attachment | None:
    if evaluation is None or evaluation.pdf_attachment_id is None:
        return None
    return db.session.get(Attachment, evaluation.pdf_attachment_id)


# --- the engine's hooks -----------------------------------------------------------------------


def on_approved(evaluation: ActivityEvaluation, actor: User) -> None:
    """Approved: the activity is evaluated; the PDF is rendered once and kept."""
    activity = evaluation.activity
    activity.status = "evaluated"
    data = render_evaluation_pdf(activity, evaluation)
    upload = FileStorage(BytesIO(data), filename=f"活动评估-{activity.number}.pdf")
    attachment = save_upload(upload, evaluation, actor)
    db.session.flush()
    evaluation.pdf_attachment_id = attachment.id


FLOW = engine.Flow(
    doc_type="ActivityEvaluation",
    model=ActivityEvaluation,
    label=_l("Activity evaluation"),
    steps=[engine.Step("manager", _l("Marketing manager"), "marketing_manager")],
    endpoint="brand.evaluation_record",
    id_arg="evaluation_id",
    applicant=lambda evaluation: evaluation.owner,
    title=lambda evaluation: (
        f"活动评估 {evaluation.activity.number} · {evaluation.activity.theme[:60]}"
    ),
    review=engine.STANDARD_REVIEW,
    on_approved=on_approved,
)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, EVALUATION_STATUSES)
    engine.register_flow(FLOW)
    describe(
        ActivityEvaluation,
        title=_l("Activity evaluation"),
        fields={
            "reach": _l("Reach"),
            "media_coverage": _l("Media coverage"),
            "media_notes": _l("Media notes"),
            "inquiries": _l("Inquiries"),
            "new_followers": _l("New followers"),
            "what_worked": _l("What worked"),
            "what_to_change": _l("What to change next time"),
            "status": _l("Status"),
            "submitted_at": _l("Submitted"),
            "approved_at": _l("Approved"),
        },
        values={"status": status_label},
    )
