"""Sales contract views (P4.3): the list and its export, the form (lines, deliveries and
instalments added with htmx), the contract's page (review through the approval engine,
signing, execution, amendments and versions), the archive and the contract as a PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mktapp.contracts import bp, customer_links
from mktapp.contracts import listing as lst
from mktapp.contracts import services as svc
from mktapp.contracts.forms import (
    AmendmentForm,
    ArchiveForm,
    ContractFilters,
    ContractForm,
    MilestoneForm,
    SignForm,
    TerminateForm,
    put_problems,
)
from mktapp.core import clock, nav, pickers
from mktapp.core.actions import act, again, record_action
from mktapp.core.attachments import AttachmentError, attachments_for, register_attachable
from mktapp.core.commands import daily_command
from mktapp.core.errors import DomainError
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.pdf import pdf_response, render_pdf
from mktapp.core.permissions import can, get_visible_or_404, require
from mktapp.extensions import db
from mktapp.models import (
    Contract,
    ContractAmendment,
    ContractMilestone,
    Customer,
    Opportunity,
)
from mktapp.org.picker_sources import people_source

# --- lists ---------------------------------------------------------------------------


def _listing(archived_only: bool):
    endpoint = "contracts.archive" if archived_only else "contracts.index"
    filters = ContractFilters(request.args)  # a rep typed without JavaScript is looked up
    query = lst.spec_of(archived_only).Query.from_args(filters.values(request.args))
    page = lst.list_contracts(
        current_user, query, current_app.config["PAGE_SIZE"], archived_only=archived_only
    )
    return render(
        "contracts/archive.html" if archived_only else "contracts/index.html",
        block="contract_rows",
        page=page,
        query=query,
        list_endpoint=endpoint,
        export_endpoint="contracts.archive_xlsx" if archived_only else "contracts.index_xlsx",
        statuses=svc.STATUSES,
        filters=filters,
        details=lst.archive_details(page.rows) if archived_only else {},
        may_draft=can(current_user, "contracts.draft"),
        push_url=url_for(endpoint, **query.args()),
    )


@bp.get("/")
@require("contracts.view")
def index():
    """Every contract this user may see: search, filters, sort, paging."""
    return _listing(False)


@bp.get("/archive")
@require("contracts.view")
def archive():
    """The contract archive: archived contracts with their signing, execution and changes."""
    return _listing(True)


def _export(archived_only: bool):
    spec = lst.spec_of(archived_only)
    rows = lst.export_rows(current_user, spec.Query.from_args(request.args), archived_only)
    return spec.xlsx(rows, _("Contract archive") if archived_only else _("Sales contracts"))


@bp.get("/list.xlsx")
@require("contracts.view")
def index_xlsx():
    """The filtered contracts list (all pages) as an Excel workbook."""
    return _export(False)


@bp.get("/archive.xlsx")
@require("contracts.view")
def archive_xlsx():
    """The filtered archive as an Excel workbook."""
    return _export(True)


# --- the form ------------------------------------------------------------------------------

ROW_ACTIONS = ("add_line", "add_delivery", "add_instalment", "prefill", "fill_remainder")


def _row_action(form) -> int:
    """Add or remove a row, fill a row from its product, or put the balance on the last
    instalment: the form comes back unsaved. Returns the status to answer with (0: not a
    row action)."""
    action = request.form.get("action", "")
    lists = {"line": form.lines, "delivery": form.deliveries, "instalment": form.instalments}
    if action.startswith("add_") and action[4:] in lists:
        target = lists[action[4:]]
        if len(target.entries) < target.max_entries:
            target.append_entry()
        return 200
    if action.startswith("remove_"):
        kind, _sep, index = action[7:].partition("-")
        target = lists.get(kind)
        if target is not None and index.isdigit() and len(target.entries) > 1:
            position = int(index)
            if position < len(target.entries):
                target.entries.pop(position)
        return 200
    if action == "fill_remainder":
        return _fill_remainder(form)
    return 200 if action == "prefill" else 0


def _fill_remainder(form) -> int:
    """The last instalment takes the total less the other instalments (nothing saved)."""
    form.validate()
    if form.has_problems():
        put_problems(
            form, [("instalments", _("Correct the fields marked first: then fill the remainder."))]
        )
        return 422
    try:
        amount = svc.remainder(form.to_terms())
    except svc.ContractError as error:
        put_problems(form, error.problems)
        return 422
    last = form.instalments.entries[-1].form.amount
    last.data, last.raw_data = amount, None
    return 200


def _totals(form):
    try:
        return svc.totals_of(form.to_terms())
    except (TypeError, ArithmeticError):
        return None


def _form_page(form, contract=None, customer=None, opportunity=None, status=200, **extra):
    form.prefill_products()
    return render(
        "contracts/form.html",
        block="contract_form",
        status=status,
        form=form,
        contract=contract,
        customer=customer or (contract.customer if contract else None),
        opportunity=opportunity or (contract.opportunity if contract else None),
        totals=_totals(form),
        action_url=extra.pop("action_url", request.path),
        **extra,
    )


def _draft_form(contract, problems, warnings: bool) -> ContractForm:
    """The edit form of a saved contract with its missing points placed at their fields
    (as warnings for a draft being written, as errors when review was refused)."""
    form = ContractForm(formdata=None)
    form.load(svc.terms_of(contract))
    form.customer_id.data = str(contract.customer_id)
    form.opportunity_id.data = str(contract.opportunity_id or "")
    put_problems(form, problems, warnings=warnings)
    return form


def _source(args):
    """The customer (and opportunity) a new contract is drafted for: both visible, or 404."""
    opportunity = None
    if args.get("opportunity_id"):
        opportunity = get_visible_or_404(Opportunity, args.get("opportunity_id"), current_user)
        customer = get_visible_or_404(Customer, opportunity.customer_id, current_user)
    elif args.get("customer_id"):
        customer = get_visible_or_404(Customer, args.get("customer_id"), current_user)
    else:
        customer = None
    return customer, opportunity


@bp.post("/totals")
@require("contracts.draft")
def totals():
    """The totals box of the form, recomputed from the rows as they are typed."""
    form = AmendmentForm()
    return render_template("contracts/_totals.html", totals=_totals(form))


@bp.route("/new", methods=["GET", "POST"])
@require("contracts.draft")
def new():
    """Draft a contract for a customer or from an opportunity."""
    source = request.args if request.method == "GET" else request.form
    customer, opportunity = _source(source)
    if customer is None:
        if request.method == "GET":
            return _choose_customer()
        flash(_("Choose the customer the contract is for."), "warning")
        return redirect_to(url_for("contracts.new"))
    form = ContractForm()
    if request.method == "GET":
        form.customer_id.data = str(customer.id)
        form.opportunity_id.data = str(opportunity.id) if opportunity else ""
        form.title.data = opportunity.title if opportunity else ""
        return _form_page(form, None, customer, opportunity)
    if status := _row_action(form):
        return _form_page(form, None, customer, opportunity, status)
    return _save(form, None, customer, opportunity)


def _refused(form, error):
    """The terms form with what is wrong: the service's problems at their fields; when
    something was mistyped, also what the service would refuse in the other fields, so
    that every problem shows at once."""
    if form.has_problems():
        put_problems(form, svc.entry_problems(form.to_terms()), only_unmarked=True)
    else:
        put_problems(form, error.problems)
    return form


def _choose_customer():
    """Step one of a new contract: which customer it is for (search as you type)."""
    q = (request.args.get("q") or "").strip()[:100]
    return render(
        "contracts/choose_customer.html",
        block="customer_choices",
        q=q,
        choices=svc.customer_choices(current_user, q),
        push_url=url_for("contracts.new", q=q or None),
    )


def _save(form, contract, customer, opportunity):
    """Write the draft (and send it for review when "submit" was pressed)."""
    submit = request.form.get("action") == "submit"

    def write(contract, form):
        if contract is None:
            contract = svc.create_contract(
                current_user,
                form.to_terms(),
                clock.today(),
                customer_id=customer.id,
                opportunity_id=opportunity.id if opportunity else None,
                review=submit,
            )
        else:
            svc.update_contract(current_user, contract, form.to_terms(), review=submit)
        if submit:
            svc.submit_contract(current_user, contract)
        return contract

    return record_action(
        contract,
        write,
        message=lambda contract: (
            _("Contract %(number)s submitted for review.", number=contract.number)
            if submit
            else _("Contract %(number)s saved as a draft.", number=contract.number)
        ),
        then=lambda contract: _saved(contract, submit),
        on_error=lambda error, form: _form_page(
            _refused(form, error), contract, customer, opportunity, 422
        ),
        form=form,
    )


def _saved(contract: Contract, submitted: bool):
    """After saving: the contract's page, or, for a draft that still lacks something, the
    form at the edit address with the warnings beside their fields (a plain browser is
    sent there, so that a reload does not post the form again)."""
    detail_url = url_for("contracts.detail", contract_id=contract.id)
    warnings = [] if submitted else svc.draft_warnings(contract)
    if not warnings:
        return detail_url
    edit_url = url_for("contracts.edit", contract_id=contract.id)
    if not is_partial():
        return edit_url
    return _form_page(
        _draft_form(contract, warnings, warnings=True),
        contract,
        action_url=edit_url,
        push_url=edit_url,
        oob_head=True,
    )


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@require("contracts.draft")
def edit(contract_id: int):
    """Change a draft, returned or withdrawn contract; a signed one only by amendment."""
    contract = get_visible_or_404(Contract, contract_id, current_user)
    form = ContractForm()
    if request.method == "GET":
        form.load(svc.terms_of(contract))
    try:
        svc.ensure_editable(current_user, contract)
    except svc.ContractError as error:
        return _form_page(put_error(form, error), contract, status=422)
    if request.method == "GET":
        return _form_page(_draft_form(contract, svc.draft_warnings(contract), True), contract)
    if status := _row_action(form):
        return _form_page(form, contract, status=status)
    return _save(form, contract, contract.customer, contract.opportunity)


# --- one contract ----------------------------------------------------------------------------


def _load(contract_id: int) -> Contract:
    return get_visible_or_404(
        Contract,
        contract_id,
        current_user,
        options=(
            selectinload(Contract.lines),
            selectinload(Contract.milestones),
            selectinload(Contract.versions),
        ),
    )


def _detail_context(contract: Contract, **forms) -> dict:
    amendments = list(
        db.session.scalars(
            select(ContractAmendment)
            .where(ContractAmendment.contract_id == contract.id)
            .order_by(ContractAmendment.id.desc())
        )
    )
    versions = sorted(v.version for v in contract.versions)
    old, new = _version_pair(versions)
    today = clock.today()
    sign_form = forms.get("sign_form")
    if sign_form is None and svc.may_sign(current_user, contract):
        sign_form = SignForm()
        sign_form.signed_on.data = today
    return {
        "contract": contract,
        "deliveries": [m for m in contract.milestones if m.kind == "delivery"],
        "payments": [m for m in contract.milestones if m.kind == "payment"],
        "received": sum(
            (m.actual_amount or Decimal("0") for m in contract.milestones if m.kind == "payment"),
            Decimal("0.00"),
        ),
        "today": today,
        "amendments": amendments,
        "pending_amendment": next((a for a in amendments if a.status == "pending"), None),
        "versions": versions,
        "diff": svc.version_diff(contract, old, new) if old and new else None,
        "files": attachments_for(contract),
        "may_edit": svc.may_edit(current_user, contract),
        "draft_warnings": (
            svc.draft_warnings(contract) if svc.may_edit(current_user, contract) else []
        ),
        "may_sign": svc.may_sign(current_user, contract),
        "may_run": svc.may_run(current_user, contract),
        "may_terminate": svc.may_terminate(current_user, contract),
        "may_amend": svc.may_amend(current_user, contract),
        "may_archive": svc.may_archive(current_user, contract),
        "sign_form": sign_form,
        "milestone_form": forms.get("milestone_form"),
        "milestone_id": forms.get("milestone_id"),
        "terminate_form": forms.get("terminate_form") or TerminateForm(),
        "confirm": ConfirmForm(),
        "action_error": forms.get("action_error"),
    }


def _version_pair(versions: list[int]) -> tuple[int | None, int | None]:
    """The two versions to compare: ?old=&new= or the last two."""
    try:
        old = int(request.args.get("old", 0)) or None
        new = int(request.args.get("new", 0)) or None
    except ValueError:
        old = new = None
    if old in versions and new in versions:
        return old, new
    if len(versions) >= 2:
        return versions[-2], versions[-1]
    return None, None


@bp.get("/<int:contract_id>")
@require("contracts.view")
def detail(contract_id: int):
    """A contract: parties, terms, review, signing, execution, versions and history."""
    contract = _load(contract_id)
    return render("contracts/detail.html", block="version_diff", **_detail_context(contract))


def _refused_page(contract: Contract, status: int = 422, **forms):
    """The contract's page again (422): the message above (action_error), or the form of
    the action with its problems at their fields (the page of again())."""
    return render("contracts/detail.html", status=status, **_detail_context(contract, **forms))


def _scan_fields(error) -> dict | None:
    """A file that could not be stored is a problem of the scan field."""
    return {None: "scan"} if isinstance(error, AttachmentError) else None


def _contract_action(
    contract: Contract,
    do: Callable[[Contract, Any], Any],
    message: str,
    form: FlaskForm | None = None,
    on_error: Callable[[DomainError, Any], Any] | None = None,
):
    """An action asked on the contract's page, which it comes back to; refused, the page
    again with the reason above (or what `on_error` answers: the action's form with its
    problems)."""
    return record_action(
        contract,
        do,
        message=message,
        then=url_for("contracts.detail", contract_id=contract.id),
        on_error=on_error or again(_refused_page, Contract, contract.id),
        form=form,
    )


def _step(contract_id: int, action: Callable[[Any, Contract, date], Any], message: str):
    """A one-click step of the contract's execution, dated today (act): done, the
    contract's page; refused, the page again with the reason above."""
    return act(
        _refused_page,
        Contract,
        contract_id,
        lambda user, contract: action(user, contract, clock.today()),
        message,
        url_for("contracts.detail", contract_id=contract_id),
    )


