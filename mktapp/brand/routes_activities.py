"""Market activity views (P3.2): the list and its export, the month calendar, the plan form,
the activity's page (plan, KPI tiles, budget check, approval, change requests, the panels
and actions other parts register in activity_page.py), its lifecycle actions, change
requests, and the `flask brand-scan` command.

Approving and rejecting go through the approval engine's own endpoints, shown on the
activity's and the change request's pages by the approval panel.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mktapp.brand import activities as svc
from mktapp.brand import activity_page, bp
from mktapp.brand import changes as change_svc
from mktapp.brand.forms_activities import ActivityForm, CancelForm, ChangeForm, SubmitForm
from mktapp.core import clock, nav, pickers
from mktapp.core.actions import act, again, edit_page, record_action
from mktapp.core.commands import daily_command
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import is_partial, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.models import User
from mktapp.models.brand import (
    ACTIVITY_KINDS,
    ACTIVITY_STATUSES,
    Activity,
    ActivityChange,
)
from mktapp.org.picker_sources import people_source

# --- the list -----------------------------------------------------------------------------------


@bp.get("/activities/")
@require("brand.view")
def activities():
    """Market activities: search, filters by status, kind and year, sort, paging, export."""
    query = svc.ActivityQuery.from_args(request.args)
    return list_page(
        "brand/activities.html",
        "activity_rows",
        query,
        svc.list_activities,
        url_for("brand.activities", **query.args()),
        statuses=ACTIVITY_STATUSES,
        kinds=ACTIVITY_KINDS,
        years=[] if is_partial() else svc.years_with_activities(current_user),
    )


@bp.get("/activities.xlsx")
@require("brand.view")
def activities_xlsx():
    """The filtered activities (all pages) as an Excel workbook."""
    query = svc.ActivityQuery.from_args(request.args)
    rows = svc.export_activities(current_user, query)
    return svc.ACTIVITIES.xlsx(rows, _("Market activities"))


@bp.get("/activities/calendar")
@require("brand.view")
def calendar():
    """The activities of a month on a Monday-to-Sunday grid, today marked."""
    today = clock.today()
    first = svc.parse_month(request.args.get("month"), today)
    grid = svc.month_grid(current_user, first, today)
    return render(
        "brand/calendar.html",
        block="calendar_grid",
        grid=grid,
        kinds=ACTIVITY_KINDS,
        statuses=ACTIVITY_STATUSES,
    )


# --- the form -------------------------------------------------------------------------------------


ROW_ACTIONS = {"add_staff": "staff", "add_line": "lines"}


def _form_page(form, activity=None, status=200, template="brand/activity_form.html", **extra):
    return render(
        template,
        block="activity_form",
        status=status,
        form=form,
        activity=activity,
        action_url=request.path,
        **extra,
    )


def _row_action(form) -> bool:
    action = request.form.get("action", "")
    if action in ROW_ACTIONS:
        form.add_row(ROW_ACTIONS[action])
        return True
    return False


def _filled(form_cls: type[ActivityForm], activity: Activity) -> ActivityForm:
    """The plan form showing the activity's plan as it stands."""
    form = form_cls(formdata=None)
    form.load(svc.input_of(activity))
    return form


def _plan_form(
    form: ActivityForm,
    activity: Activity | None,
    do,
    *,
    message,
    then,
    template: str = "brand/activity_form.html",
):
    """The plan's form page (new, edit, change request) through edit_page; a row button
    (add a colleague, add a budget line) draws the form again, unsaved."""
    if request.method == "POST" and _row_action(form):
        return _form_page(form, activity, template=template)
    return edit_page(
        template,
        "activity_form",
        form,
        activity,
        do,
        message=message,
        then=then,
        activity=activity,
        action_url=request.path,
    )


