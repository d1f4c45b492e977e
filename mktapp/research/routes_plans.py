"""Research plan views (P2.1): the list and its export, the timeline, the plan's page with
its schedule, staff, approval and field notes (P2.2 interviews, focus groups, observation,
web search).

Approving and rejecting go through the approval engine's own endpoints, shown on the
plan's page by its panel.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mktapp.core import clock, nav, pickers
from mktapp.core.actions import act, again, edit_page, part_or_404, record_action, refreshed
from mktapp.core.attachments import register_attachable
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.extensions import db
from mktapp.models import (
    PLAN_STATUSES,
    RESEARCH_CONTENTS,
    RESEARCH_METHODS,
    FieldNote,
    ResearchAssignment,
    ResearchMilestone,
    ResearchPlan,
    Survey,
    User,
)
from mktapp.org.picker_sources import people_source
from mktapp.research import bp
from mktapp.research import plans as svc
from mktapp.research.forms import AssignmentForm, MilestoneForm, NoteForm, PlanForm


@bp.record_once
def _register_pickers(state) -> None:
    """The colleagues a plan's staff is chosen from (core/pickers)."""
    pickers.register(
        state.app,
        people_source(
            "research_staff",
            lambda user: select(User).where(*svc.staff_conditions()),
            ("research.edit",),
        ),
    )


# --- the list ----------------------------------------------------------------------------------


@bp.get("/plans/")
@require("research.view")
def plans():
    """Research plans: search, filters by status, content and method, sort and paging."""
    query = svc.PlanQuery.from_args(request.args)
    return list_page(
        "research/plans.html",
        "plan_rows",
        query,
        svc.list_plans,
        url_for("research.plans", **query.args()),
        statuses=PLAN_STATUSES,
        contents=RESEARCH_CONTENTS,
        methods=RESEARCH_METHODS,
    )


@bp.get("/plans.xlsx")
@require("research.view")
def plans_xlsx():
    """The filtered plans (all pages) as an Excel workbook."""
    query = svc.PlanQuery.from_args(request.args)
    return svc.PLANS.xlsx(svc.export_plans(current_user, query), _("Research plans"))


@bp.get("/plans/timeline")
@require("research.view")
def plan_timeline():
    """The plans on a month or quarter grid, with their milestones and today."""
    today = clock.today()
    span = 3 if request.args.get("span") != "6" else 6
    try:
        anchor = date.fromisoformat((request.args.get("from") or "") + "-01")
    except ValueError:
        anchor = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    if not 1990 <= anchor.year <= 2100:
        anchor = date(today.year, today.month, 1)
    grid = svc.timeline(current_user, anchor, span, today)
    prev_start = svc._add_months(grid.start, -span)
    next_start = svc._add_months(grid.start, span)
    return render(
        "research/timeline.html",
        grid=grid,
        span=span,
        prev=f"{prev_start:%Y-%m}",
        next=f"{next_start:%Y-%m}",
        current=f"{grid.start:%Y-%m}",
        last_day=grid.end - timedelta(days=1),
    )


# --- the form ---------------------------------------------------------------------------------


def _input(form: PlanForm) -> svc.PlanInput:
    return svc.PlanInput(
        title=form.title.data or "",
        purpose=form.purpose.data or "",
        subjects=form.subjects.data or "",
        contents=list(form.contents.data or []),
        methods=list(form.methods.data or []),
        start_on=form.start_on.data,
        end_on=form.end_on.data,
    )


def _edit(form: PlanForm, plan: ResearchPlan | None):
    """The plan's form (`plan` None: a new one), for GET and POST; saved, the plan's page."""
    return edit_page(
        "research/plan_form.html",
        "plan_form",
        form,
        plan,
        lambda plan, form: (
            svc.create_plan(current_user, _input(form))
            if plan is None
            else svc.update_plan(current_user, plan, _input(form))
        ),
        message=lambda plan: _("Research plan %(number)s saved.", number=plan.number),
        then=lambda plan: url_for("research.plan_detail", plan_id=plan.id),
        plan=plan,
    )