@bp.post("/<int:contract_id>/submit")
@require("contracts.draft")
def submit(contract_id: int):
    """Send a draft, returned or withdrawn contract for review."""
    return _contract_action(
        _load(contract_id),
        lambda contract, form: svc.submit_contract(current_user, contract),
        _("Contract %(number)s submitted for review."),
        on_error=lambda error, form: (
            _not_submitted(contract_id, error)
            if isinstance(error, svc.TermsError)
            else again(_refused_page, Contract, contract_id)(error, form)
        ),
    )


def _not_submitted(contract_id: int, error: svc.TermsError):
    """Not complete: the edit form, each missing point at its field."""
    contract = _load(contract_id)
    form = _draft_form(contract, error.problems, warnings=False)
    form.form_errors.append(_("Not submitted for review: complete the points marked below first."))
    edit_url = url_for("contracts.edit", contract_id=contract.id)
    response = _form_page(form, contract, status=422, action_url=edit_url)
    response.headers["HX-Push-Url"] = edit_url
    return response


@bp.post("/<int:contract_id>/sign")
@require("contracts.draft")
def sign(contract_id: int):
    """Mark an approved contract signed: the date and the signed scan."""
    return _contract_action(
        _load(contract_id),
        lambda contract, form: svc.sign_contract(
            current_user, contract, form.signed_on.data, form.scan.data, clock.today()
        ),
        _("Contract %(number)s is signed."),
        form=SignForm(),
        on_error=lambda error, form: _refused_page(
            _load(contract_id), sign_form=put_error(form, error, _scan_fields(error))
        ),
    )


