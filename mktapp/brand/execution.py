"""Execution of an approved market activity (P3.3): the task checklist, participants and
check-in, and the on-site feedback questionnaire reached through a QR code.

- Tasks: title, owner, due date, status (todo / doing / done), in `seq` order. A checklist
  can start from the template of the activity's kind (due dates relative to its dates,
  owners taken from its staff, else its owner). Only the activity's owner, the marketing
  manager or the task's owner change a task, and only while the activity is approved,
  running or ended. `scan_overdue()` (flask activity-tasks-scan) tells each overdue
  task's owner once.
- Participants: invited customers (found among the customers the user may see),
  registrations and walk-ins (checked in on the spot); check-in per row; counts by kind.
- Feedback: an open questionnaire of the research chapter attached to the activity
  (chosen, or the standard on-site questionnaire made and published through
  research.surveys), its public link and a QR code (SVG, core.qr).

Services take plain arguments, raise ExecutionError (a message and the field it concerns)
and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mktapp.core import vocab
from mktapp.core.audit import describe_note
from mktapp.core.audit_display import describe
from mktapp.core.commands import mark_once
from mktapp.core.errors import DomainError
from mktapp.core.notify import notify
from mktapp.core.paging import Paging
from mktapp.core.permissions import can, visible
from mktapp.core.qr import qr_svg  # noqa: F401 (the sign and its routes use svc.qr_svg)
from mktapp.extensions import db
from mktapp.models import Contact, Customer, Role, Survey, User, utcnow
from mktapp.models.brand import (
    PARTICIPANT_KINDS,
    TASK_STATUSES,
    Activity,
    ActivityParticipant,
    ActivityStaff,
    ActivityTask,
)
from mktapp.research import surveys as research

# The statuses in which an activity is executed (its checklist, participants, feedback).
EXECUTABLE = ("approved", "running", "ended")
# Overdue tasks are chased while the activity has not ended.
CHASED = ("approved", "running")

MAX_TASKS = 200
PARTICIPANT_PAGE = 25
PANEL_ROWS = 10


class ExecutionError(DomainError):
    """A refusal with a message for the user; `field` names the input it concerns."""


task_status_label = TASK_STATUSES.label
participant_kind_label = PARTICIPANT_KINDS.label


def executable(activity: Activity) -> bool:
    return activity.status in EXECUTABLE and not activity.is_archived


# --- who may do what -------------------------------------------------------------------------


def leads_activity(user, activity: Activity) -> bool:
    """The activity's owner or the marketing manager."""
    return activity.owner_id == user.id or "marketing_manager" in user.role_codes


def may_manage_tasks(user, activity: Activity) -> bool:
    """Add, edit, reorder and remove any task of the checklist."""
    return executable(activity) and can(user, "brand.edit") and leads_activity(user, activity)


def may_change_task(user, task: ActivityTask, activity: Activity | None = None) -> bool:
    """Change one task: those who manage the checklist, and the task's owner."""
    activity = activity or task.activity
    if not executable(activity) or not can(user, "brand.view"):
        return False
    return may_manage_tasks(user, activity) or (
        task.owner_id == user.id and can(user, "brand.edit")
    )


def may_manage_participants(user, activity: Activity) -> bool:
    return executable(activity) and can(user, "brand.edit")


def may_manage_feedback(user, activity: Activity) -> bool:
    """Attaching or making a questionnaire goes through the research chapter's services."""
    return executable(activity) and can(user, "brand.edit", "research.edit")


# --- tasks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateTask:
    title: Any  # a lazy msgid, stored in the language of who starts from the template
    days: int  # relative to the anchor date
    anchor: str = "start"  # "start" (start_on) or "end" (end_on)


_T = TemplateTask

