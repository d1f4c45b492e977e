"""After-sales settings (P5.3): the service time limits per ticket type and priority in
working hours (服务时限), where each ticket type goes (工单分派: a department and a default
owner) and the departments that take tickets (受理部门). For the administrator and the
marketing manager ("service.settings"); one entry in the sidebar's administration."""

from __future__ import annotations

import hashlib

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mktapp.core import nav, pickers
from mktapp.core.actions import edit_page, record_action
from mktapp.core.errors import DomainError
from mktapp.core.forms import put_error
from mktapp.core.htmx import render
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.extensions import db
from mktapp.models import ServiceDepartment, Ticket, TicketRoute, User
from mktapp.models.service import OPEN_STATUSES, TICKET_PRIORITIES, TICKET_TYPES
from mktapp.service import bp, departments, sla
from mktapp.service.forms_settings import (
    DEPARTMENT_PEOPLE,
    LIMITS,
    DepartmentForm,
    RoutingForm,
    SlaForm,
    hours_text,
    route_fields,
)

TEMPLATE = "service/settings.html"
DEPARTMENT_TEMPLATE = "service/settings_department.html"


def _page(tab: str, status: int = 200, **context):
    block = {"sla": "sla_form", "routing": "routing_form"}.get(tab)
    return render(TEMPLATE, block=block, status=status, tab=tab, **context)


# --- the service time limits -------------------------------------------------------------


def _digest(table: dict) -> str:
    """The limits as they stand, in a few characters (a save over another's is refused)."""
    text = ";".join(f"{t}-{p}={a}/{b}" for (t, p), (a, b) in sorted(table.items()))
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def _sla_page(form: SlaForm, status: int = 200):
    return _page(
        "sla",
        status,
        form=form,
        types=TICKET_TYPES,
        priorities=TICKET_PRIORITIES,
        limits=LIMITS,
        field_name=sla.field_name,
        defaults={p: tuple(hours_text(m) for m in v) for p, v in sla.DEFAULT_TARGETS.items()},
        calendar_url=url_for("workcal.index")
        if "workcal.index" in current_app.view_functions
        else None,
    )


def _save_sla(form: SlaForm) -> None:
    if form.seen.data != _digest(sla.matrix()):
        raise DomainError(
            _(
                "Someone saved the time limits after you opened this page. What you typed is "
                "kept below; save again to replace theirs with yours."
            ),
            status=409,
        )
    problems = form.problems()
    try:
        sla.save_matrix(current_user, form.values())
    except DomainError as error:
        problems += error.problems
    if problems:  # every refusal at its input; record_action rolls back what was written
        raise sla.SlaError(problems[0][1], problems[0][0], problems)


def _sla_refused(error: DomainError, form: SlaForm):
    form.seen.data = _digest(sla.matrix())  # saving again overwrites on purpose
    return _sla_page(put_error(form, error), 409 if error.status == 409 else 422)


@bp.get("/settings")
@require("service.settings")
def settings():
    """The after-sales settings (the sidebar's entry): the service time limits first."""
    table = sla.matrix()
    return _sla_page(SlaForm.of(table, _digest(table)))


@bp.route("/settings/sla", methods=["GET", "POST"])
@require("service.settings")
def settings_sla():
    """The service time limits: working hours to the first response and to the
    resolution, for each ticket type and priority."""
    if request.method == "GET":
        table = sla.matrix()
        return _sla_page(SlaForm.of(table, _digest(table)))
    return record_action(
        None,
        lambda _record, form: _save_sla(form),
        message=_("Service time limits saved."),
        then=url_for("service.settings_sla"),
        on_error=_sla_refused,
        form=SlaForm(),
    )


# --- where each ticket type goes ---------------------------------------------------------


def _ready() -> None:
    """The service and sales departments, made once for good: the pages name them by id."""
    codes = [code for code, _group in departments.DEFAULT_DEPARTMENTS]
    have = db.session.scalar(
        select(func.count(ServiceDepartment.id)).where(ServiceDepartment.code.in_(codes))
    )
    if have == len(codes):
        return
    try:
        departments.ensure_departments()
        db.session.commit()
    except IntegrityError:  # made a moment ago by another request
        db.session.rollback()


def _stored_routes() -> dict[str, TicketRoute]:
    """The routes set for a department in use (one archived sends its types back)."""
    rows = db.session.scalars(select(TicketRoute).join(TicketRoute.department))
    return {r.ticket_type: r for r in rows if r.department.archived_at is None}


def _routing_page(form: RoutingForm, status: int = 200):
    return _page(
        "routing",
        status,
        form=form,
        types=TICKET_TYPES,
        route_fields=route_fields,
        routes={t: (department, owner) for t, department, owner in departments.routes()},
        stored=_stored_routes(),
    )


def _save_routes(form: RoutingForm) -> None:
    """Each type whose department or default owner changed, through departments.set_route;
    every refusal at its type's field."""
    stored = _stored_routes()
    usual = {t: department.id for t, department, _owner in departments.routes()}
    problems: list[tuple[str | None, str]] = []
    for ticket_type, (department_id, owner_id) in form.values().items():
        route = stored.get(ticket_type)
        if route is not None:
            same = (route.department_id, route.default_owner_id) == (department_id, owner_id)
        else:
            same = department_id == usual[ticket_type] and owner_id is None
        if same:
            continue
        try:
            departments.set_route(current_user, ticket_type, department_id or 0, owner_id)
        except DomainError as error:
            department_field, owner_field = route_fields(ticket_type)
            names = {"owner_id": owner_field}
            problems += [(names.get(name or "", department_field), m) for name, m in error.problems]
    if problems:
        raise departments.DepartmentError(problems[0][1], problems[0][0], problems)