@bp.post("/<int:contract_id>/start")
@require("contracts.view")
def start(contract_id: int):
    """Put a signed contract into execution."""
    return _step(contract_id, svc.start_execution, _("Contract %(number)s is in execution."))


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>")
@require("contracts.view")
def milestone(contract_id: int, milestone_id: int):
    """Record the actual date (and amount received) of a delivery or an instalment."""
    contract = _load(contract_id)
    item = db.session.get(ContractMilestone, milestone_id)
    if item is None or item.contract_id != contract.id:
        abort(404)
    return _contract_action(
        contract,
        lambda contract, form: svc.record_milestone(
            current_user,
            contract,
            item,
            form.actual_date.data,
            form.actual_amount.data,
            form.note.data,
            clock.today(),
        ),
        _("Recorded."),
        form=MilestoneForm(),
        on_error=again(
            _refused_page,
            Contract,
            contract_id,
            form_as="milestone_form",
            milestone_id=milestone_id,
        ),
    )


@bp.post("/<int:contract_id>/complete")
@require("contracts.view")
def complete(contract_id: int):
    """Close a contract whose deliveries and payments are all done."""
    return _step(contract_id, svc.complete_contract, _("Contract %(number)s is completed."))


@bp.post("/<int:contract_id>/terminate")
@require("contracts.view")
def terminate(contract_id: int):
    """End a contract early, with the reason."""
    return _contract_action(
        _load(contract_id),
        lambda contract, form: svc.terminate_contract(
            current_user, contract, form.reason.data, clock.today()
        ),
        _("Contract %(number)s is terminated."),
        form=TerminateForm(),
        on_error=again(_refused_page, Contract, contract_id, form_as="terminate_form"),
    )


