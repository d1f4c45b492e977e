"""Research report views (P2.5): the list, the form, the report's page with its live
blocks and approval, and the PDF (a live preview before approval, the frozen file after).
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mktapp.core import clock, nav
from mktapp.core.actions import act, again, edit_page, record_action
from mktapp.core.attachments import file_path, register_attachable
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import render
from mktapp.core.lists import list_page
from mktapp.core.pdf import pdf_response
from mktapp.core.permissions import get_visible_or_404, require, visible
from mktapp.extensions import db
from mktapp.models import (
    REPORT_SECTIONS,
    REPORT_STATUSES,
    Competitor,
    Group,
    ResearchPlan,
    ResearchReport,
)
from mktapp.research import bp
from mktapp.research import reports as svc
from mktapp.research.analysis import CROSSTAB_KINDS
from mktapp.research.forms import BlockForm, CompetitorBlockForm, ReportForm


@bp.get("/reports/")
@require("research.view")
def reports():
    """Research reports: search by title or number, filter by status."""
    query = svc.ReportQuery.from_args(request.args)
    return list_page(
        "research/reports.html",
        "report_rows",
        query,
        svc.list_reports,
        query.url(url_for("research.reports")),
        statuses=REPORT_STATUSES,
    )


def _choices(form: ReportForm) -> None:
    plans = db.session.scalars(
        visible(select(ResearchPlan), current_user, ResearchPlan)
        .where(ResearchPlan.archived_at.is_(None))
        .order_by(ResearchPlan.start_on.desc())
    ).unique()
    form.plan_id.choices = [(0, _("Choose…"))] + [(p.id, f"{p.number} {p.title}") for p in plans]
    form.groups.choices = [
        (g.id, g.name) for g in db.session.scalars(select(Group).order_by(Group.sort, Group.id))
    ]


def _input(form: ReportForm) -> svc.ReportInput:
    return svc.ReportInput(
        plan_id=form.plan_id.data or 0,
        title=form.title.data or "",
        sections={key: getattr(form, key).data or "" for key in REPORT_SECTIONS},
        group_ids=list(form.groups.data or []),
    )


def _edit(form: ReportForm, report: ResearchReport | None):
    """The report's form (`report` None: a new one), for GET and POST; saved, the report's
    page."""
    return edit_page(
        "research/report_form.html",
        "report_form",
        form,
        report,
        lambda report, form: (
            svc.create_report(current_user, _input(form), clock.today().year)
            if report is None
            else svc.update_report(current_user, report, _input(form))
        ),
        message=lambda report: _("Research report %(number)s saved.", number=report.number),
        then=lambda report: url_for("research.report", report_id=report.id),
        report=report,
        section_keys=list(REPORT_SECTIONS),
    )


@bp.route("/reports/new", methods=["GET", "POST"])
@require("research.edit")
def report_new():
    """Write a research report on a plan (a draft until submitted)."""
    form = ReportForm()
    _choices(form)
    if request.method == "GET":
        plan_id = request.args.get("plan", type=int)
        form.plan_id.data = plan_id if plan_id in dict(form.plan_id.choices) else 0
        form.groups.data = []
    return _edit(form, None)


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def report_edit(report_id: int):
    """Change a draft, returned or withdrawn report."""
    report = get_visible_or_404(ResearchReport, report_id, current_user)
    form = ReportForm(obj=report) if request.method == "GET" else ReportForm()
    _choices(form)
    if request.method == "GET":
        form.groups.data = report.group_ids
    if not svc.may_edit(current_user, report):
        form.form_errors.append(_("This report is under review or approved and cannot be changed."))
        return render(
            "research/report_form.html",
            block="report_form",
            status=422,
            form=form,
            report=report,
            section_keys=list(REPORT_SECTIONS),
        )
    return _edit(form, report)


def _block_form(report: ResearchReport, form: BlockForm | None = None) -> BlockForm:
    form = form or BlockForm(formdata=None)
    questions = svc.block_choices(report)
    form.section.choices = [(k, str(v)) for k, v in REPORT_SECTIONS.items()]
    form.question.choices = [(q.id, f"{q.survey.title} · {q.text[:60]}") for q in questions]
    form.against.choices = [(0, "—")] + [
        (q.id, f"{q.survey.title} · {q.text[:60]}") for q in questions if q.kind in CROSSTAB_KINDS
    ]
    return form


def _competitor_form(form: CompetitorBlockForm | None = None) -> CompetitorBlockForm:
    form = form or CompetitorBlockForm(formdata=None, prefix="cmp")
    form.section.choices = [(k, str(v)) for k, v in REPORT_SECTIONS.items()]
    form.competitors.choices = [
        (c.id, c.name)
        for c in db.session.scalars(
            visible(select(Competitor), current_user, Competitor)
            .where(Competitor.archived_at.is_(None))
            .order_by(Competitor.name)
        )
    ]
    return form


def _detail(report: ResearchReport, status: int = 200, **extra):
    context = {
        "report": report,
        "sections": svc.rendered_sections(report),
        "groups": svc.groups_of(report),
        "may_edit": svc.may_edit(current_user, report),
        "frozen": svc.frozen_pdf(report),
        "confirm": ConfirmForm(),
        "block_form": extra.pop("block_form", None) or _block_form(report),
        "competitor_form": extra.pop("competitor_form", None) or _competitor_form(),
    }
    context.update(extra)
    return render("research/report_detail.html", status=status, **context)


@bp.get("/reports/<int:report_id>")
@require("research.view")
def report(report_id: int):
    """A report: its sections with live blocks, distribution, approval and PDF."""
    return _detail(get_visible_or_404(ResearchReport, report_id, current_user))


@bp.post("/reports/<int:report_id>/blocks")
@require("research.edit")
def report_block(report_id: int):
    """Append a question's chart and table, or a cross-tab, to a section."""
    return _insert(
        report_id,
        lambda report, form: svc.insert_block(
            current_user,
            report,
            form.section.data,
            form.question.data,
            form.against.data or None,
        ),
        "block_form",
        lambda report: _block_form(report, BlockForm()),
    )


