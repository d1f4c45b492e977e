"""After-sales ticket views (P5.3, P5.5): the list and its export, the agent's desk, the
form that receives a problem, the ticket's page with each step of its handling, its
history, costs and satisfaction link, and the hourly `flask service-scan`."""

from __future__ import annotations

from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta
from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mktapp.core import clock, nav, settings, vocab
from mktapp.core.actions import act, again, edit_page, record_action
from mktapp.core.attachments import register_attachable
from mktapp.core.commands import daily_command
from mktapp.core.htmx import render
from mktapp.core.lists import list_page
from mktapp.core.permissions import can, get_visible_or_404, require
from mktapp.core.qr import qr_svg
from mktapp.models import Contract, Customer, Ticket
from mktapp.models.service import (
    COST_KINDS,
    TICKET_CHANNELS,
    TICKET_EVENT_KINDS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
)
from mktapp.research.public import invitation_url, on_invitation_answered
from mktapp.service import bp, claims_link, desk, sla
from mktapp.service import departments as depts
from mktapp.service import listing as lst
from mktapp.service import tickets as svc
from mktapp.service.forms_tickets import (
    CostForm,
    NoteForm,
    PauseForm,
    ReassignForm,
    ReopenForm,
    ReplyForm,
    ResolveForm,
    TicketEditForm,
    TicketForm,
)

WARRANTY = settings.SettingSpec(
    "service.warranty_months",
    _l("Warranty (months from signing)"),
    12,
    kind="int",
    help=_l("A ticket shows whether the contract it concerns is still under warranty."),
    group=_l("After-sales service"),
)

# --- the list ---------------------------------------------------------------------------------


@bp.get("/tickets/")
@require("service.view")
def tickets():
    """Every ticket this user may see: search, filters, sort, paging."""
    query = lst.TicketQuery.from_args(request.args)
    now = clock.now()
    return list_page(
        "service/tickets.html",
        "ticket_rows",
        query,
        lst.list_tickets,
        url_for("service.tickets", **query.args()),
        # the countdowns: drawn again each minute; "mine": the reader's own
        key=(now.strftime("%Y%m%d%H%M"), current_user.id if query.scope != "all" else None),
        now=now,
        departments=lst.department_choices(),
        status_choices=TICKET_STATUSES.choices(),
        type_choices=TICKET_TYPES.choices(),
        priority_choices=TICKET_PRIORITIES.choices(),
        may_receive=can(current_user, "service.handle"),
    )


@bp.get("/tickets/list.xlsx")
@require("service.view")
def tickets_xlsx():
    """The filtered tickets (all pages) as an Excel workbook."""
    query = lst.TicketQuery.from_args(request.args)
    return lst.TICKETS.xlsx(lst.export_rows(current_user, query), _("After-sales tickets"))


@bp.get("/desk")
@require("service.view")
def my_desk():
    """The agent's page: my open tickets by urgency; a leader sees the department's."""
    return render("service/desk.html", **desk.desk_of(current_user, clock.now()))


# --- receiving and correcting ----------------------------------------------------------------------


def _customer_choices(form: TicketForm | TicketEditForm, customer_id: int | None) -> None:
    """The chosen customer's contacts and its contracts this user may see."""
    form.contact_id.scope = customer_id
    if isinstance(form, TicketForm):
        form.contract_id.choices = [(None, _("No contract"))] + svc.contract_choices(
            current_user, customer_id
        )


@bp.route("/tickets/new", methods=["GET", "POST"])
@require("service.handle")
def ticket_new():
    """Record a problem the customer reported; it goes to its department's queue."""
    form = TicketForm()
    customer = None
    chosen = request.args.get("customer_id", type=int) if request.method == "GET" else None
    if chosen:
        customer = get_visible_or_404(Customer, chosen, current_user)
        form.customer_id.data = customer.id
    _customer_choices(form, form.customer_id.data)
    if request.method == "POST" and request.form.get("action") == "refresh":
        return render("service/ticket_form.html", block="ticket_form", form=form, customer=customer)
    return edit_page(
        "service/ticket_form.html",
        "ticket_form",
        form,
        None,
        lambda _none, form: svc.receive(
            current_user,
            customer_id=form.customer_id.data,
            contact_id=form.contact_id.data,
            contract_id=form.contract_id.data,
            product_id=form.product_id.data,
            channel=form.channel.data,
            ticket_type=form.ticket_type.data,
            priority=form.priority.data,
            title=form.title.data,
            description=form.description.data,
        ),
        message=lambda t: (
            _("Ticket %(number)s received and sent to %(department)s.")
            % {"number": t.number, "department": t.department.name}
        ),
        then=lambda t: url_for("service.ticket_detail", ticket_id=t.id),
        customer=customer,
    )


