"""Approvals across document types: the inbox (待我审批), decisions, withdraw, comments, settings.

The documents themselves live in their chapters; these views load one only
through its chapter's record rules (get_visible_or_404) and act on it through
the approval engine.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mktapp.core import approvals as engine
from mktapp.core import nav
from mktapp.core import settings as company_settings
from mktapp.core.htmx import hx_target, is_htmx, redirect_to, render
from mktapp.core.lists import Column, Filter, ListSpec
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.core.views import safe_next
from mktapp.extensions import db
from mktapp.models import ApprovalRequest, ApprovalStep, User

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


def _flow_or_404(doc_type: str) -> engine.Flow:
    flow = engine.FLOWS.get(doc_type)
    if flow is None:
        abort(404)
    return flow


@bp.app_template_global("approval_state")
def approval_state(doc):
    """What the approval panel of a document needs, for the signed-in user."""
    flow = engine.flow_of(doc)
    if flow is None:
        return None
    rounds = engine.requests_for(doc)
    current = rounds[-1] if rounds else None
    step = engine.pending_step(current)
    return {
        "flow": flow,
        "doc_type": flow.doc_type,
        "rounds": rounds,
        "current": current,
        "step": step,
        "may_decide": step is not None and engine.may_decide(current_user, step),
        "is_applicant": current is not None and current.applicant_id == current_user.id,
        "may_comment": engine.may_comment(current_user, doc, rounds),
        "may_withdraw": (
            current is not None
            and current.status == "pending"
            and current.applicant_id == current_user.id
            and not any(s.status in ("approved", "rejected") for s in current.steps)
        ),
        "events": engine.timeline(doc),
        "step_label": engine.step_label,
        "assignee_label": engine.assignee_label,
        "request_status": engine.REQUEST_STATUS_LABELS,
        "step_status": engine.STEP_STATUS_LABELS,
        "action_labels": engine.ACTION_LABELS,
    }


def _flow_code(raw: str) -> str | None:
    return raw if raw in engine.FLOWS else None  # the flows are known once the app is made


INBOX = ListSpec(
    "approval_inbox",
    columns=[
        Column("document", _l("Document")),
        Column("applicant", _l("Applicant")),
        Column("step", _l("Step")),
        Column("submitted", _l("Submitted")),
        Column("decision", _l("Decision"), export=False),
    ],
    filters=[Filter("doc_type", _flow_code, arg="type", default=None)],
    # Oldest first: the inbox works through them in order.
    default_sort="waiting",
    tie=ApprovalStep.id,
    sorts={"waiting": ApprovalRequest.submitted_at},
)
InboxQuery = INBOX.Query


@bp.get("/")
@require()
def index():
    """Everything waiting on the signed-in user, across document types."""
    query = InboxQuery.from_args(request.args)
    return render("core/approvals.html", block="approval_rows", **_inbox_page(query))


def _inbox_page(query, error: str | None = None) -> dict:
    """The inbox's page (twice the usual size): the steps waiting on the user (of one
    document type, or all), with their request and applicant (two queries)."""
    stmt = (
        select(ApprovalStep).join(ApprovalStep.request).where(engine.inbox_condition(current_user))
    )
    if query.doc_type:
        stmt = stmt.where(ApprovalRequest.doc_type == query.doc_type)
    page = INBOX.page(
        stmt,
        query,
        current_app.config["PAGE_SIZE"] * 2,
        # The applicants' roles are not needed here.
        options=[
            joinedload(ApprovalStep.request)
            .joinedload(ApprovalRequest.applicant)
            .lazyload(User.roles)
        ],
    )
    return {
        "page": page,
        "query": query,
        "doc_type": query.doc_type,
        "flows": engine.FLOWS,
        "error": error,
        "step_label": engine.step_label,
    }


@bp.get("/count")
@require()
def count():
    """The sidebar's count of approvals waiting on the user (polled)."""
    n = engine.inbox_count(current_user)
    return nav.badge_response("approvals.count", n, _("%(n)s waiting", n=n))


def _answer_error(error: engine.ApprovalError, back: str, doc):
    """A refused action, with its status (409 when someone else decided first, else 422/403).

    htmx gets the part it targeted back with the message in it (the inbox rows or
    the document's approval panel); a plain form gets a page with a way back.
    """
    status = getattr(error, "status", 422)
    if is_htmx() and hx_target() == "approval_rows":
        return render(
            "core/approvals.html",
            block="approval_rows",
            status=status,
            # Every document type, at the page the address says.
            **_inbox_page(InboxQuery(page=InboxQuery.from_args(request.args).page), str(error)),
        )
    if is_htmx() and doc is not None:
        return render(
            "core/approval_panel.html",
            block="approval_panel",
            status=status,
            doc=doc,
            error=str(error),
            back=back,
        )
    return render(
        "errors/error.html",
        status=status,
        title=_("Not done"),
        message=str(error),
        back=back,
    )