@bp.route("/plans/new", methods=["GET", "POST"])
@require("research.edit")
def plan_new():
    """Write a research plan (a draft until submitted)."""
    form = PlanForm()
    if request.method == "GET":
        form.start_on.data = clock.today()
        form.contents.data = []
        form.methods.data = []
    return _edit(form, None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def plan_edit(plan_id: int):
    """Change a draft, returned or withdrawn plan."""
    plan = get_visible_or_404(ResearchPlan, plan_id, current_user)
    if request.method == "GET":
        form = PlanForm(obj=plan)
        form.contents.data = plan.content_codes
        form.methods.data = plan.method_codes
    else:
        form = PlanForm()
    if not svc.may_edit(current_user, plan):
        form.form_errors.append(_("This plan is under review or approved and cannot be changed."))
        return render(
            "research/plan_form.html", block="plan_form", status=422, form=form, plan=plan
        )
    return _edit(form, plan)


# --- one plan -----------------------------------------------------------------------------------


def _detail(plan: ResearchPlan, status: int = 200, block: str | None = None, **extra):

    staff_form = extra.pop("staff_form", None) or AssignmentForm(formdata=None)
    context = {
        "plan": plan,
        "may_edit": svc.may_edit(current_user, plan),
        "may_run": svc.may_run(current_user, plan),
        "milestone_form": extra.pop("milestone_form", None) or MilestoneForm(formdata=None),
        "staff_form": staff_form,
        "confirm": ConfirmForm(),
        "notes": svc.notes_of(plan),
        "surveys": list(
            db.session.scalars(
                select(Survey).where(Survey.plan_id == plan.id, Survey.archived_at.is_(None))
            ).unique()
        ),
        "today": clock.today(),
    }
    context.update(extra)
    return render("research/plan_detail.html", block=block, status=status, **context)


@bp.get("/plans/<int:plan_id>")
@require("research.view")
def plan_detail(plan_id: int):
    """A plan: purpose, subjects, content, methods, schedule, staff, approval, field notes."""
    plan = get_visible_or_404(ResearchPlan, plan_id, current_user)
    return _detail(plan)


def _act(plan_id: int, action, message: str, then: str | None = None):
    """A step of the plan's life: done, the plan's page (or `then`)."""
    then = then or url_for("research.plan_detail", plan_id=plan_id)
    return act(_detail, ResearchPlan, plan_id, action, message, then)


@bp.post("/plans/<int:plan_id>/submit")
@require("research.edit")
def plan_submit(plan_id: int):
    """Send the plan to the marketing manager for approval."""
    return _act(plan_id, svc.submit, _("Research plan %(number)s submitted for approval."))


@bp.post("/plans/<int:plan_id>/start")
@require("research.edit")
def plan_start(plan_id: int):
    """Start an approved plan (进行中)."""
    return _act(plan_id, svc.start, _("Research plan %(number)s is now in progress."))


@bp.post("/plans/<int:plan_id>/finish")
@require("research.edit")
def plan_finish(plan_id: int):
    """Mark a plan in progress as completed."""
    return _act(plan_id, svc.finish, _("Research plan %(number)s completed."))


@bp.post("/plans/<int:plan_id>/archive")
@require("research.edit")
def plan_archive(plan_id: int):
    """Archive a draft that will not be pursued (kept, not deleted)."""
    return _act(
        plan_id,
        svc.archive,
        _("Research plan %(number)s archived."),
        then=url_for("research.plans"),
    )


# --- schedule and staff (htmx fragments of the plan's page) -----------------------------------------


@bp.post("/plans/<int:plan_id>/milestones")
@require("research.edit")
def milestone_add(plan_id: int):
    """Add a milestone to the plan's schedule."""
    plan = get_visible_or_404(ResearchPlan, plan_id, current_user)
    return _panel_action(
        plan,
        plan,
        lambda plan, form: svc.add_milestone(current_user, plan, form.due_on.data, form.title.data),
        "plan_schedule",
        form=MilestoneForm(),
        form_as="milestone_form",
    )


def _fragment_or_page(plan, block):
    if is_partial():
        return _detail(plan, block=block)
    return redirect_to(url_for("research.plan_detail", plan_id=plan.id))


def _panel_action(
    plan: ResearchPlan,
    record,
    do,
    block: str,
    form=None,
    form_as: str | None = None,
    message_as: str = "action_error",
):
    """Change the plan's schedule or staff (`do(record, form)`): the panel (`block`)
    redrawn, or refused, redrawn (422) with the form again (passed as `form_as`) or the
    message (passed as `message_as`)."""
    return record_action(
        record,
        do,
        message=None,
        then=lambda _outcome: _fragment_or_page(refreshed(plan), block),
        on_error=again(
            _detail, ResearchPlan, plan.id, form_as=form_as, message_as=message_as, block=block
        ),
        form=form,
    )


def _milestone_action(milestone_id: int, change):
    """Tick off or take out a milestone (`change(user, milestone)`): the schedule redrawn,
    or its message in place (422)."""
    milestone = part_or_404(ResearchMilestone, milestone_id, ResearchPlan, "plan_id")
    return _panel_action(
        milestone.plan,
        milestone,
        lambda milestone, form: change(current_user, milestone),
        "plan_schedule",
        message_as="schedule_error",
    )


@bp.post("/milestones/<int:milestone_id>/toggle")
@require("research.edit")
def milestone_toggle(milestone_id: int):
    """Tick a milestone off (or undo it)."""
    return _milestone_action(milestone_id, svc.toggle_milestone)


@bp.post("/milestones/<int:milestone_id>/remove")
@require("research.edit")
def milestone_remove(milestone_id: int):
    """Take a milestone out of a draft plan's schedule."""
    return _milestone_action(milestone_id, svc.remove_milestone)


@bp.post("/plans/<int:plan_id>/staff")
@require("research.edit")
def assignment_add(plan_id: int):
    """Put a colleague on the plan with their task."""
    plan = get_visible_or_404(ResearchPlan, plan_id, current_user)
    return _panel_action(
        plan,
        plan,
        lambda plan, form: svc.assign(current_user, plan, form.user_id.data, form.task.data),
        "plan_staff",
        form=AssignmentForm(),
        form_as="staff_form",
    )


@bp.post("/staff/<int:assignment_id>/remove")
@require("research.edit")
def assignment_remove(assignment_id: int):
    """Take a colleague off a draft plan."""
    assignment = part_or_404(ResearchAssignment, assignment_id, ResearchPlan, "plan_id")
    return _panel_action(
        assignment.plan,
        assignment,
        lambda assignment, form: svc.unassign(current_user, assignment),
        "plan_staff",
        message_as="staff_error",
    )


# --- field notes --------------------------------------------------------------------------------


def _note_input(form: NoteForm) -> svc.NoteInput:
    return svc.NoteInput(
        method=form.method.data,
        held_on=form.held_on.data,
        title=form.title.data or "",
        participants=form.participants.data or "",
        notes=form.notes.data or "",
    )


def _note_page(form: NoteForm, plan: ResearchPlan, note: FieldNote | None, do, message: str):
    """The field note's form on `plan` (`note` None: a new one), for GET and POST; saved,
    the note's page."""
    return edit_page(
        "research/note_form.html",
        "note_form",
        form,
        plan if note is None else note,
        do,
        message=message,
        then=lambda note: url_for("research.note_detail", note_id=note.id),
        plan=plan,
        note=note,
    )


@bp.route("/plans/<int:plan_id>/notes/new", methods=["GET", "POST"])
@require("research.edit")
def note_new(plan_id: int):
    """Record an interview, focus group, observation or web search for the plan."""
    plan = get_visible_or_404(ResearchPlan, plan_id, current_user)
    form = NoteForm()
    if request.method == "GET":
        form.held_on.data = clock.today()
        if request.args.get("method") in dict(form.method.choices):
            form.method.data = request.args["method"]
    return _note_page(
        form,
        plan,
        None,
        lambda plan, form: svc.add_note(current_user, plan, _note_input(form)),
        _("Field note saved. Attach recordings, photos or documents below."),
    )


@bp.get("/notes/<int:note_id>")
@require("research.view")
def note_detail(note_id: int):
    """A field note with its attachments."""
    note = get_visible_or_404(FieldNote, note_id, current_user)
    return render(
        "research/note_detail.html",
        note=note,
        may_edit=svc.may_edit_note(current_user, note),
    )


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def note_edit(note_id: int):
    """Correct a field note."""
    note = get_visible_or_404(FieldNote, note_id, current_user)
    if not svc.may_edit_note(current_user, note):
        abort(403)
    return _note_page(
        NoteForm(obj=note) if request.method == "GET" else NoteForm(),
        note.plan,
        note,
        lambda note, form: svc.update_note(current_user, note, _note_input(form)),
        _("Field note saved."),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P2", nav.NavEntry("research.plans", nav._l("Research plans"), ("research.view",), "doc")
    )
    nav.add(
        "P2",
        nav.NavEntry(
            "research.plan_timeline", nav._l("Research timeline"), ("research.view",), "dot"
        ),
    )
    register_attachable(FieldNote, can_edit=lambda user, note: svc.may_edit_note(user, note))
    register_attachable(ResearchPlan, can_edit=lambda user, plan: svc.may_run(user, plan))
