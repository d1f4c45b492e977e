"""The policy itself (P0, P7.3) and the org chart as a PDF (P1).

Staff read each chapter where they work: a chapter links to the screens that
carry it out. Chapters are editable (policy.edit); releasing a version records
its number, effective date and changes; chapter edits are in the audit log.
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import clock, nav
from mktapp.core.actions import edit_page
from mktapp.core.htmx import redirect_to, render
from mktapp.core.pdf import pdf_response, render_pdf
from mktapp.core.permissions import can, require
from mktapp.extensions import db
from mktapp.org import bp
from mktapp.org import policy as svc
from mktapp.org.forms_policy import ChapterForm, VersionForm
from mktapp.org.reports import chart_report


def _chapter_or_404(code: str):
    chapter = svc.chapter_by_code(code)
    if chapter is None:
        abort(404)
    return chapter


@bp.get("/chart.pdf")
@require()
def chart_pdf():
    """The org chart with every post's duties, as a PDF."""
    data = render_pdf("reports/org_chart.html", today=clock.today(), **chart_report())
    return pdf_response(data, "营销部门组织架构与岗位职责.pdf", fallback="org-chart.pdf")


@bp.get("/policy")
@require()
def policy():
    """The policy: version in force, effective date, and the chapters as a table of contents."""
    chapters = svc.chapters()
    return render(
        "org/policy.html",
        chapters=chapters,
        sections={c.id: svc.section_titles(c.code, c.body) for c in chapters},
        version=svc.current_version(clock.today()),
        screens=svc.SCREENS,
        can_edit=can(current_user, "policy.edit"),
    )


@bp.get("/policy.pdf")
@require()
def policy_pdf():
    """The whole policy as a PDF."""
    chapters = svc.chapters()
    data = render_pdf(
        "reports/policy.html",
        chapters=chapters,
        blocks={c.id: svc.body_blocks(c.code, c.body) for c in chapters},
        version=svc.current_version(clock.today()),
        today=clock.today(),
    )
    return pdf_response(data, "营销管理制度.pdf", fallback="policy.pdf")


@bp.get("/policy/versions")
@require()
def policy_versions():
    """The versions of the policy, newest first (P7.3)."""
    return render(
        "org/policy_versions.html",
        versions=svc.versions(),
        edits=svc.chapter_edits(),
        current=svc.current_version(clock.today()),
        can_edit=can(current_user, "policy.edit"),
    )


@bp.route("/policy/versions/new", methods=["GET", "POST"])
@require("policy.edit")
def policy_version_new():
    """Release a new version of the policy with its effective date."""
    return edit_page(
        "org/policy_version_form.html",
        "version_form",
        VersionForm(),
        None,
        lambda _, form: svc.release_version(
            current_user, form.version.data, form.effective_on.data, form.summary.data
        ),
        message=lambda record: _("Version %(v)s released.", v=record.version),
        then=url_for("org.policy_versions"),
        versions=svc.versions(),
    )


@bp.get("/policy/<code>")
@require()
def policy_chapter(code: str):
    """One chapter's text, the screens that carry it out, and its change history."""
    chapter = _chapter_or_404(code)
    previous, following = svc.neighbours(chapter)
    return render(
        "org/policy_chapter.html",
        chapter=chapter,
        blocks=svc.body_blocks(chapter.code, chapter.body),
        screens=svc.SCREENS.get(chapter.code, []),
        previous=previous,
        following=following,
        version=svc.current_version(clock.today()),
        can_edit=can(current_user, "policy.edit"),
    )


@bp.route("/policy/<code>/edit", methods=["GET", "POST"])
@require("policy.edit")
def policy_edit(code: str):
    """Edit a chapter's title and text."""
    chapter = _chapter_or_404(code)
    form = ChapterForm(obj=chapter)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            changed = svc.update_chapter(
                current_user, chapter, form.title.data, form.body.data, form.reason.data or ""
            )
            db.session.commit()
            if changed:
                flash(_("Chapter %(code)s saved.", code=chapter.code), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect_to(url_for("org.policy_chapter", code=chapter.code))
    return render(
        "org/policy_edit.html", block="chapter_form", status=status, form=form, chapter=chapter
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("P1", nav.NavEntry("org.policy", nav._l("Policy"), icon="book"))