def _save(form: ActivityForm, activity: Activity | None):
    """The plan of a new or an editable activity: drawn, or saved as a draft (its page after)."""
    return _plan_form(
        form,
        activity,
        lambda activity, form: (
            svc.create_activity(current_user, form.to_input())
            if activity is None
            else svc.update_activity(current_user, activity, form.to_input())
        ),
        message=lambda saved: _("Activity %(number)s saved.", number=saved.number),
        then=lambda saved: url_for("brand.activity", activity_id=saved.id),
    )


@bp.route("/activities/new", methods=["GET", "POST"])
@require("brand.edit")
def activity_new():
    """Plan a market activity (a draft until submitted)."""
    form = ActivityForm()
    if request.method == "GET":
        form.start_on.data = form.end_on.data = clock.today()
    return _save(form, None)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@require("brand.edit")
def activity_edit(activity_id: int):
    """Change a draft, returned or withdrawn plan (approved plans: request a change)."""
    activity = get_visible_or_404(Activity, activity_id, current_user)
    if not svc.may_edit(current_user, activity):
        if not svc.may_run(current_user, activity):
            abort(403)
        form = _filled(ActivityForm, activity)
        form.form_errors.append(svc.locked_message(activity))
        return _form_page(form, activity, 422, locked=True)
    form = _filled(ActivityForm, activity) if request.method == "GET" else ActivityForm()
    return _save(form, activity)


# --- one activity -----------------------------------------------------------------------------------


def _kpis(activity: Activity) -> dict:
    budget = activity.budget_total
    return {
        "budget": budget,
        "per_participant": (budget / activity.target_participants)
        if activity.target_participants
        else None,
        "per_lead": (budget / activity.target_leads) if activity.target_leads else None,
        "sales_ratio": (activity.target_sales / budget).quantize(svc.CENT) if budget else None,
    }


def _page(activity: Activity, status: int = 200, **extra):
    user = current_user
    checking = activity.status in svc.EDITABLE or activity.status == "pending"
    changes = change_svc.changes_of(activity)
    context = {
        "activity": activity,
        "kpis": _kpis(activity),
        "shortfalls": svc.shortfalls(activity.budget_lines) if checking else [],
        "may_edit": svc.may_edit(user, activity),
        "may_submit": svc.may_submit(user, activity),
        "may_run": svc.may_run(user, activity),
        "may_request_change": svc.may_request_change(user, activity)
        and not any(c.status == "pending" for c in changes),
        "may_cancel": svc.may_cancel(user, activity) and activity.status != "pending",
        "may_archive": svc.may_archive(user, activity),
        "changes": changes,
        "diff": change_svc.diff,
        "submit_form": extra.pop("submit_form", None) or SubmitForm(formdata=None),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(formdata=None),
        "confirm": ConfirmForm(),
        "extra_actions": activity_page.actions_for(activity, user),
        "panels": activity_page.rendered_panels(activity, user),
        "today": clock.today(),
    }
    context.update(extra)
    return render("brand/activity_detail.html", status=status, **context)


@bp.get("/activities/<int:activity_id>")
@require("brand.view")
def activity(activity_id: int):
    """An activity: plan, targets against budget, approval, changes, then the parts' panels."""
    return _page(get_visible_or_404(Activity, activity_id, current_user))


def _step(activity_id: int, action, message: str, then: str | None = None):
    """A one-click step of the activity's life (core act()): its page after, or again with why."""
    return act(
        _page,
        Activity,
        activity_id,
        action,
        message,
        then or url_for("brand.activity", activity_id=activity_id),
    )


@bp.post("/activities/<int:activity_id>/submit")
@require("brand.edit")
def activity_submit(activity_id: int):
    """Send the plan for approval (over the free budget: with a reason)."""
    return record_action(
        get_visible_or_404(Activity, activity_id, current_user),
        lambda a, f: svc.submit(current_user, a, f.over_budget_reason.data or ""),
        message=_("Activity %(number)s submitted for approval."),
        then=url_for("brand.activity", activity_id=activity_id),
        on_error=again(_page, Activity, activity_id, form_as="submit_form", submit_open=True),
        form=SubmitForm(),
    )