@bp.route("/tickets/<int:ticket_id>/edit", methods=["GET", "POST"])
@require("service.handle")
def ticket_edit(ticket_id: int):
    """Correct what was recorded of the ticket."""
    ticket = get_visible_or_404(Ticket, ticket_id, current_user)
    form = TicketEditForm(obj=ticket)
    _customer_choices(form, ticket.customer_id)
    return edit_page(
        "service/ticket_edit.html",
        "ticket_form",
        form,
        ticket,
        lambda ticket, form: svc.update(
            current_user,
            ticket,
            title=form.title.data,
            description=form.description.data,
            channel=form.channel.data,
            contact_id=form.contact_id.data,
            product_id=form.product_id.data,
        ),
        message=_("Ticket %(number)s saved."),
        then=url_for("service.ticket_detail", ticket_id=ticket.id),
        ticket=ticket,
    )


# --- the ticket's page -----------------------------------------------------------------------------


def _warranty_end(contract: Contract | None) -> date | None:
    if contract is None or contract.signed_on is None:
        return None
    return contract.signed_on + relativedelta(months=settings.get(WARRANTY.key))


def _page(ticket: Ticket, status: int = 200, **forms):
    """The ticket's page (again with a refusal: `forms` carries the action's form)."""
    user = current_user
    now = clock.now()
    reassign = forms.pop("reassign_form", None) or ReassignForm()
    reassign.department_id.choices = lst.department_choices()
    reassign.owner_id.choices = [(None, _("The department's leader"))] + depts.people_choices()
    if reassign.department_id.data is None:
        reassign.department_id.data = ticket.department_id
    cost = forms.pop("cost_form", None) or CostForm(spent_on=clock.today())
    invitation = ticket.invitation
    expired = (
        invitation is not None and invitation.expires_at is not None and now > invitation.expires_at
    )
    link = (
        invitation_url(invitation) if invitation and not expired and ticket.rating is None else ""
    )
    return render(
        "service/ticket_detail.html",
        status=status,
        ticket=ticket,
        standing=sla.standing(ticket, now),
        paused_minutes=svc.paused_minutes(ticket, now),
        targets=sla.targets_of(ticket),
        warranty_end=_warranty_end(ticket.contract),
        today=clock.today(),
        events=ticket.events,
        costs=ticket.costs,
        cost_total=svc.cost_total(ticket),
        claims=claims_link.claims_of(ticket, user),
        claimed_total=claims_link.claimed_total(ticket),
        may_claim=not user.role_codes <= {"admin"},
        may_handle=svc.may_handle(user, ticket),
        may_reply=svc.may_reply(user, ticket),
        may_reassign=svc.may_reassign(user, ticket),
        satisfaction_link=link,
        satisfaction_qr=qr_svg(link) if link else "",
        satisfaction_expired=expired and ticket.rating is None,
        pause_form=forms.pop("pause_form", None) or PauseForm(),
        resolve_form=forms.pop("resolve_form", None) or ResolveForm(),
        reply_form=forms.pop("reply_form", None) or ReplyForm(),
        reopen_form=forms.pop("reopen_form", None) or ReopenForm(),
        note_form=forms.pop("note_form", None) or NoteForm(),
        reassign_form=reassign,
        cost_form=cost,
        **forms,
    )


@bp.get("/tickets/<int:ticket_id>")
@require("service.view")
def ticket_detail(ticket_id: int):
    """A ticket: the customer and contract, its time limits, each step, history and cost."""
    return _page(get_visible_or_404(Ticket, ticket_id, current_user))


def _then(ticket) -> str:
    return url_for("service.ticket_detail", ticket_id=ticket.id)


def _step(ticket_id: int, form, form_as: str, do, message: str):
    """A step of the ticket taken with a form: done, the page; refused, the form again."""
    ticket = get_visible_or_404(Ticket, ticket_id, current_user)
    return record_action(
        ticket,
        do,
        message=message,
        then=_then(ticket),
        on_error=again(_page, Ticket, ticket_id, form_as=form_as),
        form=form,
    )


@bp.post("/tickets/<int:ticket_id>/start")
@require("service.handle")
def ticket_start(ticket_id: int):
    """Take the ticket in hand (its first response)."""
    return act(
        _page,
        Ticket,
        ticket_id,
        svc.start,
        _("Ticket %(number)s is in progress."),
        url_for("service.ticket_detail", ticket_id=ticket_id),
    )


@bp.post("/tickets/<int:ticket_id>/pause")
@require("service.handle")
def ticket_pause(ticket_id: int):
    """Wait on the customer or for parts: the clock stops."""
    return _step(
        ticket_id,
        PauseForm(),
        "pause_form",
        lambda t, f: svc.pause(current_user, t, f.waiting.data, f.note.data),
        _("Ticket %(number)s is waiting; its time limit is paused."),
    )


