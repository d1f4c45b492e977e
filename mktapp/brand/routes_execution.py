"""Execution views (P3.3): the task checklist, participants and check-in, on-site feedback.

Each part is a panel of the activity page (activity_page.py) and also a page of its own
(/brand/activities/<id>/tasks, /participants, /feedback) that works without JavaScript.
A panel template holds its fragments as blocks: an htmx action answers with the panel's
block, a plain form post gets the whole page (or a redirect back to it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Response, abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import false, select

from mktapp.brand import activity_page, bp
from mktapp.brand import execution as svc
from mktapp.brand.forms_execution import AttachSurveyForm, ParticipantForm, StatusForm, TaskForm
from mktapp.core import clock, pickers
from mktapp.core.actions import record_action
from mktapp.core.commands import daily_command
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import hx_target, is_partial, redirect_to, render
from mktapp.core.permissions import can, get_visible_or_404, require, visible
from mktapp.extensions import db
from mktapp.models import (
    PARTICIPANT_KINDS,
    TASK_STATUSES,
    User,
)
from mktapp.models.brand import Activity, ActivityParticipant, ActivityTask
from mktapp.org.picker_sources import people_source


def _activity(activity_id: int, may: Callable[[Any, Activity], bool] | None = None) -> Activity:
    """The activity the user may see (404 otherwise); with `may`, 403 unless it lets the
    user manage this part of it."""
    activity = get_visible_or_404(Activity, activity_id, current_user)
    if may is not None and not may(current_user, activity):
        abort(403)
    return activity


@dataclass(frozen=True)
class Part:
    """A part of the execution (tasks, participants, feedback): a panel of the activity page
    (`title`, `order`) and a page of its own. By its name: the page brand/<name>.html, the
    panel brand/_<name>_panel.html and its block activity_<name>, the page's endpoint
    brand.activity_<name>. `key` names the part's view in the templates; `view(activity,
    user, **extra)` makes it for the panel, `own_view` (when other) for the part's routes."""

    name: str
    title: Any  # a lazy msgid
    order: int
    key: str
    view: Callable[..., Any]
    own_view: Callable[..., Any] | None = None

    @property
    def panel(self) -> str:
        return f"brand/_{self.name}_panel.html"

    def answer(
        self, activity: Activity, status: int = 200, block: str | None = None, **extra: Any
    ) -> Response:
        """The panel's block (or `block`) for htmx, the part's whole page otherwise."""
        view = (self.own_view or self.view)(activity, current_user, **extra)
        context = {"activity": activity, self.key: view}
        if is_partial():
            block = block or f"activity_{self.name}"
            return render(self.panel, block=block, status=status, **context)
        return render(f"brand/{self.name}.html", status=status, **context)

    def done(self, activity: Activity, **extra: Any) -> Response:
        """After an action: the panel redrawn for htmx, a redirect to the part's page otherwise."""
        if is_partial():
            return self.answer(activity, **extra)
        return redirect_to(url_for(f"brand.activity_{self.name}", activity_id=activity.id))

    def act(
        self,
        activity: Activity,
        do: Callable[[Any, Any], Any],
        *,
        record: Any = None,
        form: Any = None,
        form_as: str = "form",
        message: Any = None,
        **context: Any,
    ) -> Response:
        """An action on this part of `activity` (on `record`, a task, when given) through
        record_action: done, the part again (done()); refused, the part again (422) with
        the complaint on the action's form (passed as `form_as`) or, for an action without
        one, as its `error`. `context`: what else the part shows then (the row edited)."""
        activity_id = activity.id

        def refused(error: Any, sent: Any) -> Response:
            if form is None:
                refusal = {"error": error.message}
            else:
                refusal = {form_as: put_error(sent, error)}
            return self.answer(_activity(activity_id), 422, **context, **refusal)

        return record_action(
            activity if record is None else record,
            do,
            message=message,
            then=lambda _outcome: self.done(activity),
            on_error=refused,
            form=form,
        )

    def as_panel(self) -> activity_page.Panel:
        """The part's panel on the activity page (everyone who sees the activity)."""
        return activity_page.Panel(
            self.name,
            self.title,
            self.panel,
            lambda activity, user: {self.key: self.view(activity, user)},
            ("brand.view",),
            order=self.order,
        )


def _confirmed(do: Callable[[], Any]) -> None:
    """A one-click action (nothing to ask): 400 without a valid CSRF token, then the
    service call, committed."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    do()
    db.session.commit()


# --- tasks -----------------------------------------------------------------------------------


@dataclass
class TasksView:
    activity: Activity
    tasks: list[ActivityTask]
    summary: svc.TaskSummary
    today: date
    may_manage: bool
    user_id: int
    may_edit_own: bool
    form: TaskForm | None = None
    edit_id: int | None = None
    edit_form: TaskForm | None = None
    error: str = ""
    statuses: dict = field(default_factory=lambda: TASK_STATUSES)

    def may_change(self, task: ActivityTask) -> bool:
        return self.may_manage or (self.may_edit_own and task.owner_id == self.user_id)

    def overdue(self, task: ActivityTask) -> bool:
        return svc.is_overdue(task, self.today)


def tasks_view(activity: Activity, user, **extra: Any) -> TasksView:
    """What the checklist shows (one query; a second for the owners when one may add)."""
    tasks = svc.tasks_of(activity)
    today = clock.today()
    may_manage = svc.may_manage_tasks(user, activity)
    form = extra.pop("form", None)
    if form is None and may_manage:
        form = TaskForm(formdata=None, prefix="task", activity=activity)
    return TasksView(
        activity=activity,
        tasks=tasks,
        summary=svc.summarise(tasks, today),
        today=today,
        may_manage=may_manage,
        user_id=user.id,
        may_edit_own=svc.executable(activity) and can(user, "brand.edit"),
        form=form,
        **extra,
    )


TASKS = Part("tasks", _l("Tasks"), 20, "exe_tasks", tasks_view)


@bp.get("/activities/<int:activity_id>/tasks")
@require("brand.view")
def activity_tasks(activity_id: int):
    """The activity's task checklist: owners, due dates, progress, overdue tasks."""
    return TASKS.answer(_activity(activity_id))


@bp.post("/activities/<int:activity_id>/tasks")
@require("brand.edit")
def activity_task_add(activity_id: int):
    """Add a task to the checklist."""
    activity = _activity(activity_id, svc.may_manage_tasks)
    return TASKS.act(
        activity,
        lambda activity, form: svc.add_task(
            current_user, activity, form.title.data, form.owner_id.data, form.due_on.data
        ),
        form=TaskForm(prefix="task", activity=activity),
    )


@bp.post("/activities/<int:activity_id>/tasks/template")
@require("brand.edit")
def activity_tasks_template(activity_id: int):
    """Start (or complete) the checklist from the template of the activity's kind."""
    return TASKS.act(
        _activity(activity_id, svc.may_manage_tasks),
        lambda activity, form: svc.apply_template(current_user, activity),
        message=lambda made: _("%(n)s tasks added from the template.", n=len(made)),
    )


def _task(
    task_id: int, may: Callable[[Any, Activity], bool] | None = None
) -> tuple[ActivityTask, Activity]:
    """The task and its activity (see _activity)."""
    task = db.session.get(ActivityTask, task_id)
    if task is None:
        abort(404)
    return task, _activity(task.activity_id, may)


def _changeable_task(task_id: int) -> tuple[ActivityTask, Activity]:
    """The task and its activity, 403 unless the user may change the task."""
    task, activity = _task(task_id)
    if not svc.may_change_task(current_user, task, activity):
        abort(403)
    return task, activity


@bp.get("/activity-tasks/<int:task_id>/edit")
@require("brand.edit")
def activity_task_edit(task_id: int):
    """The task's row as a form (title, owner, due date)."""
    task, activity = _changeable_task(task_id)
    form = TaskForm(
        formdata=None,
        prefix="task_edit",
        activity=activity,
        data={"title": task.title, "owner_id": task.owner_id or 0, "due_on": task.due_on},
    )
    return TASKS.answer(activity, edit_id=task.id, edit_form=form)


@bp.post("/activity-tasks/<int:task_id>")
@require("brand.edit")
def activity_task_update(task_id: int):
    """Save a task's title, owner and due date."""
    task, activity = _changeable_task(task_id)
    return TASKS.act(
        activity,
        lambda task, form: svc.update_task(
            current_user, task, form.title.data, form.owner_id.data, form.due_on.data
        ),
        record=task,
        form=TaskForm(prefix="task_edit", activity=activity),
        form_as="edit_form",
        edit_id=task_id,
    )


@bp.post("/activity-tasks/<int:task_id>/status")
@require("brand.edit")
def activity_task_status(task_id: int):
    """Move a task to do / in progress / done, in place."""
    task, activity = _changeable_task(task_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return TASKS.answer(activity, 422, error=_("Choose a status from the list."))
    svc.set_status(current_user, task, form.status.data)
    db.session.commit()
    return TASKS.done(activity)


@bp.post("/activity-tasks/<int:task_id>/move")
@require("brand.edit")
def activity_task_move(task_id: int):
    """Move a task up or down the checklist."""
    task, activity = _task(task_id, svc.may_manage_tasks)
    direction = "up" if request.form.get("direction") == "up" else "down"
    _confirmed(lambda: svc.move_task(current_user, task, direction))
    return TASKS.done(activity)


@bp.post("/activity-tasks/<int:task_id>/remove")
@require("brand.edit")
def activity_task_remove(task_id: int):
    """Take a task that is not done off the checklist (after confirmation)."""
    task, activity = _task(task_id, svc.may_manage_tasks)
    return TASKS.act(activity, lambda task, form: svc.remove_task(current_user, task), record=task)


# --- participants ----------------------------------------------------------------------------


@dataclass
class ParticipantsView:
    activity: Activity
    counts: svc.ParticipantCounts
    rows: list[ActivityParticipant]
    may_manage: bool
    full: bool = False  # the participants page (search, paging) rather than the panel
    page: svc.ParticipantPage | None = None
    q: str = ""
    form: ParticipantForm | None = None
    customers: list = field(default_factory=list)
    invited: set = field(default_factory=set)
    cq: str = ""
    invite_error: str = ""
    error: str = ""
    kinds: dict = field(default_factory=lambda: PARTICIPANT_KINDS)


def participants_view(activity: Activity, user, full: bool = False, **extra) -> ParticipantsView:
    """Counts (one query) and the newest rows (one query; the page: a search and a count)."""
    counts = svc.participant_counts(activity)
    page = None
    if full:
        try:
            number = max(1, int(request.values.get("page") or 1))
        except ValueError:
            number = 1
        page = svc.participants_page(activity, extra.pop("q", ""), number)
        rows = page.items
    else:
        extra.pop("q", None)
        rows = svc.recent_participants(activity) if counts.total else []
    may_manage = svc.may_manage_participants(user, activity)
    form = extra.pop("form", None)
    if form is None and may_manage:
        form = ParticipantForm(formdata=None, prefix="participant")
    return ParticipantsView(
        activity=activity,
        counts=counts,
        rows=rows,
        may_manage=may_manage,
        full=full,
        page=page,
        q=page.q if page else "",
        form=form,
        **extra,
    )


def _requested_participants(activity: Activity, user, **extra) -> ParticipantsView:
    # The participants page sends full=1 with its htmx requests: it answers with its own
    # search and paging, the activity page's panel with the newest rows.
    full = not is_partial() or request.values.get("full") == "1"
    return participants_view(activity, user, full=full, **extra)


PEOPLE = Part(
    "participants", _l("Participants"), 30, "exe_people", participants_view, _requested_participants
)


@bp.get("/activities/<int:activity_id>/participants")
@require("brand.view")
def activity_participants(activity_id: int):
    """Participants: invited customers, registrations and walk-ins; check-in; counts."""
    activity = _activity(activity_id)
    block = "participant_rows" if hx_target() == "participant_rows" else "activity_participants"
    return PEOPLE.answer(activity, block=block, q=request.args.get("q", ""))


@bp.post("/activities/<int:activity_id>/participants")
@require("brand.edit")
def activity_participant_add(activity_id: int):
    """Register a participant, or add a walk-in (checked in at once)."""
    activity = _activity(activity_id, svc.may_manage_participants)
    return PEOPLE.act(
        activity,
        lambda activity, form: svc.add_participant(
            current_user,
            activity,
            form.kind.data,
            form.name.data,
            form.company.data or "",
            form.phone.data or "",
        ),
        form=ParticipantForm(prefix="participant"),
    )


@bp.get("/activities/<int:activity_id>/participants/customers")
@require("brand.edit")
def activity_customer_search(activity_id: int):
    """Customers the user may see matching the search, to invite (never the whole list)."""
    activity = _activity(activity_id, svc.may_manage_participants)
    cq = request.args.get("cq", "")
    customers, invited = svc.search_customers(current_user, activity, cq)
    return PEOPLE.answer(
        activity, block="customer_results", customers=customers, invited=invited, cq=cq
    )


@bp.post("/activities/<int:activity_id>/participants/invite")
@require("brand.edit")
def activity_participants_invite(activity_id: int):
    """Put the customers ticked on the list as invited."""
    activity = _activity(activity_id, svc.may_manage_participants)
    ids = [int(v) for v in request.form.getlist("customer") if v.isdigit()]
    cq = request.form.get("cq", "")

    def refused(error, form):
        customers, invited = svc.search_customers(current_user, activity, cq)
        return PEOPLE.answer(
            activity,
            422,
            customers=customers,
            invited=invited,
            cq=cq,
            invite_error=error.message,
        )

    return record_action(
        activity,
        lambda activity, form: svc.invite_customers(current_user, activity, ids),
        message=lambda made: _("%(n)s customers invited.", n=len(made)),
        then=lambda _outcome: PEOPLE.done(activity),
        on_error=refused,
    )


def _check_in(participant_id: int, do: Callable[[Any, ActivityParticipant], Any]) -> Response:
    """Check a participant in or undo it; the panel again keeps the counts and rows of
    the search and page the request names."""
    participant = db.session.get(ActivityParticipant, participant_id)
    if participant is None:
        abort(404)
    activity = _activity(participant.activity_id, svc.may_manage_participants)
    _confirmed(lambda: do(current_user, participant))
    return PEOPLE.done(activity, q=request.values.get("q", ""))


@bp.post("/activity-participants/<int:participant_id>/check-in")
@require("brand.edit")
def activity_participant_check_in(participant_id: int):
    """Check a participant in (the time is shown in the row)."""
    return _check_in(participant_id, svc.check_in)


@bp.post("/activity-participants/<int:participant_id>/undo-check-in")
@require("brand.edit")
def activity_participant_undo(participant_id: int):
    """Undo a check-in made by mistake."""
    return _check_in(participant_id, svc.undo_check_in)


# --- on-site feedback --------------------------------------------------------------------------


@dataclass
class FeedbackView:
    activity: Activity
    survey: Any
    url: str
    problem: str | None
    may_manage: bool
    may_analyse: bool
    form: AttachSurveyForm | None = None
    error: str = ""

    @property
    def over(self) -> bool:
        """The event is over and its questionnaire closed: nothing to fix, only to read."""
        return bool(self.problem and self.survey is not None and svc.event_over(self.activity))

    @property
    def qr(self) -> str:
        return svc.qr_svg(self.url) if self.url and not self.problem else ""


def _public_url(survey) -> str:
    if survey is None or not survey.token:
        return ""
    return url_for("research.answer", token=survey.token, _external=True)


def feedback_view(activity: Activity, user, **extra) -> FeedbackView:
    """The questionnaire and its link (one query; a second for the choices when one may
    attach another)."""
    survey = svc.attached_survey(activity)
    may_manage = svc.may_manage_feedback(user, activity)
    form = extra.pop("form", None)
    if form is None and may_manage and survey is None:
        form = AttachSurveyForm(formdata=None, prefix="feedback", choices=svc.survey_choices(user))
    return FeedbackView(
        activity=activity,
        survey=survey,
        url=_public_url(survey),
        problem=svc.sign_problem(survey),
        may_manage=may_manage,
        may_analyse=can(user, "research.view"),
        form=form,
        **extra,
    )


FEEDBACK = Part("feedback", _l("On-site feedback"), 40, "exe_feedback", feedback_view)


@bp.get("/activities/<int:activity_id>/feedback")
@require("brand.view")
def activity_feedback(activity_id: int):
    """On-site feedback: the questionnaire, its link and QR code, the answers so far."""
    return FEEDBACK.answer(_activity(activity_id))


@bp.get("/activities/<int:activity_id>/feedback/count")
@require("brand.view")
def activity_feedback_count(activity_id: int):
    """The live answer count (polled by the panel)."""
    return FEEDBACK.answer(_activity(activity_id), block="feedback_count")


@bp.post("/activities/<int:activity_id>/feedback/attach")
@require("brand.edit")
def activity_feedback_attach(activity_id: int):
    """Attach an open questionnaire of the research chapter."""
    activity = _activity(activity_id, svc.may_manage_feedback)
    return FEEDBACK.act(
        activity,
        lambda activity, form: svc.attach_survey(current_user, activity, form.survey_id.data),
        form=AttachSurveyForm(prefix="feedback", choices=svc.survey_choices(current_user)),
    )


@bp.post("/activities/<int:activity_id>/feedback/standard")
@require("brand.edit")
def activity_feedback_standard(activity_id: int):
    """Make, publish and attach the standard on-site feedback questionnaire."""
    return FEEDBACK.act(
        _activity(activity_id, svc.may_manage_feedback),
        lambda activity, form: svc.create_standard_survey(current_user, activity),
        message=_("The on-site feedback questionnaire is published."),
    )


@bp.post("/activities/<int:activity_id>/feedback/detach")
@require("brand.edit")
def activity_feedback_detach(activity_id: int):
    """Unlink the questionnaire (it keeps its answers in Research)."""
    activity = _activity(activity_id, svc.may_manage_feedback)
    _confirmed(lambda: svc.detach_survey(current_user, activity))
    return FEEDBACK.done(activity)


def _sign_refused(activity: Activity, view: FeedbackView) -> Response:
    return render(
        "brand/feedback.html", status=422, activity=activity, exe_feedback=view, refused=True
    )


@bp.get("/activities/<int:activity_id>/feedback/sign")
@require("brand.view")
def activity_feedback_sign(activity_id: int):
    """A printable sign: the theme, a big QR code, 扫码填写现场反馈 and the link."""
    activity = _activity(activity_id)
    view = feedback_view(activity, current_user)
    if view.problem:
        return _sign_refused(activity, view)
    return render("brand/feedback_sign.html", activity=activity, exe_feedback=view)


@bp.get("/activities/<int:activity_id>/feedback/qr.svg")
@require("brand.view")
def activity_feedback_qr(activity_id: int):
    """The QR code of the questionnaire's link, as an SVG file to download."""
    activity = _activity(activity_id)
    view = feedback_view(activity, current_user)
    if view.problem:
        return _sign_refused(activity, view)
    response = Response(svc.qr_svg(view.url, inline=False), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="feedback-qr-{activity.number}.svg"'
    )
    return response


# --- the panels on the activity page -------------------------------------------------------------


# --- the overdue scan (cron) ---------------------------------------------------------------------


def _activity_url(activity: Activity) -> str:
    """The activity page (its tasks page before the page exists), as a path.

    A request context only while the URL is built: notify() would otherwise put the
    test context's http://localhost/ in front of the e-mailed link.
    """

    endpoint = (
        "brand.activity"
        if "brand.activity" in current_app.view_functions
        else "brand.activity_tasks"
    )
    with current_app.test_request_context():
        return url_for(endpoint, activity_id=activity.id)


@daily_command("activity-tasks-scan")
def activity_tasks_scan(today: date) -> str:
    """Tell each overdue activity task's owner (once)."""
    return f"{svc.scan_overdue(today, _activity_url)} overdue activity tasks notified"


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(activity_tasks_scan)
    # Who can own a task of an activity (core/pickers; the scope is the activity's id).
    pickers.register(
        state.app,
        people_source("task_owners", _task_owners, ("brand.view",), scoped=True),
    )


def _task_owners(user, scope):
    activity_id = pickers.as_id(scope)
    if activity_id is None:
        return select(User).where(false())
    seen = visible(select(Activity.id).where(Activity.id == activity_id), user, Activity)
    return select(User).where(*svc.task_owners(activity_id), seen.exists())


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    for part in (TASKS, PEOPLE, FEEDBACK):
        activity_page.register_panel(part.as_panel())
