"""Research reports (P2.5): 调研报告 written on a plan, approved by the marketing manager,
frozen as a PDF on approval.

Six Markdown sections (REPORT_SECTIONS). A section may hold live blocks: a marker on a
line of its own -- `[[question:12]]` (a question's chart and table) or
`[[crosstab:12:15]]` (a cross-tab) -- is replaced, after the Markdown has been
sanitised, by the analysis block of the plan's questionnaires. A marker naming a
question of another plan, or one that does not exist, shows "block unavailable".

The report goes through the approval engine (doc type "ResearchReport", one step: the
marketing manager). On approval the PDF is rendered once and stored as an attachment;
from then on the frozen file is what is offered, whatever the data does later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from mktapp.core import approvals as engine
from mktapp.core import vocab
from mktapp.core.attachments import save_upload
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, contains, one_of
from mktapp.core.markdown import render_markdown
from mktapp.core.notify import notify
from mktapp.core.numbering import next_number
from mktapp.core.pdf import render_pdf
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import (
    REPORT_SECTIONS,
    REPORT_STATUSES,
    Attachment,
    Competitor,
    Group,
    ResearchPlan,
    ResearchReport,
    Survey,
    SurveyQuestion,
    User,
    utcnow,
)
from mktapp.research import analysis, market
from mktapp.research.documents import manager_flow, may_edit

STATUSES = REPORT_STATUSES
MARKER = re.compile(r"<p>\[\[(question|crosstab):(\d{1,9})(?::(\d{1,9}))?\]\]</p>")
COMPETITOR_MARKER = re.compile(r"<p>\[\[competitors:(\d{1,9}(?:,\d{1,9}){0,5})\]\]</p>")


class ReportError(DomainError):
    """Something asked of a report that cannot be done; str() is the message for the user."""


status_label = STATUSES.label


# --- writing ------------------------------------------------------------------------------


@dataclass
class ReportInput:
    plan_id: int
    title: str
    sections: dict[str, str]
    group_ids: list[int]


def _apply(user, report: ResearchReport, data: ReportInput) -> None:
    plan = db.session.scalars(
        visible(select(ResearchPlan), user, ResearchPlan).where(
            ResearchPlan.id == data.plan_id, ResearchPlan.archived_at.is_(None)
        )
    ).first()
    if plan is None:
        raise ReportError(_("Choose a research plan."), "plan_id")
    groups = set(db.session.scalars(select(Group.id).where(Group.id.in_(data.group_ids or [0]))))
    report.plan_id = plan.id
    report.title = data.title.strip()[:200]
    for key in REPORT_SECTIONS:
        setattr(report, key, (data.sections.get(key) or "").strip())
    report.distribution = ",".join(str(g) for g in data.group_ids if g in groups)


def create_report(user: User, data: ReportInput, year: int) -> ResearchReport:
    report = ResearchReport(owner_id=user.id, status="draft")
    _apply(user, report, data)
    report.number = next_number("YB", year)
    db.session.add(report)
    db.session.flush()
    return report


def update_report(user: User, report: ResearchReport, data: ReportInput) -> ResearchReport:
    if not may_edit(user, report):
        raise ReportError(_("This report is under review or approved and cannot be changed."))
    _apply(user, report, data)
    return report


def block_choices(report: ResearchReport) -> list[SurveyQuestion]:
    """The questions of the plan's questionnaires that can be shown as blocks."""
    return list(
        db.session.scalars(
            select(SurveyQuestion)
            .join(Survey, Survey.id == SurveyQuestion.survey_id)
            .where(
                Survey.plan_id == report.plan_id,
                Survey.archived_at.is_(None),
                SurveyQuestion.kind != "section",
            )
            .order_by(Survey.id, SurveyQuestion.seq, SurveyQuestion.id)
        )
    )


