"""Research plans (P2.1): 调研计划, their approval by the marketing manager, the schedule.

A plan is written as a draft (numbered DY-<year>-NNNN), submitted to the approval engine
(one step: the marketing manager; the engine escalates when the manager wrote it), and
once approved it is started (进行中) and finished (已完成). The engine's hooks are the
only place a plan's status moves on approval events; start() and finish() the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.core import approvals as engine
from mktapp.core import vocab
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, contains, flag, one_of
from mktapp.core.numbering import next_number
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import (
    PLAN_STATUSES,
    RESEARCH_CONTENTS,
    RESEARCH_METHODS,
    FieldNote,
    ResearchAssignment,
    ResearchMilestone,
    ResearchPlan,
    Role,
    User,
    utcnow,
)
from mktapp.research.documents import manager_flow, may_edit

STATUSES = PLAN_STATUSES
CONTENTS = RESEARCH_CONTENTS
METHODS = RESEARCH_METHODS
FIELD_METHODS = ("interview", "focus_group", "observation", "web_search")


class PlanError(DomainError):
    """Something asked of a plan that cannot be done; str() is the message for the user."""


status_label = STATUSES.label
content_label = CONTENTS.label
method_label = METHODS.label


def may_run(user, plan: ResearchPlan) -> bool:
    """Who may start, finish and keep the schedule of an approved plan: its author,
    its staff and the manager."""
    if not can(user, "research.edit") or plan.is_archived:
        return False
    if plan.owner_id == user.id or "marketing_manager" in user.role_codes:
        return True
    return any(a.user_id == user.id for a in plan.assignments)


# --- writing ------------------------------------------------------------------------------


@dataclass
class PlanInput:
    title: str
    purpose: str
    subjects: str
    contents: list[str]
    methods: list[str]
    start_on: date
    end_on: date


def _check(data: PlanInput) -> None:
    if data.end_on < data.start_on:
        raise PlanError(_("The plan cannot end before it starts."), "end_on")
    if not data.contents:
        raise PlanError(_("Choose at least one kind of content."), "contents")
    if not data.methods:
        raise PlanError(_("Choose at least one method."), "methods")


def _apply(plan: ResearchPlan, data: PlanInput) -> None:
    plan.title = data.title.strip()
    plan.purpose = data.purpose.strip()
    plan.subjects = data.subjects.strip()
    plan.contents = ",".join(c for c in RESEARCH_CONTENTS if c in data.contents)
    plan.methods = ",".join(m for m in RESEARCH_METHODS if m in data.methods)
    plan.start_on = data.start_on
    plan.end_on = data.end_on


def create_plan(user: User, data: PlanInput) -> ResearchPlan:
    _check(data)
    plan = ResearchPlan(owner_id=user.id, status="draft")
    plan.number = next_number("DY", data.start_on.year)
    _apply(plan, data)
    db.session.add(plan)
    db.session.flush()
    return plan


def update_plan(user: User, plan: ResearchPlan, data: PlanInput) -> ResearchPlan:
    if not may_edit(user, plan):
        raise PlanError(_("This plan is under review or approved and cannot be changed."))
    _check(data)
    _apply(plan, data)
    return plan


def add_milestone(user, plan: ResearchPlan, due_on: date, title: str) -> ResearchMilestone:
    if not (may_edit(user, plan) or (may_run(user, plan) and plan.status != "done")):
        raise PlanError(_("You cannot change this plan's schedule."))
    title = (title or "").strip()
    if not title:
        raise PlanError(_("Name the milestone."), "title")
    milestone = ResearchMilestone(plan=plan, due_on=due_on, title=title[:200])
    db.session.add(milestone)
    db.session.flush()
    return milestone


def toggle_milestone(user, milestone: ResearchMilestone) -> ResearchMilestone:
    if not may_run(user, milestone.plan):
        raise PlanError(_("You cannot change this plan's schedule."))
    milestone.done = not milestone.done
    return milestone


def remove_milestone(user, milestone: ResearchMilestone) -> None:
    if not may_edit(user, milestone.plan):
        raise PlanError(_("Milestones of a submitted plan can be ticked off but not removed."))
    db.session.delete(milestone)


def assign(user, plan: ResearchPlan, person_id: int, task: str) -> ResearchAssignment:
    if not may_edit(user, plan):
        raise PlanError(_("Staff can be changed only while the plan is a draft or returned."))
    person = db.session.get(User, person_id)
    if person is None or not person.active:
        raise PlanError(_("Choose a colleague."), "user_id")
    if any(a.user_id == person.id for a in plan.assignments):
        raise PlanError(_("%(name)s is already on this plan.", name=person.display_name), "user_id")
    task = (task or "").strip()
    if not task:
        raise PlanError(_("Say what they will do."), "task")
    assignment = ResearchAssignment(plan=plan, user_id=person.id, task=task[:300])
    db.session.add(assignment)
    db.session.flush()
    return assignment


def unassign(user, assignment: ResearchAssignment) -> None:
    if not may_edit(user, assignment.plan):
        raise PlanError(_("Staff can be changed only while the plan is a draft or returned."))
    db.session.delete(assignment)


# --- lifecycle ------------------------------------------------------------------------------


def submit(user, plan: ResearchPlan) -> None:
    if not may_edit(user, plan):
        raise PlanError(_("This plan cannot be submitted now."))
    if not plan.milestones:
        raise PlanError(_("Add at least one milestone to the schedule before submitting."))
    if not plan.assignments:
        raise PlanError(_("Assign at least one person before submitting."))
    engine.submit(plan, user)


def start(user, plan: ResearchPlan) -> None:
    if plan.status != "approved" or not may_run(user, plan):
        raise PlanError(_("Only an approved plan can be started."))
    plan.status = "in_progress"


def finish(user, plan: ResearchPlan) -> None:
    if plan.status != "in_progress" or not may_run(user, plan):
        raise PlanError(_("Only a plan in progress can be completed."))
    plan.status = "done"


def archive(user, plan: ResearchPlan) -> None:
    if not may_edit(user, plan) or plan.status != "draft":
        raise PlanError(_("Only a draft can be archived."))
    plan.archived_at = utcnow()


FLOW = manager_flow(
    ResearchPlan, _l("Research plan"), "research.plan_detail", "plan_id", "调研计划"
)

# --- the list -------------------------------------------------------------------------------

PLANS = ListSpec(
    "plan",
    [
        Column("number", _l("No."), lambda p: p.number, sort=ResearchPlan.number),
        Column("title", _l("Title"), lambda p: p.title, sort=ResearchPlan.title),
        Column("content", _l("Content"), lambda p: "、".join(map(content_label, p.content_codes))),
        Column("methods", _l("Methods"), lambda p: "、".join(map(method_label, p.method_codes))),
        Column("start", _l("Duration"), sort=ResearchPlan.start_on, export=False),
        Column("starts", _l("Starts"), lambda p: p.start_on, screen=False),
        Column("ends", _l("Ends"), lambda p: p.end_on, screen=False),
        Column("owner", _l("Author"), lambda p: p.owner.display_name if p.owner else ""),
        Column("status", _l("Status"), lambda p: status_label(p.status), sort=ResearchPlan.status),
        Column("purpose", _l("Purpose"), lambda p: p.purpose, screen=False),
        Column("subjects", _l("Subjects"), lambda p: p.subjects, screen=False),
    ],
    filters=[
        Filter("status", one_of(*PLAN_STATUSES)),
        Filter("content", one_of(*RESEARCH_CONTENTS)),
        Filter("method", one_of(*RESEARCH_METHODS)),
        Filter("archived", flag, default=False),
    ],
    default_sort="start",
    default_dir="desc",
    tie=ResearchPlan.id,
    sorts={"updated": ResearchPlan.updated_at},
)
PlanQuery = PLANS.Query


def _filtered(user, query):
    stmt = visible(select(ResearchPlan), user, ResearchPlan)
    stmt = stmt.where(
        ResearchPlan.archived_at.is_not(None)
        if query.archived
        else ResearchPlan.archived_at.is_(None)
    )
    if query.q:
        stmt = stmt.where(
            contains(
                query.q,
                ResearchPlan.title,
                ResearchPlan.number,
                ResearchPlan.purpose,
                ResearchPlan.subjects,
            )
        )
    if query.status:
        stmt = stmt.where(ResearchPlan.status == query.status)
    if query.content:
        stmt = stmt.where(("," + ResearchPlan.contents + ",").like(f"%,{query.content},%"))
    if query.method:
        stmt = stmt.where(("," + ResearchPlan.methods + ",").like(f"%,{query.method},%"))
    return stmt


def list_plans(user, query, page_size: int) -> ListPage:
    return PLANS.page(_filtered(user, query), query, page_size, unique=True)


def export_plans(user, query) -> list[ResearchPlan]:
    return PLANS.export_rows(_filtered(user, query), query)


# --- the timeline ---------------------------------------------------------------------------


@dataclass
class TimelineRow:
    plan: ResearchPlan
    start_col: int  # 1-based day column within the window
    span: int
    cut_left: bool
    cut_right: bool
    marks: list  # (column, milestone)


@dataclass
class Timeline:
    start: date
    end: date
    months: list  # (label date, first column, number of days)
    rows: list
    today_col: int | None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def timeline(user, anchor: date, months: int, today: date) -> Timeline:
    """Plans overlapping `months` months from the first of `anchor`'s month, as grid rows."""
    start = date(anchor.year, anchor.month, 1)
    end = _add_months(start, months)
    plans = list(
        db.session.scalars(
            visible(select(ResearchPlan), user, ResearchPlan)
            .where(
                ResearchPlan.archived_at.is_(None),
                ResearchPlan.start_on < end,
                ResearchPlan.end_on >= start,
            )
            .order_by(ResearchPlan.start_on, ResearchPlan.id)
        ).unique()
    )
    month_cols = []
    for i in range(months):
        first = _add_months(start, i)
        days = (_add_months(start, i + 1) - first).days
        month_cols.append((first, (first - start).days + 1, days))
    last = (end - start).days
    rows = []
    for plan in plans:
        a = max(plan.start_on, start)
        b = min(plan.end_on, _add_months(start, months) - date.resolution)
        col = (a - start).days + 1
        marks = [
            ((m.due_on - start).days + 1, m) for m in plan.milestones if start <= m.due_on < end
        ]
        rows.append(
            TimelineRow(
                plan, col, (b - a).days + 1, plan.start_on < start, plan.end_on >= end, marks
            )
        )
    today_col = (today - start).days + 1 if start <= today < end else None
    return Timeline(
        start, end, month_cols, rows, today_col if today_col and today_col <= last else None
    )