@bp.post("/reports/<int:report_id>/competitors")
@require("research.edit")
def report_competitors(report_id: int):
    """Append a side-by-side comparison of chosen competitors to a section."""
    return _insert(
        report_id,
        lambda report, form: svc.insert_competitors(
            current_user, report, form.section.data, list(form.competitors.data or [])
        ),
        "competitor_form",
        lambda report: _competitor_form(CompetitorBlockForm(prefix="cmp")),
    )


def _insert(report_id: int, insert, form_as: str, form_for):
    """Insert a live block into a section: `insert(report, form)`, the form made by
    `form_for(report)`; done, the report's page; refused, the page with the form again
    (passed as `form_as`)."""
    report = get_visible_or_404(ResearchReport, report_id, current_user)
    return record_action(
        report,
        insert,
        message=_("Block inserted."),
        then=url_for("research.report", report_id=report.id),
        on_error=again(_detail, ResearchReport, report_id, form_as=form_as),
        form=form_for(report),
    )


def _act(report_id: int, action, message: str):
    """A step of the report's life: done, the report's page."""
    then = url_for("research.report", report_id=report_id)
    return act(_detail, ResearchReport, report_id, action, message, then)


@bp.post("/reports/<int:report_id>/submit")
@require("research.edit")
def report_submit(report_id: int):
    """Send the report to the marketing manager for approval."""
    return _act(report_id, svc.submit, _("Research report %(number)s submitted for approval."))


@bp.post("/reports/<int:report_id>/archive")
@require("research.edit")
def report_archive(report_id: int):
    """Archive a draft report (kept, not deleted)."""
    return _act(report_id, svc.archive, _("Research report %(number)s archived."))


@bp.get("/reports/<int:report_id>.pdf")
@require("research.view")
def report_pdf(report_id: int):
    """The approved report's frozen PDF; before approval, a live preview."""
    report = get_visible_or_404(ResearchReport, report_id, current_user)
    name = f"调研报告-{report.number}.pdf"
    frozen = svc.frozen_pdf(report)
    if frozen is not None:
        path = file_path(frozen)
        if not path.is_file():
            abort(404)
        return pdf_response(path.read_bytes(), name, fallback=f"{report.number}.pdf")
    return pdf_response(svc.render_report_pdf(report), name, fallback=f"{report.number}.pdf")


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P2",
        nav.NavEntry("research.reports", nav._l("Research reports"), ("research.view",), "doc"),
    )
    # Nobody adds files by hand: the only attachment is the PDF frozen on approval.
    register_attachable(ResearchReport, can_edit=lambda user, report: False)