@bp.post("/tickets/<int:ticket_id>/resume")
@require("service.handle")
def ticket_resume(ticket_id: int):
    """Work goes on; the deadlines move on by the time spent waiting."""
    return act(
        _page,
        Ticket,
        ticket_id,
        svc.resume,
        _("Ticket %(number)s is in progress again."),
        url_for("service.ticket_detail", ticket_id=ticket_id),
    )


@bp.post("/tickets/<int:ticket_id>/resolve")
@require("service.handle")
def ticket_resolve(ticket_id: int):
    """Record how the problem was solved (the department's result)."""
    return _step(
        ticket_id,
        ResolveForm(),
        "resolve_form",
        lambda t, f: svc.resolve(current_user, t, f.resolution.data),
        _("Ticket %(number)s is resolved: reply to the customer next."),
    )


@bp.post("/tickets/<int:ticket_id>/reply")
@require("service.reply")
def ticket_reply(ticket_id: int):
    """Record the reply given to the customer."""
    return _step(
        ticket_id,
        ReplyForm(),
        "reply_form",
        lambda t, f: svc.reply(current_user, t, f.channel.data, f.content.data),
        _("The reply to the customer is recorded."),
    )


@bp.post("/tickets/<int:ticket_id>/close")
@require("service.reply")
def ticket_close(ticket_id: int):
    """Close the ticket; the customer's satisfaction link is made."""
    return act(
        _page,
        Ticket,
        ticket_id,
        svc.close,
        _("Ticket %(number)s is closed. Send the customer the satisfaction link."),
        url_for("service.ticket_detail", ticket_id=ticket_id),
    )


@bp.post("/tickets/<int:ticket_id>/reopen")
@require("service.reply")
def ticket_reopen(ticket_id: int):
    """The problem came back: work on it again."""
    return _step(
        ticket_id,
        ReopenForm(),
        "reopen_form",
        lambda t, f: svc.reopen(current_user, t, f.reason.data),
        _("Ticket %(number)s is reopened."),
    )


@bp.post("/tickets/<int:ticket_id>/note")
@require("service.handle")
def ticket_note(ticket_id: int):
    """Add a note for the staff."""
    return _step(
        ticket_id,
        NoteForm(),
        "note_form",
        lambda t, f: svc.add_note(current_user, t, f.body.data),
        _("Note added."),
    )


@bp.post("/tickets/<int:ticket_id>/reassign")
@require("service.handle")
def ticket_reassign(ticket_id: int):
    """Send the ticket to another department or person."""
    form = ReassignForm()
    return _step(
        ticket_id,
        form,
        "reassign_form",
        lambda t, f: svc.reassign(
            current_user, t, f.department_id.data, f.owner_id.data, f.reason.data
        ),
        _("Ticket %(number)s reassigned."),
    )


@bp.post("/tickets/<int:ticket_id>/costs")
@require("service.handle")
def ticket_cost(ticket_id: int):
    """Add a cost line (parts, labour, travel, other)."""
    return _step(
        ticket_id,
        CostForm(),
        "cost_form",
        lambda t, f: svc.add_cost(
            current_user,
            t,
            kind=f.kind.data,
            description=f.description.data,
            spent_on=f.spent_on.data,
            amount=f.amount.data,
            hours=f.hours.data,
            rate=f.rate.data,
        ),
        _("Cost added."),
    )


# --- the scan ------------------------------------------------------------------------------------


@daily_command("service-scan")
def service_scan(today: date) -> str:
    """Tell owners of tickets near their time limit and leaders of those past it (once each).
    Run it every hour; --date runs it as of the end of that day."""
    now = clock.now()
    if today != clock.today():
        now = datetime.combine(today, time(23, 59), tzinfo=clock.zone())
    warned, missed = svc.scan(now)
    return f"{warned} tickets near their time limit, {missed} deadlines missed"


def setup(app) -> None:
    """What this module adds to the app's registries; called by the chapter's register(app)."""
    nav.add(
        "P5",
        nav.NavEntry("service.my_desk", _l("My service desk"), ("service.view",), "check"),
    )
    nav.add(
        "P5",
        nav.NavEntry("service.tickets", _l("After-sales tickets"), ("service.view",), "doc"),
    )
    vocab.expose(
        app,
        TICKET_STATUSES,
        TICKET_TYPES,
        TICKET_PRIORITIES,
        TICKET_CHANNELS,
        TICKET_EVENT_KINDS,
        COST_KINDS,
    )
    app.jinja_env.globals["sla_standing"] = sla.standing
    settings.register(WARRANTY)
    register_attachable(Ticket, can_edit=lambda user, t: svc.may_handle(user, t))
    app.cli.add_command(service_scan)
    on_invitation_answered(svc.take_rating)