def insert_block(user, report: ResearchReport, section: str, q1: int, q2: int | None) -> str:
    """Append a block marker as a line of its own to a section; returns the marker."""
    if not may_edit(user, report):
        raise ReportError(_("This report is under review or approved and cannot be changed."))
    if section not in REPORT_SECTIONS:
        raise ReportError(_("Choose a section."), "section")
    allowed = {q.id for q in block_choices(report)}
    if q1 not in allowed or (q2 is not None and (q2 not in allowed or q2 == q1)):
        raise ReportError(_("Choose a question of this plan's questionnaires."), "question")
    marker = f"[[crosstab:{q1}:{q2}]]" if q2 else f"[[question:{q1}]]"
    text = (getattr(report, section) or "").rstrip()
    setattr(report, section, f"{text}\n\n{marker}\n" if text else f"{marker}\n")
    return marker


# --- rendering ----------------------------------------------------------------------------------


def _unavailable() -> str:
    return render_template("research/_block_unavailable.html")


def _block(report: ResearchReport, kind: str, a: int, b: int | None) -> str:

    question = db.session.get(SurveyQuestion, a)
    if question is None or question.survey.plan_id != report.plan_id:
        return _unavailable()
    try:
        if kind == "question" and b is None:
            return render_template("research/_block_question.html", qb=analysis.question_block(a))
        if kind == "crosstab" and b is not None:
            other = db.session.get(SurveyQuestion, b)
            if other is None or other.survey.plan_id != report.plan_id:
                return _unavailable()
            return render_template(
                "research/_block_crosstab.html", ct=analysis.crosstab_block(a, b)
            )
    except LookupError:
        pass
    return _unavailable()


def render_section(report: ResearchReport, text: str) -> Markup:
    """A section's Markdown, sanitised, with its block markers replaced by live blocks."""
    html = str(render_markdown(text))

    def replace(match: re.Match) -> str:
        b = int(match.group(3)) if match.group(3) else None
        return _block(report, match.group(1), int(match.group(2)), b)

    html = MARKER.sub(replace, html)
    return Markup(COMPETITOR_MARKER.sub(lambda m: _competitor_block(m.group(1)), html))


def _competitor_block(ids: str) -> str:
    """Competitors side by side; every id must name a competitor on record (not archived)."""

    wanted = [int(x) for x in ids.split(",")]
    items = list(
        db.session.scalars(
            select(Competitor).where(Competitor.id.in_(wanted), Competitor.archived_at.is_(None))
        )
    )
    if len(items) != len(set(wanted)):
        return _unavailable()
    order = {cid: i for i, cid in enumerate(wanted)}
    items.sort(key=lambda c: order[c.id])
    return render_template(
        "research/_block_competitors.html",
        cmp_items=items,
        cmp_rows=market.comparison_rows(items),
    )


def insert_competitors(user, report: ResearchReport, section: str, ids: list[int]) -> str:
    """Append a competitor comparison marker to a section; returns the marker."""
    if not may_edit(user, report):
        raise ReportError(_("This report is under review or approved and cannot be changed."))
    if section not in REPORT_SECTIONS:
        raise ReportError(_("Choose a section."), "section")
    ids = list(dict.fromkeys(ids))
    known = set(
        db.session.scalars(
            select(Competitor.id).where(
                Competitor.id.in_(ids or [0]), Competitor.archived_at.is_(None)
            )
        )
    )
    if not ids or len(ids) > 6 or set(ids) - known:
        raise ReportError(_("Choose one to six competitors."), "competitors")
    marker = "[[competitors:" + ",".join(str(i) for i in ids) + "]]"
    text = (getattr(report, section) or "").rstrip()
    setattr(report, section, f"{text}\n\n{marker}\n" if text else f"{marker}\n")
    return marker


def rendered_sections(report: ResearchReport) -> list[tuple[str, str, Markup]]:
    """(key, heading, html) for each section, in order."""
    return [
        (key, str(label), render_section(report, getattr(report, key) or ""))
        for key, label in REPORT_SECTIONS.items()
    ]


def groups_of(report: ResearchReport) -> list[Group]:
    ids = report.group_ids
    if not ids:
        return []
    return list(db.session.scalars(select(Group).where(Group.id.in_(ids)).order_by(Group.sort)))