@bp.route("/settings/routing", methods=["GET", "POST"])
@require("service.settings")
def settings_routing():
    """Where each ticket type goes: the department whose queue takes it and its default
    owner (else the department's leader)."""
    _ready()
    in_use = departments.departments()
    choices = [(d.id, d.name) for d in in_use]
    now = {t: department.id for t, department, _owner in departments.routes()}
    if request.method == "GET":
        if any(route_fields(t)[0] in request.args for t in TICKET_TYPES):
            # A department chosen in the page (htmx): the form again, the owners its people.
            return _routing_page(RoutingForm(formdata=request.args).prepare(choices, now))
        stored = _stored_routes()
        data = {}
        for t in TICKET_TYPES:
            department_field, owner_field = route_fields(t)
            data[department_field] = now[t]
            data[owner_field] = stored[t].default_owner_id if t in stored else None
        return _routing_page(RoutingForm(data=data).prepare(choices, now))
    return record_action(
        None,
        lambda _record, form: _save_routes(form),
        message=_("Ticket routing saved."),
        then=url_for("service.settings_routing"),
        on_error=lambda error, form: _routing_page(
            put_error(form, error), 409 if error.status == 409 else 422
        ),
        form=RoutingForm().prepare(choices, now),
    )


# --- the departments ---------------------------------------------------------------------


@bp.get("/settings/departments")
@require("service.settings")
def settings_departments():
    """The departments that take tickets: leader, people, open tickets, the types they
    take; the archived ones apart."""
    _ready()
    every = departments.departments(include_archived=True)
    open_tickets = dict(
        db.session.execute(
            select(Ticket.department_id, func.count(Ticket.id))
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.department_id)
        ).all()
    )
    takes: dict[int, list[str]] = {}
    for ticket_type, department, _owner in departments.routes():
        takes.setdefault(department.id, []).append(ticket_type)
    in_use = [d for d in every if d.archived_at is None]
    return _page(
        "departments",
        in_use=in_use,
        archived=[d for d in every if d.archived_at is not None],
        people={d.id: departments.people_of(d) for d in in_use},
        open_tickets=open_tickets,
        takes=takes,
        types=TICKET_TYPES,
        defaults=dict(departments.DEFAULT_DEPARTMENTS),
    )


def _offer_people(form: DepartmentForm, department: ServiceDepartment | None) -> DepartmentForm:
    """The active people to tick; for a group's department, those outside the group (the
    group's own belong to it anyway)."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.display_name, User.id)
    if department is not None and department.group_id is not None:
        stmt = stmt.where((User.group_id != department.group_id) | User.group_id.is_(None))
    return form.offer_people(list(db.session.scalars(stmt)))


def _department_context(department: ServiceDepartment | None) -> dict:
    return {
        "department": department,
        "is_default": department is not None
        and department.code in dict(departments.DEFAULT_DEPARTMENTS),
    }


def _department_page(department: ServiceDepartment | None):
    """A department's form: drawn, or saved (the list after)."""
    if request.method == "GET":
        members = [u.id for u in department.members] if department is not None else []
        form = DepartmentForm(obj=department, member_ids=members)
    else:
        form = DepartmentForm()
    _offer_people(form, department)
    return edit_page(
        DEPARTMENT_TEMPLATE,
        "department_form",
        form,
        department,
        lambda department, form: departments.save_department(
            current_user,
            department,
            name=form.name.data or "",
            description=form.description.data or "",
            leader_id=form.leader_id.data,
            member_ids=list(form.member_ids.data or []),
        ),
        message=lambda saved: _("Department %(name)s saved.", name=saved.name),
        then=url_for("service.settings_departments"),
        **_department_context(department),
    )


@bp.route("/settings/departments/new", methods=["GET", "POST"])
@require("service.settings")
def settings_department_new():
    """Add a department that takes tickets (a technical or logistics department)."""
    return _department_page(None)


@bp.route("/settings/departments/<int:department_id>/edit", methods=["GET", "POST"])
@require("service.settings")
def settings_department_edit(department_id: int):
    """Change a department's name, leader or people."""
    return _department_page(get_visible_or_404(ServiceDepartment, department_id, current_user))


@bp.post("/settings/departments/<int:department_id>/archive")
@require("service.settings")
def settings_department_archive(department_id: int):
    """Take a department out of use: the types it took go back to their usual department."""
    department = get_visible_or_404(ServiceDepartment, department_id, current_user)

    def refused(error: DomainError, _form):
        again = get_visible_or_404(ServiceDepartment, department_id, current_user)
        form = DepartmentForm(formdata=None, obj=again, member_ids=[u.id for u in again.members])
        _offer_people(form, again)
        return render(
            DEPARTMENT_TEMPLATE,
            block="department_form",
            status=409 if error.status == 409 else 422,
            form=put_error(form, error),
            **_department_context(again),
        )

    return record_action(
        department,
        lambda department, form: departments.archive_department(current_user, department),
        message=lambda archived: _(
            "Department %(name)s archived; the ticket types it took go back to their usual "
            "department.",
            name=archived.name,
        ),
        then=url_for("service.settings_departments"),
        on_error=refused,
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "admin",
        nav.NavEntry("service.settings", _l("After-sales settings"), ("service.settings",)),
    )
    pickers.register(app, DEPARTMENT_PEOPLE)