# --- amendments ------------------------------------------------------------------------------


def _amend_page(form, contract, status=200):
    form.prefill_products()
    return render(
        "contracts/amend.html",
        block="contract_form",
        status=status,
        form=form,
        contract=contract,
        customer=contract.customer,
        totals=_totals(form),
        action_url=request.path,
    )


@bp.route("/<int:contract_id>/amend", methods=["GET", "POST"])
@require("contracts.draft")
def amend(contract_id: int):
    """Ask to change a signed contract: the reason and the changed terms, for review."""
    contract = _load(contract_id)
    form = AmendmentForm()
    if not svc.may_amend(current_user, contract):
        if request.method == "GET":
            form.load(svc.terms_of(contract))
        if svc.pending_amendment(contract) is not None:
            form.form_errors.append(_("An amendment of this contract is already under review."))
        else:
            form.form_errors.append(_("Only a signed contract in force can be amended."))
        return _amend_page(form, contract, 422)
    if request.method == "GET":
        form.load(svc.terms_of(contract))
        return _amend_page(form, contract)
    if status := _row_action(form):
        return _amend_page(form, contract, status)
    return record_action(
        contract,
        lambda contract, form: svc.request_amendment(
            current_user, contract, form.reason.data or "", form.to_terms()
        ),
        message=lambda amendment: _(
            "Amendment %(number)s submitted for review.", number=amendment.number
        ),
        then=lambda amendment: url_for("contracts.amendment", amendment_id=amendment.id),
        on_error=lambda error, form: _amend_page(_refused(form, error), _load(contract_id), 422),
        form=form,
    )


