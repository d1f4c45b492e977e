"""Evaluation views (P3.4): the evaluation page of an ended activity (KPI tiles, charts,
the entered fields, approval), its submission, and the PDF (a live preview before
approval, the frozen file after). The activity page shows the evaluation's panel and an
"Evaluate" action (activity_page.py).
"""

from __future__ import annotations

import json

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mktapp.brand import bp
from mktapp.brand import evaluation as svc
from mktapp.brand.activity_page import Action, Panel, register_action, register_panel
from mktapp.brand.forms_evaluation import EvaluationForm
from mktapp.core.actions import act, again, record_action
from mktapp.core.attachments import file_path, register_attachable
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import redirect_to, render
from mktapp.core.pdf import pdf_response
from mktapp.core.permissions import can, get_visible_or_404, require
from mktapp.models import Activity, ActivityEvaluation


def _panel(activity: Activity, user) -> dict:
    """The activity page's evaluation panel: status, a few frozen figures, links."""
    evaluation = svc.evaluation_of(activity)
    fig = None
    if evaluation is not None and evaluation.figures:
        fig = json.loads(evaluation.figures)
    return {
        "eval_activity": activity,
        "evaluation": evaluation,
        "eval_fig": fig,
    }


def _page(activity: Activity, form: EvaluationForm | None = None, status: int = 200, **extra):
    evaluation = svc.evaluation_of(activity)
    may_edit = svc.may_edit(current_user, activity, evaluation)
    if form is None:
        form = EvaluationForm(obj=evaluation) if evaluation else EvaluationForm(formdata=None)
    fig = svc.figures_of(activity, evaluation)
    return render(
        "brand/evaluation.html",
        block="evaluation_form",
        status=status,
        activity=activity,
        evaluation=evaluation,
        form=form,
        confirm=ConfirmForm(),
        may_edit=may_edit,
        ended=activity.status in svc.EVALUABLE or activity.status == "evaluated",
        not_ended=svc.not_ended_message(activity),
        fig=fig,
        kpis=svc.kpis(activity, fig, evaluation),
        charts=svc.chart_set(fig),
        frozen=svc.frozen_pdf(evaluation),
        **extra,
    )


@bp.route("/activities/<int:activity_id>/evaluation", methods=["GET", "POST"])
@require("brand.view")
def evaluation(activity_id: int):
    """An activity's evaluation: figures against the plan, the entered fields, approval."""
    activity = get_visible_or_404(Activity, activity_id, current_user)
    if request.method == "GET":
        return _page(activity)
    if not can(current_user, "brand.edit"):
        abort(403)
    form = EvaluationForm()
    if activity.status not in svc.EVALUABLE:
        form.form_errors.append(svc.not_ended_message(activity))
        return _page(activity, form, 422)
    return record_action(
        activity,
        lambda activity, form: svc.save(current_user, activity, form.to_input()),
        message=_("Evaluation of %(number)s saved."),
        then=url_for("brand.evaluation", activity_id=activity.id),
        on_error=again(_page, Activity, activity_id, form_as="form"),
        form=form,
    )


@bp.post("/activities/<int:activity_id>/evaluation/submit")
@require("brand.edit")
def evaluation_submit(activity_id: int):
    """Freeze the figures and send the evaluation to the marketing manager."""
    return act(
        _page,
        Activity,
        activity_id,
        svc.submit,
        _("Evaluation of %(number)s submitted for approval."),
        url_for("brand.evaluation", activity_id=activity_id),
    )


@bp.get("/evaluations/<int:evaluation_id>")
@require("brand.view")
def evaluation_record(evaluation_id: int):
    """An evaluation by its own id (the approval inbox links here): its activity's page."""
    record = get_visible_or_404(ActivityEvaluation, evaluation_id, current_user)
    return redirect_to(url_for("brand.evaluation", activity_id=record.activity_id))


@bp.get("/activities/<int:activity_id>/evaluation.pdf")
@require("brand.view")
def evaluation_pdf(activity_id: int):
    """The approved evaluation's frozen PDF; before approval, a live preview."""
    activity = get_visible_or_404(Activity, activity_id, current_user)
    evaluation = svc.evaluation_of(activity)
    name = f"活动评估-{activity.number}.pdf"
    frozen = svc.frozen_pdf(evaluation)
    if frozen is not None:
        path = file_path(frozen)
        if not path.is_file():
            abort(404)
        return pdf_response(path.read_bytes(), name, fallback=f"{activity.number}.pdf")
    if activity.status not in svc.EVALUABLE:
        abort(404)
    data = svc.render_evaluation_pdf(activity, evaluation)
    return pdf_response(data, name, fallback=f"{activity.number}.pdf")


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    # Nobody adds files by hand: the only attachment is the PDF frozen on approval.
    register_attachable(ActivityEvaluation, can_edit=lambda user, evaluation: False)
    register_panel(
        Panel(
            key="evaluation",
            title=_l("Evaluation"),
            template="brand/_evaluation_panel.html",
            load=_panel,
            permissions=("brand.view",),
            order=50,
        )
    )
    register_action(
        Action(
            endpoint="brand.evaluation",
            label=_l("Evaluate"),
            permissions=("brand.edit",),
            when=lambda user, activity: activity.status in ("ended", "evaluated"),
            order=50,
        )
    )