TASK_TEMPLATES: dict[str, tuple[TemplateTask, ...]] = {
    "launch": (
        _T(_l("Confirm the venue and the date"), -30),
        _T(_l("Send the invitations"), -21),
        _T(_l("Press kit and media invitations"), -14),
        _T(_l("Prepare the product demonstration"), -7),
        _T(_l("Set up the stage, sound and signage"), -1),
        _T(_l("Rehearse the running order"), -1),
        _T(_l("Reception and sign-in desk"), 0),
        _T(_l("Follow up the leads"), 3, "end"),
    ),
    "promotion": (
        _T(_l("Agree the promotion rules and prices"), -21),
        _T(_l("Posters and online publicity"), -14),
        _T(_l("Prepare the stock and gifts"), -7),
        _T(_l("Brief the sales staff"), -3),
        _T(_l("Daily sales tally"), 0),
        _T(_l("Promotion results summary"), 3, "end"),
    ),
    "theme": (
        _T(_l("Book the venue"), -21),
        _T(_l("Programme and speakers"), -14),
        _T(_l("Send the invitations"), -14),
        _T(_l("Materials and decoration"), -5),
        _T(_l("Rehearse the running order"), -1),
        _T(_l("Reception rota"), 0),
        _T(_l("Photos and news release"), 2, "end"),
    ),
    "charity": (
        _T(_l("Confirm the partner organisation"), -30),
        _T(_l("Collect the donations and materials"), -14),
        _T(_l("Volunteer rota"), -7),
        _T(_l("Safety plan"), -3),
        _T(_l("Notify the media"), -3),
        _T(_l("Photos and news release"), 2, "end"),
    ),
    "expo": (
        _T(_l("Book the booth"), -60),
        _T(_l("Booth design and build"), -30),
        _T(_l("Print the publicity materials"), -21),
        _T(_l("Invite customers"), -14),
        _T(_l("Reception rota"), -7),
        _T(_l("Ship the samples"), -5),
        _T(_l("Rehearse the on-site running order"), -2),
        _T(_l("Sort the leads after the show"), 5, "end"),
    ),
    "other": (
        _T(_l("Venue and schedule"), -14),
        _T(_l("Publicity"), -7),
        _T(_l("Materials"), -3),
        _T(_l("Reception"), 0),
        _T(_l("Wrap-up"), 2, "end"),
    ),
}


@dataclass
class TaskSummary:
    total: int
    done: int
    overdue: int

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0


def is_overdue(task: ActivityTask, today: date) -> bool:
    return task.status != "done" and task.due_on is not None and task.due_on < today


def tasks_of(activity: Activity) -> list[ActivityTask]:
    """The checklist in order, with each task's owner (one query)."""
    return list(
        db.session.scalars(
            select(ActivityTask)
            .where(ActivityTask.activity_id == activity.id)
            .options(joinedload(ActivityTask.owner).lazyload("*"))
            .order_by(ActivityTask.seq, ActivityTask.id)
        ).unique()
    )


def summarise(tasks: list[ActivityTask], today: date) -> TaskSummary:
    return TaskSummary(
        total=len(tasks),
        done=sum(1 for t in tasks if t.status == "done"),
        overdue=sum(1 for t in tasks if is_overdue(t, today)),
    )


def task_owners(activity_id: int) -> list:
    """The conditions on User of who can own a task of this activity: its owner and staff,
    the market group and the marketing managers, active (the "task_owners" picker
    source, scoped by the activity)."""
    staff = select(ActivityStaff.user_id).where(ActivityStaff.activity_id == activity_id)
    owner = select(Activity.owner_id).where(Activity.id == activity_id)
    market = (
        select(User.id)
        .join(User.roles)
        .where(Role.code.in_(("market_specialist", "marketing_manager")))
    )
    return [
        User.active.is_(True),
        or_(User.id.in_(owner), User.id.in_(staff), User.id.in_(market)),
    ]


def owner_choices(activity: Activity) -> list[tuple[int, str]]:
    """Who can own a task of this activity (one query)."""
    rows = db.session.execute(
        select(User.id, User.display_name)
        .where(*task_owners(activity.id))
        .order_by(User.display_name, User.id)
    ).all()
    return [(row.id, row.display_name) for row in rows]


def _check_owner(activity: Activity, owner_id: int | None) -> int | None:
    if not owner_id:
        return None
    if owner_id not in {uid for uid, _name in owner_choices(activity)}:
        raise ExecutionError(_("Choose the task's owner from the list."), "owner_id")
    return owner_id


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ExecutionError(_("Write what has to be done."), "title")
    return title[:200]


def add_task(user, activity: Activity, title: str, owner_id: int | None, due_on: date | None):
    if not may_manage_tasks(user, activity):
        raise ExecutionError(_("You cannot change this activity's tasks."))
    title = _check_title(title)
    owner_id = _check_owner(activity, owner_id)
    last = db.session.scalar(
        select(func.max(ActivityTask.seq)).where(ActivityTask.activity_id == activity.id)
    )
    count = db.session.scalar(
        select(func.count(ActivityTask.id)).where(ActivityTask.activity_id == activity.id)
    )
    if (count or 0) >= MAX_TASKS:
        raise ExecutionError(_("A checklist holds at most %(n)s tasks.", n=MAX_TASKS))
    task = ActivityTask(
        activity_id=activity.id,
        seq=(last or 0) + 1,
        title=title,
        owner_id=owner_id,
        due_on=due_on,
        status="todo",
    )
    db.session.add(task)
    db.session.flush()
    return task