def _decide(step_id: int, outcome: str):
    step = db.session.get(ApprovalStep, step_id)
    if step is None:
        abort(404)
    flow = _flow_or_404(step.request.doc_type)
    # The decider must be able to see the document (chapters let approvers see theirs).
    doc = get_visible_or_404(flow.model, step.request.doc_id, current_user)
    back = safe_next(request.form.get("next") or flow.url(step.request.doc_id))
    comment = (request.form.get("comment") or "").strip()[:2000]
    try:
        if outcome == "approve":
            engine.approve(step.id, current_user, comment)
            message = _("Approved.")
        else:
            engine.reject(step.id, current_user, comment)
            message = _("Returned to the applicant.")
    except engine.ApprovalError as error:
        db.session.rollback()
        doc = db.session.get(flow.model, doc.id)
        return _answer_error(error, back, doc)
    db.session.commit()
    flash(message, "success")
    return redirect_to(back)


@bp.post("/steps/<int:step_id>/approve")
@require()
def approve(step_id: int):
    """Approve the current step (only its assignee, only once)."""
    return _decide(step_id, "approve")


@bp.post("/steps/<int:step_id>/reject")
@require()
def reject(step_id: int):
    """Reject the current step with a reason; the document goes back to the applicant."""
    return _decide(step_id, "reject")


def _on_document(doc_type: str, doc_id: int, do: Callable[[object], object], message: str):
    """Do `do(doc)` with the engine on a document the user may see, then go back to it
    (or to `next`) with `message`; a refusal is answered like a decision's."""
    flow = _flow_or_404(doc_type)
    doc = get_visible_or_404(flow.model, doc_id, current_user)
    back = safe_next(request.form.get("next") or flow.url(doc_id))
    try:
        do(doc)
    except engine.ApprovalError as error:
        db.session.rollback()
        return _answer_error(error, back, db.session.get(flow.model, doc_id))
    db.session.commit()
    flash(message, "success")
    return redirect_to(back)


@bp.post("/<doc_type>/<int:doc_id>/withdraw")
@require()
def withdraw(doc_type: str, doc_id: int):
    """The applicant withdraws a document before the first decision."""
    return _on_document(
        doc_type,
        doc_id,
        lambda doc: engine.withdraw(doc, current_user),
        _("Withdrawn. You can edit it and submit it again."),
    )


@bp.post("/<doc_type>/<int:doc_id>/comment")
@require()
def comment(doc_type: str, doc_id: int):
    """Add a comment to a document's approval timeline (the people in its approval only:
    engine.may_comment, which also decides whether the panel offers the comment box)."""

    def add(doc):
        if not engine.may_comment(current_user, doc):
            raise engine.NotYourStep(_l("Only the people in this approval may comment on it."))
        engine.comment(doc, current_user, request.form.get("comment", "")[:2000])

    return _on_document(doc_type, doc_id, add, _("Comment added."))


@bp.route("/settings", methods=["GET", "POST"])
@require("settings.manage")
def settings():
    """The approval flows, and the thresholds the administrator may change."""
    specs = list(company_settings.REGISTRY.values())
    errors: dict[str, str] = {}
    values = {spec.key: company_settings.get(spec.key) for spec in specs}
    status = 200
    if request.method == "POST":
        submitted = {}
        for spec in specs:
            raw = request.form.get(spec.key, "")
            if spec.kind == "bool":
                raw = "1" if raw else "0"
            submitted[spec.key] = raw
            try:
                company_settings.parse(spec, raw)
            except company_settings.InvalidSetting:
                errors[spec.key] = (
                    _("Enter an amount of at least ¥0.00 with at most two decimals.")
                    if spec.kind == "money"
                    else _("Enter a whole number of at least 0.")
                )
        if errors:
            status = 422
            values.update(submitted)
        else:
            for spec in specs:
                company_settings.set_value(spec.key, submitted[spec.key])
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect_to(url_for("approvals.settings"))
    return render(
        "core/approval_settings.html",
        block="settings_form",
        status=status,
        flows=engine.FLOWS,
        specs=specs,
        values=values,
        errors=errors,
        role_step_labels=engine.ROLE_STEP_LABELS,
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "home",
        nav.NavEntry(
            "approvals.index", _l("Awaiting my approval"), icon="check", badge="approvals.count"
        ),
    )
    nav.add(
        "admin", nav.NavEntry("approvals.settings", _l("Approval settings"), ("settings.manage",))
    )


def register(app) -> None:
    """Its blueprint, and what it adds to the registries."""
    app.register_blueprint(bp)
    setup(app)