def render_report_pdf(report: ResearchReport) -> bytes:

    return render_pdf(
        "reports/research_report.html",
        report=report,
        sections=rendered_sections(report),
        groups=groups_of(report),
    )


def frozen_pdf(report: ResearchReport) -> Attachment | None:
    if report.pdf_attachment_id is None:
        return None
    return db.session.get(Attachment, report.pdf_attachment_id)


# --- lifecycle -----------------------------------------------------------------------------------


def submit(user, report: ResearchReport) -> None:
    if not may_edit(user, report):
        raise ReportError(_("This report cannot be submitted now."))
    empty = [str(label) for key, label in REPORT_SECTIONS.items() if not getattr(report, key)]
    if empty:
        raise ReportError(_("Write every section before submitting: %(s)s", s="、".join(empty)))
    if not report.group_ids:
        raise ReportError(_("Choose the departments the report is distributed to."))
    engine.submit(report, user)


def archive(user, report: ResearchReport) -> None:
    if not may_edit(user, report) or report.status != "draft":
        raise ReportError(_("Only a draft can be archived."))
    report.archived_at = utcnow()


def on_approved(report: ResearchReport, actor: User) -> None:
    """Approved: render the PDF once and keep it as the report's attachment."""
    data = render_report_pdf(report)
    upload = FileStorage(BytesIO(data), filename=f"调研报告-{report.number}.pdf")
    attachment = save_upload(upload, report, actor)
    db.session.flush()
    report.pdf_attachment_id = attachment.id
    _tell_departments(report)


def _tell_departments(report: ResearchReport) -> None:
    """Each active member of the departments it is distributed to hears of the report."""

    people = db.session.scalars(
        select(User).where(User.group_id.in_(report.group_ids or [0]), User.active.is_(True))
    )
    url = FLOW.url(report.id)
    for person in people:
        if person.id != report.owner_id and can(person, "research.view"):
            notify(
                person,
                _(
                    "Research report %(number)s: %(title)s",
                    number=report.number,
                    title=report.title,
                ),
                _("The approved research report is distributed to your department."),
                url,
            )


FLOW = manager_flow(
    ResearchReport,
    _l("Research report"),
    "research.report",
    "report_id",
    "调研报告",
    on_approved=on_approved,
)

# --- the list -------------------------------------------------------------------------------

REPORTS = ListSpec(
    "research_report",
    [
        Column("number", _l("No."), lambda r: r.number),
        Column("title", _l("Title"), lambda r: r.title),
        Column("plan", _l("Research plan"), lambda r: r.plan.title),
        Column("status", _l("Status"), lambda r: status_label(r.status)),
        Column("owner", _l("Author"), lambda r: r.owner.display_name if r.owner else ""),
        Column("updated", _l("Updated"), lambda r: r.updated_at),
    ],
    filters=[Filter("status", one_of(*REPORT_STATUSES))],
    default_sort="latest",
    default_dir="desc",
    tie=ResearchReport.id,
    # The list's one order, under a key of no column's: the table has no sort headers.
    sorts={"latest": ResearchReport.updated_at},
)
ReportQuery = REPORTS.Query


def list_reports(user, query, page_size: int) -> ListPage:
    """One page of the current reports this user may see, the last changed first."""
    stmt = visible(select(ResearchReport), user, ResearchReport).where(
        ResearchReport.archived_at.is_(None)
    )
    if query.q:
        stmt = stmt.where(contains(query.q, ResearchReport.title, ResearchReport.number))
    if query.status:
        stmt = stmt.where(ResearchReport.status == query.status)
    return REPORTS.page(stmt, query, page_size, unique=True)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUSES)
    engine.register_flow(FLOW)
    describe(
        ResearchReport,
        title=_l("Research report"),
        fields={
            "title": _l("Title"),
            "plan_id": _l("Research plan"),
            **REPORT_SECTIONS,
            "distribution": _l("Distributed to"),
            "status": _l("Status"),
        },
        values={"status": REPORT_STATUSES},
        refs={"distribution": "Group"},
    )