# --- field notes --------------------------------------------------------------------------------


@dataclass
class NoteInput:
    method: str
    held_on: date
    title: str
    participants: str
    notes: str


def add_note(user, plan: ResearchPlan, data: NoteInput) -> FieldNote:
    if not can(user, "research.edit"):
        raise PlanError(_("You cannot add field notes."))
    if plan.status not in ("approved", "in_progress", "done"):
        raise PlanError(_("Field notes are recorded once the plan is approved."))
    if data.method not in FIELD_METHODS:
        raise PlanError(_("Choose how the information was gathered."), "method")
    note = FieldNote(
        plan_id=plan.id,
        owner_id=user.id,
        method=data.method,
        held_on=data.held_on,
        title=data.title.strip()[:200],
        participants=data.participants.strip(),
        notes=data.notes.strip(),
    )
    db.session.add(note)
    db.session.flush()
    return note


def update_note(user, note: FieldNote, data: NoteInput) -> FieldNote:
    if not may_edit_note(user, note):
        raise PlanError(_("Only its author can change this note."))
    if data.method not in FIELD_METHODS:
        raise PlanError(_("Choose how the information was gathered."), "method")
    note.method = data.method
    note.held_on = data.held_on
    note.title = data.title.strip()[:200]
    note.participants = data.participants.strip()
    note.notes = data.notes.strip()
    return note