def update_task(user, task: ActivityTask, title: str, owner_id: int | None, due_on: date | None):
    activity = task.activity
    if not may_change_task(user, task, activity):
        raise ExecutionError(_("You cannot change this task."))
    task.title = _check_title(title)
    new_owner = _check_owner(activity, owner_id)
    if new_owner != task.owner_id or due_on != task.due_on:
        task.overdue_notified_at = None  # a new owner or date: chase again when it passes
    task.owner_id = new_owner
    task.due_on = due_on
    return task


def set_status(user, task: ActivityTask, status: str, now: datetime | None = None) -> None:
    if not may_change_task(user, task):
        raise ExecutionError(_("You cannot change this task."))
    if status not in TASK_STATUSES:
        raise ExecutionError(_("Choose a status from the list."), "status")
    if status == "done" and task.status != "done":
        task.done_at = now or utcnow()
    elif status != "done":
        task.done_at = None
    task.status = status


def move_task(user, task: ActivityTask, direction: str) -> None:
    activity = task.activity
    if not may_manage_tasks(user, activity):
        raise ExecutionError(_("You cannot change this activity's tasks."))
    ordered = tasks_of(activity)
    index = next(i for i, t in enumerate(ordered) if t.id == task.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for seq, t in enumerate(ordered, start=1):
        t.seq = seq


def remove_task(user, task: ActivityTask) -> None:
    """Take a task off the checklist; a task done stays (it is part of the record)."""
    if not may_manage_tasks(user, task.activity):
        raise ExecutionError(_("You cannot change this activity's tasks."))
    if task.status == "done":
        raise ExecutionError(_("A task that is done stays on the checklist."))
    db.session.delete(task)
    db.session.flush()


def template_for(kind: str) -> tuple[TemplateTask, ...]:
    return TASK_TEMPLATES.get(kind) or TASK_TEMPLATES["other"]


def apply_template(user, activity: Activity) -> list[ActivityTask]:
    """Add the template's tasks for the activity's kind that are not on the checklist yet.

    Due dates are relative to the activity's start (or end); owners go round its staff,
    or are its owner when it has no staff.
    """
    if not may_manage_tasks(user, activity):
        raise ExecutionError(_("You cannot change this activity's tasks."))
    existing = tasks_of(activity)
    titles = {t.title for t in existing}
    staff_ids = [s.user_id for s in activity.staff if s.user is not None and s.user.active] or [
        activity.owner_id
    ]
    seq = max((t.seq for t in existing), default=0)
    made = []
    for item in template_for(activity.kind):
        title = str(item.title)
        if title in titles:
            continue
        anchor = activity.end_on if item.anchor == "end" else activity.start_on
        seq += 1
        task = ActivityTask(
            activity_id=activity.id,
            seq=seq,
            title=title[:200],
            owner_id=staff_ids[len(made) % len(staff_ids)],
            due_on=anchor + timedelta(days=item.days) if anchor else None,
            status="todo",
        )
        db.session.add(task)
        made.append(task)
    if not made:
        raise ExecutionError(_("Every task of the template is already on the checklist."))
    db.session.flush()
    return made


def overdue_tasks(today: date):
    return (
        select(ActivityTask)
        .join(ActivityTask.activity)
        .where(
            Activity.status.in_(CHASED),
            Activity.archived_at.is_(None),
            ActivityTask.status != "done",
            ActivityTask.due_on < today,
            ActivityTask.owner_id.is_not(None),
        )
        .order_by(ActivityTask.due_on, ActivityTask.id)
    )


def scan_overdue(today: date, url_for_activity=None) -> int:
    """Tell each overdue task's owner, once; returns how many tasks were newly notified.

    `url_for_activity(activity) -> str` gives the link put in the notification.
    """
    rows = list(
        db.session.scalars(
            overdue_tasks(today).where(ActivityTask.overdue_notified_at.is_(None))
        ).unique()
    )
    # Only the tasks this run marks (another run at the same instant takes the others).
    taken = mark_once(rows, "overdue_notified_at", utcnow())
    for task in taken:
        owner = task.owner
        if owner is not None and owner.active:
            with force_locale(owner.locale or "zh_Hans"):
                notify(
                    owner,
                    _(
                        "Overdue task of activity %(number)s: %(title)s (due %(day)s)",
                        number=task.activity.number,
                        title=task.title,
                        day=task.due_on.isoformat(),
                    ),
                    body=task.activity.theme,
                    url=url_for_activity(task.activity) if url_for_activity else "",
                    once=f"task_overdue:{task.id}:{task.due_on}:{today}",
                )
    return len(taken)


# --- participants ----------------------------------------------------------------------------


@dataclass
class ParticipantCounts:
    planned: dict[str, int] = field(default_factory=dict)  # by kind
    checked_in: dict[str, int] = field(default_factory=dict)  # by kind
    target: int = 0

    @property
    def total(self) -> int:
        return sum(self.planned.values())

    @property
    def total_checked_in(self) -> int:
        return sum(self.checked_in.values())

    @property
    def percent_of_target(self) -> int:
        return round(self.total_checked_in * 100 / self.target) if self.target else 0


def participant_counts(activity: Activity) -> ParticipantCounts:
    """How many people by kind, and how many of them checked in (one query)."""
    rows = db.session.execute(
        select(
            ActivityParticipant.kind,
            func.count(ActivityParticipant.id),
            func.sum(case((ActivityParticipant.checked_in_at.is_not(None), 1), else_=0)),
        )
        .where(ActivityParticipant.activity_id == activity.id)
        .group_by(ActivityParticipant.kind)
    ).all()
    counts = ParticipantCounts(
        planned={k: 0 for k in PARTICIPANT_KINDS},
        checked_in={k: 0 for k in PARTICIPANT_KINDS},
        target=activity.target_participants or 0,
    )
    for kind, n, checked in rows:
        counts.planned[kind] = int(n or 0)
        counts.checked_in[kind] = int(checked or 0)
    return counts


@dataclass
class ParticipantPage(Paging):
    items: list[ActivityParticipant]
    total: int
    page: int
    page_size: int
    q: str = ""


def _like(q: str) -> str:
    return "%" + q.replace("%", "").replace("_", "") + "%"


def participants_page(
    activity: Activity, q: str = "", page: int = 1, page_size: int = PARTICIPANT_PAGE
) -> ParticipantPage:
    """Participants matching the search (name, company, phone), newest first (two queries)."""
    q = (q or "").strip()[:100]
    stmt = select(ActivityParticipant).where(ActivityParticipant.activity_id == activity.id)
    if q:
        like = _like(q)
        stmt = stmt.where(
            or_(
                ActivityParticipant.name.ilike(like),
                ActivityParticipant.company.ilike(like),
                ActivityParticipant.phone.ilike(like),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    items = list(
        db.session.scalars(
            stmt.order_by(ActivityParticipant.created_at.desc(), ActivityParticipant.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    return ParticipantPage(items=items, total=total, page=page, page_size=page_size, q=q)


def recent_participants(activity: Activity, limit: int = PANEL_ROWS) -> list[ActivityParticipant]:
    """The newest participants, for the activity page's panel (one query)."""
    return list(
        db.session.scalars(
            select(ActivityParticipant)
            .where(ActivityParticipant.activity_id == activity.id)
            .order_by(ActivityParticipant.created_at.desc(), ActivityParticipant.id.desc())
            .limit(limit)
        )
    )


def _phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def add_participant(
    user,
    activity: Activity,
    kind: str,
    name: str,
    company: str = "",
    phone: str = "",
    now: datetime | None = None,
) -> ActivityParticipant:
    """A registration, or a walk-in (checked in at once: they are at the door)."""
    if not may_manage_participants(user, activity):
        raise ExecutionError(_("You cannot change this activity's participants."))
    if kind not in ("registered", "walk_in"):
        raise ExecutionError(_("Choose registration or walk-in."), "kind")
    name = (name or "").strip()
    if not name:
        raise ExecutionError(_("Write the participant's name."), "name")
    phone = (phone or "").strip()[:40]
    digits = _phone_digits(phone)
    if phone and not 5 <= len(digits) <= 20:
        raise ExecutionError(_("Enter a phone number of 5 to 20 digits."), "phone")
    if digits:
        for other in db.session.scalars(
            select(ActivityParticipant).where(
                ActivityParticipant.activity_id == activity.id, ActivityParticipant.phone != ""
            )
        ):
            if _phone_digits(other.phone) == digits:
                raise ExecutionError(
                    _("%(name)s is already on the list with this phone number.", name=other.name),
                    "phone",
                )
    participant = ActivityParticipant(
        activity_id=activity.id,
        kind=kind,
        name=name[:120],
        company=(company or "").strip()[:200],
        phone=phone,
        checked_in_at=(now or utcnow()) if kind == "walk_in" else None,
        created_at=now or utcnow(),
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def search_customers(user, activity: Activity, q: str, limit: int = 20):
    """Customers this user may see whose name, city or contact matches (one query), and the
    ids of those already invited to the activity (a second)."""
    q = (q or "").strip()[:100]
    if not q:
        return [], set()
    like = _like(q)

    stmt = (
        visible(select(Customer), user, Customer)
        .where(Customer.archived_at.is_(None))
        .where(
            or_(
                Customer.name.ilike(like),
                Customer.city.ilike(like),
                Customer.id.in_(select(Contact.customer_id).where(Contact.name.ilike(like))),
            )
        )
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    customers = list(db.session.scalars(stmt).unique())
    invited = set(
        db.session.scalars(
            select(ActivityParticipant.customer_id).where(
                ActivityParticipant.activity_id == activity.id,
                ActivityParticipant.customer_id.in_([c.id for c in customers] or [0]),
            )
        )
    )
    return customers, invited


def invite_customers(user, activity: Activity, customer_ids: list[int], now=None):
    """Put chosen customers (only ones the user may see) on the list as invited; the
    customer's primary contact (else the first) is the person invited."""
    if not may_manage_participants(user, activity):
        raise ExecutionError(_("You cannot change this activity's participants."))
    wanted = {int(i) for i in customer_ids if i}
    if not wanted:
        raise ExecutionError(_("Choose at least one customer."), "customers")
    customers = list(
        db.session.scalars(
            visible(select(Customer), user, Customer)
            .where(Customer.id.in_(wanted), Customer.archived_at.is_(None))
            .options(selectinload(Customer.contacts))
        ).unique()
    )
    if not customers:
        raise ExecutionError(_("Choose at least one customer."), "customers")
    already = set(
        db.session.scalars(
            select(ActivityParticipant.customer_id).where(
                ActivityParticipant.activity_id == activity.id,
                ActivityParticipant.customer_id.is_not(None),
            )
        )
    )
    made = []
    for customer in customers:
        if customer.id in already:
            continue
        contacts = sorted(customer.contacts, key=lambda c: (not c.is_primary, c.id))
        contact = contacts[0] if contacts else None
        participant = ActivityParticipant(
            activity_id=activity.id,
            kind="invited",
            customer_id=customer.id,
            name=(contact.name if contact else customer.name)[:120],
            company=customer.name[:200],
            phone=(contact.phone if contact else "")[:40],
            created_at=now or utcnow(),
        )
        db.session.add(participant)
        made.append(participant)
    db.session.flush()
    return made


def check_in(user, participant: ActivityParticipant, now: datetime | None = None) -> None:
    if not may_manage_participants(user, participant.activity):
        raise ExecutionError(_("You cannot change this activity's participants."))
    if participant.checked_in_at is None:
        participant.checked_in_at = now or utcnow()


def undo_check_in(user, participant: ActivityParticipant) -> None:
    if not may_manage_participants(user, participant.activity):
        raise ExecutionError(_("You cannot change this activity's participants."))
    participant.checked_in_at = None


# --- on-site feedback ----------------------------------------------------------------------


def attached_survey(activity: Activity) -> Survey | None:
    """The activity's questionnaire (one query; the activity is already visible)."""
    if activity.survey_id is None:
        return None
    return db.session.get(Survey, activity.survey_id)


def survey_choices(user) -> list[tuple[int, str]]:
    """Open questionnaires the user may see, newest first (one query)."""
    rows = db.session.execute(
        visible(select(Survey.id, Survey.title, Survey.period), user, Survey)
        .where(Survey.status == "open", Survey.archived_at.is_(None))
        .order_by(Survey.published_at.desc(), Survey.id.desc())
        .limit(200)
    ).all()
    return [(r.id, f"{r.title} · {r.period}" if r.period else r.title) for r in rows]


def attach_survey(user, activity: Activity, survey_id: int) -> Survey:

    if not may_manage_feedback(user, activity):
        raise ExecutionError(_("You cannot change this activity's feedback questionnaire."))
    survey = db.session.scalar(visible(select(Survey).where(Survey.id == survey_id), user, Survey))
    if survey is None:
        raise ExecutionError(_("Choose a questionnaire from the list."), "survey_id")
    if not research.accepting(survey):
        raise ExecutionError(
            _("This questionnaire does not take answers: choose an open one."), "survey_id"
        )
    activity.survey_id = survey.id
    return survey


def detach_survey(user, activity: Activity) -> None:
    """Unlink the questionnaire (it stays in the research chapter with its answers)."""
    if not may_manage_feedback(user, activity):
        raise ExecutionError(_("You cannot change this activity's feedback questionnaire."))
    activity.survey_id = None


INTEREST_OPTIONS = (
    _l("The products"),
    _l("The live demonstration"),
    _l("The talks"),
    _l("The offers and prices"),
    _l("Meeting the team"),
    _l("Something else"),
)


def create_standard_survey(user, activity: Activity) -> Survey:
    """Make, publish and attach the standard on-site feedback questionnaire, in the
    language of the user who makes it, through the research chapter's services."""

    if not may_manage_feedback(user, activity):
        raise ExecutionError(_("You cannot change this activity's feedback questionnaire."))
    if activity.survey_id is not None:
        raise ExecutionError(_("This activity already has a feedback questionnaire."))
    try:
        survey = research.create_survey(
            user,
            _("On-site feedback: %(theme)s", theme=activity.theme),
            _("Thank you for coming to %(theme)s. This takes one minute.", theme=activity.theme),
            "general",
            None,
            activity.number,
        )
        research.add_question(
            user, survey, "rating", _("Overall, how would you rate the event?"), required=True
        )
        research.add_question(
            user,
            survey,
            "nps",
            _("How likely are you to recommend us to a friend or colleague?"),
            required=True,
        )
        research.add_question(
            user,
            survey,
            "multi",
            _("What interested you most?"),
            options="\n".join(str(o) for o in INTEREST_OPTIONS),
        )
        research.add_question(
            user,
            survey,
            "single",
            _("Would you like one of our sales staff to contact you?"),
            required=True,
            options="\n".join((_("Yes, please contact me"), _("Not now"))),
        )
        research.add_question(
            user,
            survey,
            "short_text",
            _("Your name and phone (if you would like to be contacted)"),
        )
        research.add_question(user, survey, "long_text", _("Any other comments or suggestions?"))
        research.publish(user, survey, closes_at=None, cap=None)
    except research.SurveyError as error:
        raise ExecutionError(error.message) from error
    activity.survey_id = survey.id
    return survey


def event_over(activity: Activity) -> bool:
    """Ended, evaluated or cancelled: a closed feedback questionnaire is then as it should be."""
    return activity.status in ("ended", "evaluated", "cancelled")


def sign_problem(survey: Survey | None) -> str | None:
    """Why no QR code can be shown (None when it can): no questionnaire, not open, or
    open to invited customers only (research's answer_limit)."""

    if survey is None:
        return _("No feedback questionnaire is attached to this activity yet.")
    if not research.accepting(survey):
        return _(
            "The questionnaire “%(title)s” does not take answers now, so its QR code would "
            "lead nowhere. %(reason)s Reopen it in Research or attach another.",
            title=survey.title,
            reason=research.closed_reason(survey),
        )
    if survey.answer_limit == "invitation":
        return _(
            "The questionnaire “%(title)s” takes answers only through invitation links, so "
            "a QR code at the venue would be refused. Let it take answers from its public "
            "link in Research, or attach another.",
            title=survey.title,
        )
    return None


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, TASK_STATUSES, PARTICIPANT_KINDS)
    describe(
        ActivityTask,
        title=_l("Activity task"),
        fields={
            "title": _l("Task"),
            "status": _l("Status"),
            "due_on": _l("Due"),
            "owner_id": _l("Owner"),
            "done_at": _l("Completed at"),
            "overdue_notified_at": _l("Overdue reminder sent"),
        },
        values={"status": task_status_label},
    )
    describe_note("activity-tasks-scan", _l("Daily check: overdue activity tasks"))
    describe(
        ActivityParticipant,
        title=_l("Activity participant"),
        fields={
            "name": _l("Full name"),
            "checked_in_at": _l("Checked in"),
            "kind": _l("Participant type"),
            "company": _l("Company"),
        },
        values={"kind": participant_kind_label},
    )