@bp.get("/amendments/<int:amendment_id>")
@require("contracts.view")
def amendment(amendment_id: int):
    """An amendment: its reason, the changes against the version it amends, its review."""
    item = get_visible_or_404(ContractAmendment, amendment_id, current_user)
    contract = _load(item.contract_id)
    base = next((v for v in contract.versions if v.version == item.from_version), None)
    diff = svc.diff_terms(base.terms if base else {}, item.terms, item.from_version, 0)
    return render("contracts/amendment.html", amendment=item, contract=contract, diff=diff)


# --- archive -----------------------------------------------------------------------------------


@bp.route("/<int:contract_id>/archive", methods=["GET", "POST"])
@require("contracts.archive")
def archive_form(contract_id: int):
    """The service group files a signed contract: archive number, location, the scan."""
    contract = _load(contract_id)
    form = ArchiveForm(obj=None)
    if request.method == "GET":
        form.archive_no.data = contract.archive_no or contract.number.replace("HT", "DA")
        form.location.data = contract.archive_location
        if not svc.may_archive(current_user, contract):
            form.form_errors.append(_("Only a signed contract can be archived."))
            return render("contracts/archive_form.html", contract=contract, form=form, status=422)
        return render("contracts/archive_form.html", contract=contract, form=form)
    return _contract_action(
        contract,
        lambda contract, form: svc.archive_contract(
            current_user,
            contract,
            form.archive_no.data,
            form.location.data,
            form.scan.data,
            clock.today(),
        ),
        _("Contract %(number)s archived."),
        form=form,
        on_error=lambda error, form: render(
            "contracts/archive_form.html",
            block="archive_form",
            contract=_load(contract_id),
            form=put_error(form, error, _scan_fields(error)),
            status=422,
        ),
    )


# --- the PDF -----------------------------------------------------------------------------------


@bp.get("/<int:contract_id>.pdf")
@require("contracts.view")
def pdf(contract_id: int):
    """The contract as a PDF, ready to print and sign."""
    contract = _load(contract_id)
    data = render_pdf(
        "reports/contract.html",
        contract=contract,
        deliveries=[m for m in contract.milestones if m.kind == "delivery"],
        payments=[m for m in contract.milestones if m.kind == "payment"],
        today=clock.today(),
    )
    return pdf_response(data, f"合同-{contract.number}.pdf", fallback=f"{contract.number}.pdf")


# --- the overdue scan --------------------------------------------------------------------------


@daily_command("contracts-scan")
def contracts_scan(today: date) -> str:
    """Notify owners and the marketing manager of overdue deliveries and payments (once)."""
    return f"{svc.scan_overdue(today)} overdue milestones notified"


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(contracts_scan)
    # The owner filter's reps (core/pickers).
    pickers.register(state.app, people_source("contract_owners", lst.owners, ("contracts.view",)))


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P4", nav.NavEntry("contracts.index", _l("Sales contracts"), ("contracts.view",), "doc")
    )
    nav.add(
        "P4",
        nav.NavEntry("contracts.archive", _l("Contract archive"), ("contracts.view",), "doc"),
    )
    # The signed scan arrives through the sign and archive forms only; other files (the
    # customer's letters, delivery notes) may be added by the owner or the service group.
    register_attachable(
        Contract,
        can_edit=lambda user, c: c.owner_id == user.id or "service_agent" in user.role_codes,
    )
    customer_links.register()