def may_edit_note(user, note: FieldNote) -> bool:
    return (
        can(user, "research.edit")
        and not note.is_archived
        and (note.owner_id == user.id or "marketing_manager" in user.role_codes)
    )


def notes_of(plan: ResearchPlan) -> list[FieldNote]:
    return list(
        db.session.scalars(
            select(FieldNote)
            .where(FieldNote.plan_id == plan.id, FieldNote.archived_at.is_(None))
            .order_by(FieldNote.held_on.desc(), FieldNote.id.desc())
        ).unique()
    )


def staff_conditions() -> list:
    """The conditions on User of the colleagues offered for research work: active people
    of the market group and the manager (the "research_staff" picker source)."""

    return [
        User.active.is_(True),
        User.roles.any(Role.code.in_(["market_specialist", "marketing_manager"])),
    ]


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUSES, CONTENTS, METHODS)
    engine.register_flow(FLOW)
    describe(
        ResearchPlan,
        title=_l("Research plan"),
        fields={
            "title": _l("Title"),
            "purpose": _l("Purpose"),
            "subjects": _l("Subjects"),
            "contents": _l("Content"),
            "methods": _l("Methods"),
            "start_on": _l("Starts"),
            "end_on": _l("Ends"),
            "status": _l("Status"),
        },
        values={
            "status": PLAN_STATUSES,
            "contents": RESEARCH_CONTENTS,
            "methods": RESEARCH_METHODS,
        },
    )