@bp.post("/activities/<int:activity_id>/start")
@require("brand.edit")
def activity_start(activity_id: int):
    """Start an approved activity (执行中)."""
    return _step(activity_id, svc.start, _("Activity %(number)s is now in progress."))


@bp.post("/activities/<int:activity_id>/end")
@require("brand.edit")
def activity_end(activity_id: int):
    """End an activity in progress."""
    return _step(activity_id, svc.end, _("Activity %(number)s ended."))


@bp.post("/activities/<int:activity_id>/cancel")
@require("brand.edit")
def activity_cancel(activity_id: int):
    """Cancel an activity, with a reason (its budget is no longer reserved)."""
    return record_action(
        get_visible_or_404(Activity, activity_id, current_user),
        lambda a, f: svc.cancel(current_user, a, f.reason.data or ""),
        message=_("Activity %(number)s cancelled."),
        then=url_for("brand.activity", activity_id=activity_id),
        on_error=again(
            _page,
            Activity,
            activity_id,
            form_as="cancel_form",
            fields={None: "reason"},
            cancel_open=True,
        ),
        form=CancelForm(),
    )


@bp.post("/activities/<int:activity_id>/archive")
@require("brand.edit")
def activity_archive(activity_id: int):
    """Archive a draft or a cancelled activity (kept, not deleted)."""
    return _step(
        activity_id, svc.archive, _("Activity %(number)s archived."), url_for("brand.activities")
    )


# --- change requests ------------------------------------------------------------------------------------


@bp.route("/activities/<int:activity_id>/change", methods=["GET", "POST"])
@require("brand.edit")
def activity_change(activity_id: int):
    """Request a change to an approved or running plan: the plan form, prefilled, and a reason."""
    activity = get_visible_or_404(Activity, activity_id, current_user)
    if not svc.may_request_change(current_user, activity):
        abort(403)
    return _plan_form(
        _filled(ChangeForm, activity) if request.method == "GET" else ChangeForm(),
        activity,
        lambda activity, form: change_svc.request_change(
            current_user, activity, form.to_input(), form.reason.data or ""
        ),
        message=_("Change request for %(number)s submitted for approval."),
        then=_change_requested,
        template="brand/change_form.html",
    )


def _change_requested(change: ActivityChange) -> str:
    """Where a new change request leads: its page, each budget line it overdraws a warning."""
    for message in change_svc.extra_of(change)["over_budget"]:
        flash(message, "warning")
    return url_for("brand.activity_change_detail", change_id=change.id)


@bp.get("/changes/<int:change_id>")
@require("brand.view")
def activity_change_detail(change_id: int):
    """A change request: the reason, the plan before and as proposed, its approval."""
    change = get_visible_or_404(ActivityChange, change_id, current_user)
    activity = get_visible_or_404(Activity, change.activity_id, current_user)
    return render(
        "brand/change_detail.html",
        change=change,
        activity=activity,
        rows=change_svc.diff(change),
        over_budget=change_svc.extra_of(change)["over_budget"],
    )


# --- the daily scan ---------------------------------------------------------------------------------------


@daily_command("brand-scan")
def brand_scan(today: date) -> str:
    """Start approved activities whose first day has come; end those whose last day passed."""
    started, ended = svc.scan(today)
    return f"{started} activities started, {ended} ended"


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(brand_scan)
    # The colleagues an activity's staff rows choose from (core/pickers).
    pickers.register(
        state.app,
        people_source(
            "activity_staff",
            lambda user: select(User).where(*svc.staff_conditions()),
            ("brand.edit",),
        ),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P3", nav.NavEntry("brand.activities", nav._l("Market activities"), ("brand.view",), "doc")
    )
    nav.add(
        "P3", nav.NavEntry("brand.calendar", nav._l("Activity calendar"), ("brand.view",), "dot")
    )
