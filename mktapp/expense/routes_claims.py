"""Expense claim views (P6.2): the lists and their export, the form with the live budget
check, the claim's page (receipts, approval, history, payment) and the claim form PDF.

Approving, rejecting, withdrawing and commenting go through the approval engine's
own endpoints (blueprint `approvals`), shown on the claim's page by its panel.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mktapp.core import approvals as engine
from mktapp.core import clock, fragments, nav, pickers
from mktapp.core.actions import act, record_action
from mktapp.core.attachments import attachments_for, register_attachable
from mktapp.core.exports import xlsx_response
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import is_partial, render
from mktapp.core.i18n import money
from mktapp.core.lists import list_page
from mktapp.core.pdf import pdf_response, render_pdf
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.dashboard.services import Panel, register_panel
from mktapp.expense import bp
from mktapp.expense import claims as svc
from mktapp.expense.forms_claims import ClaimFilters, ClaimForm, PaymentForm
from mktapp.models import CATEGORIES, ExpenseClaim
from mktapp.org.picker_sources import people_source


@bp.record_once
def _register_pickers(state) -> None:
    """The people the claim list's applicant filter chooses from (core/pickers)."""
    pickers.register(state.app, people_source("claim_applicants", svc.applicants))


@bp.app_template_filter("cn_amount")
def cn_amount_filter(value) -> str:
    """1234.5 -> 壹仟贰佰叁拾肆元伍角 (the amount in Chinese capitals; app-wide: the
    contract pages and PDFs use it too)."""
    return "" if value is None else svc.amount_in_chinese(value)


# --- lists ---------------------------------------------------------------------------


def _listing(endpoint: str, mine: bool):
    filters = None if mine else ClaimFilters(request.args)  # a name typed is looked up
    query = svc.ClaimQuery.from_args(filters.values(request.args) if filters else request.args)
    export_endpoint = "expense.my_claims_xlsx" if mine else "expense.claims_xlsx"
    return list_page(
        "expense/claims.html",
        "claim_rows",
        query,
        lambda user, query, page_size: svc.list_claims(user, query, page_size, mine=mine),
        url_for(endpoint, **query.args()),
        key=(endpoint, current_user.id if mine else None),
        mine=mine,
        list_endpoint=endpoint,
        export_endpoint=export_endpoint,
        statuses=svc.STATUSES,
        categories=CATEGORIES,
        # The applicant filter (its short list of people), kept rendered like the rows; a
        # name typed but not made out (its message, the matches) is part of the key.
        applicant_filter=""
        if filters is None or is_partial()
        else fragments.cached_block(
            "expense/claims.html",
            "applicant_filter",
            key=(
                query.applicant,
                (filters.applicant.text, tuple(filters.applicant.errors))
                if filters.applicant.errors
                else None,
            ),
            depends=("claims", "people"),
            reader=current_user,
            rules=(ExpenseClaim,),
            context=lambda: {"filters": filters, "list_endpoint": endpoint},
        ),
        may_create=svc.may_claim(current_user),
    )


@bp.get("/claims")
@require()
def claims():
    """Every claim this user may see: filters, search, sort, paging and totals."""
    return _listing("expense.claims", mine=False)


@bp.get("/claims/mine")
@require()
def my_claims():
    """The user's own claims, in every state."""
    return _listing("expense.my_claims", mine=True)


def _export(mine: bool):
    rows = svc.export_rows(current_user, svc.ClaimQuery.from_args(request.args), mine=mine)
    title = _("My claims") if mine else _("Expense claims")
    # CLAIMS.xlsx, with a last row the kit's workbook has not: the total under the amounts.
    columns = svc.CLAIMS.export_columns
    data = [[column.value(claim) for column in columns] for claim in rows]
    if data:
        at = [column.key for column in columns].index("amount")
        total = [""] * at + [sum((claim.amount for claim in rows), Decimal("0.00"))]
        total[at - 1] = _("Total")
        data.append(total)
    header = [str(column.label) for column in columns]
    return xlsx_response(f"{title}-{clock.today():%Y%m%d}.xlsx", [(title, header, data)])


@bp.get("/claims.xlsx")
@require()
def claims_xlsx():
    """The filtered claims list (all pages) as an Excel workbook."""
    return _export(mine=False)


@bp.get("/claims/mine.xlsx")
@require()
def my_claims_xlsx():
    """The user's own claims (filtered) as an Excel workbook."""
    return _export(mine=True)


# --- the form --------------------------------------------------------------------------


def _budget_for(form) -> svc.BudgetCheck | None:
    category = form.category.data
    day = form.incurred_on.data
    if category not in CATEGORIES or not isinstance(day, date):
        return None
    return svc.budget_check(category, day, form.amount.data)


def _form_page(form: ClaimForm, claim: ExpenseClaim | None, status: int = 200):
    form.receipt.description = _(
        "The invoice as a PDF or a picture. Required for claims of more than %(amount)s.",
        amount=money(svc.receipt_threshold()),
    )
    if status == 422 and request.method == "POST" and form.receipt.data:
        form.receipt.description += " " + _("Choose the file again: it was not kept.")
    form.activity_id.choices = [(0, _("— none —"))] + svc.activity_choices(
        current_user, form.activity_id.data
    )
    form.ticket_id.choices = [(0, _("— none —"))] + svc.ticket_choices(
        current_user, form.ticket_id.data
    )
    return render(
        "expense/claim_form.html",
        block="claim_form",
        status=status,
        form=form,
        claim=claim,
        check=_budget_for(form),
        receipts=attachments_for(claim) if claim is not None else [],
        receipt_above=svc.receipt_threshold(),
        hard_stop=svc.hard_stop(),
    )


def _save(form: ClaimForm, claim: ExpenseClaim | None):
    """Validate and write; submit too when the "submit" button was pressed."""
    submit = request.form.get("action") == "submit"
    today = clock.today()

    def write(claim: ExpenseClaim | None, form: ClaimForm) -> ExpenseClaim:
        if claim is None:
            claim = svc.create_claim(current_user, form.to_input(), today)
        else:
            svc.update_claim(current_user, claim, form.to_input(), today)
        if submit:
            svc.submit_claim(current_user, claim, today)
        return claim

    return record_action(
        claim,
        write,
        message=lambda claim: (
            _("Claim %(number)s submitted for approval.", number=claim.number)
            if submit
            else _("Claim %(number)s saved as a draft.", number=claim.number)
        ),
        then=lambda claim: url_for("expense.claim_detail", claim_id=claim.id),
        on_error=lambda error, form: _form_page(_refused(form, claim, error), claim, 422),
        form=form,
    )


def _refused(form: ClaimForm, claim: ExpenseClaim | None, error) -> ClaimForm:
    """The form with what is wrong: the service's complaint at its field; when the fields
    themselves did not validate, the receipt and budget problems too, not only theirs."""
    if not form.errors:
        put_error(form, error)
        return form
    problems, _check = svc.problems_of(
        form.to_input(valid_only=True),
        clock.today(),
        len(attachments_for(claim)) if claim is not None else 0,
        current_user,
    )
    for name, message in problems:
        target = getattr(form, name, None)
        if target is not None and not target.errors:
            target.errors = [message]
    return form


@bp.route("/claims/new", methods=["GET", "POST"])
@require()
def claim_new():
    """Write a claim: save it as a draft, or submit it for approval at once."""
    if not svc.may_claim(current_user):
        abort(403)
    form = ClaimForm()
    if request.method == "GET":
        form.incurred_on.data = clock.today()
        # "Claim an expense for this activity" (the activity's evaluation) preselects it.
        form.activity_id.data = request.args.get("activity", type=int) or 0
        # ... and "claim an expense for this ticket" (the ticket's page) the ticket.
        form.ticket_id.data = request.args.get("ticket", type=int) or 0
        return _form_page(form, None)
    return _save(form, None)


@bp.route("/claims/<int:claim_id>/edit", methods=["GET", "POST"])
@require()
def claim_edit(claim_id: int):
    """Change a draft, returned or withdrawn claim; a claim under review or decided is refused."""
    claim = get_visible_or_404(ExpenseClaim, claim_id, current_user)
    if claim.owner_id != current_user.id:
        abort(403)
    form = ClaimForm(obj=claim) if request.method == "GET" else ClaimForm()
    if request.method == "GET":
        form.activity_id.data = svc.linked_activity_id(claim) or 0
        form.ticket_id.data = svc.linked_ticket_id(claim) or 0
    if not svc.may_edit(current_user, claim):
        form.form_errors.append(
            svc.locked_message(claim)
            if claim.status not in svc.EDITABLE
            else _("This claim is archived.")
        )
        return _form_page(form, claim, 422)
    if request.method == "GET":
        return _form_page(form, claim)
    return _save(form, claim)


@bp.get("/claims/budget")
@require()
def claim_budget():
    """The live budget box of the form: what remains of the category's budget that month
    (for those who write claims: budget figures are business data)."""
    if not svc.may_claim(current_user):
        abort(403)
    category = request.args.get("category", "")
    try:
        day = date.fromisoformat(request.args.get("incurred_on", "").strip())
    except ValueError:
        day = None
    try:
        amount = svc.parse_amount(request.args.get("amount", ""))
    except svc.ClaimError:
        amount = None
    check = None
    if category in CATEGORIES and day is not None and 1990 <= day.year <= 2100:
        check = svc.budget_check(category, day, amount)
    return render_template("expense/_claim_budget.html", check=check, hard_stop=svc.hard_stop())


# --- one claim ----------------------------------------------------------------------------


def _trail(claim: ExpenseClaim) -> list[dict]:
    """Each round of approval with its steps: who was to decide, who did, when, what they said."""
    rounds = []
    for request_ in engine.requests_for(claim):
        steps = [
            {
                "label": engine.step_label(step),
                "assignee": engine.assignee_label(step),
                "status": step.status,
                "by": step.decided_by.display_name if step.decided_by else "",
                "at": step.decided_at,
                "comment": step.comment,
            }
            for step in request_.steps
        ]
        rounds.append(
            {
                "round": request_.round,
                "status": request_.status,
                "submitted_at": request_.submitted_at,
                "decided_at": request_.decided_at,
                "steps": steps,
            }
        )
    return rounds


def _detail_context(claim: ExpenseClaim, pay_form: PaymentForm | None = None) -> dict:
    request_ = engine.current_request(claim)
    step = engine.pending_step(request_)
    if pay_form is None and svc.may_pay(current_user, claim):
        pay_form = PaymentForm()
        pay_form.paid_on.data = clock.today()
    return {
        "claim": claim,
        "receipts": attachments_for(claim),
        "trail": _trail(claim),
        "waiting_on": engine.assignee_label(step) if step else "",
        "waiting_step": engine.step_label(step) if step else "",
        "may_edit": svc.may_edit(current_user, claim),
        "may_pay": svc.may_pay(current_user, claim),
        "pay_form": pay_form,
        "confirm": ConfirmForm(),
        "check": svc.budget_check(claim.category, claim.incurred_on, None),
        "linked_activity": svc.linked_activity(current_user, claim),
        "linked_ticket": svc.linked_ticket(current_user, claim),
    }


@bp.get("/claims/<int:claim_id>")
@require()
def claim_detail(claim_id: int):
    """A claim: its details, receipts, approval, payment and history."""
    return _detail_page(get_visible_or_404(ExpenseClaim, claim_id, current_user))


def _detail_page(claim: ExpenseClaim, status: int = 200, **refusal):
    """The claim's page; again (422) with the reason an action was refused above it (the
    page of act())."""
    return render("expense/claim_detail.html", status=status, **_detail_context(claim), **refusal)


@bp.post("/claims/<int:claim_id>/submit")
@require()
def claim_submit(claim_id: int):
    """Send a draft, returned or withdrawn claim for approval."""
    return act(
        _detail_page,
        ExpenseClaim,
        claim_id,
        lambda user, claim: svc.submit_claim(user, claim, clock.today()),
        _("Claim %(number)s submitted for approval."),
        url_for("expense.claim_detail", claim_id=claim_id),
    )


@bp.post("/claims/<int:claim_id>/pay")
@require("expense.pay")
def claim_pay(claim_id: int):
    """Finance records the payment of an approved claim: date and reference.

    The claim's page and the payments queue (from=queue) both post here."""
    claim = get_visible_or_404(ExpenseClaim, claim_id, current_user)
    from_queue = request.form.get("from") == "queue"

    def refused(error, form: PaymentForm):
        put_error(form, error)
        if from_queue:
            return _payments_page(failed=claim, pay_form=form, status=422)
        context = _detail_context(claim, pay_form=form)
        context["may_pay"] = True
        return render("expense/claim_detail.html", block="claim_payment", status=422, **context)

    return record_action(
        claim,
        lambda claim, form: svc.record_payment(
            current_user, claim, form.paid_on.data, form.reference.data, clock.today()
        ),
        message=_("Payment of %(number)s recorded."),
        then=url_for("expense.payments")
        if from_queue
        else url_for("expense.claim_detail", claim_id=claim.id),
        on_error=refused,
        form=PaymentForm(),
    )


# --- finance: payments waiting -------------------------------------------------------------


def _payments_page(failed: ExpenseClaim | None = None, pay_form=None, status: int = 200):
    query = svc.PaymentQuery.from_args(request.args)
    queue = svc.payment_queue(current_user, query, current_app.config["PAGE_SIZE"])
    if failed is not None and all(c.id != failed.id for c in queue.rows):
        failed = None  # paid or withdrawn meanwhile: the list no longer has it
    return render(
        "expense/claim_payments.html",
        block="payment_queue",
        status=status,
        queue=queue,
        today=clock.today(),
        failed_id=failed.id if failed is not None else None,
        pay_form=pay_form,
    )


@bp.get("/payments")
@require("expense.pay")
def payments():
    """Finance's 待付款: approved claims not paid yet, with the total; pay each from here."""
    return _payments_page()


@bp.get("/payments/count")
@require("expense.pay")
def payments_count():
    """The sidebar's count of approved claims waiting for payment (polled)."""
    n = svc.payment_queue_count(current_user)
    return nav.badge_response("expense.payments_count", n, _("%(n)s to pay", n=n))


@bp.post("/claims/<int:claim_id>/archive")
@require()
def claim_archive(claim_id: int):
    """Archive a draft that will not be submitted (it is kept, not deleted)."""
    return act(
        _detail_page,
        ExpenseClaim,
        claim_id,
        svc.archive_claim,
        _("Claim %(number)s archived."),
        url_for("expense.my_claims"),
    )


@bp.get("/claims/<int:claim_id>.pdf")
@require()
def claim_pdf(claim_id: int):
    """The claim form (报销单) as a PDF, with its receipts and approval trail."""
    claim = get_visible_or_404(ExpenseClaim, claim_id, current_user)
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    data = render_pdf(
        "reports/claim_form.html",
        claim=claim,
        department=svc.department_of(claim.owner),
        receipts=attachments_for(claim),
        trail=_trail(claim),
        events=engine.timeline(claim),
        today=clock.today(),
        submitted_on=svc.local_date_of(claim.submitted_at, tz),
    )
    return pdf_response(data, f"报销单-{claim.number}.pdf", fallback=f"{claim.number}.pdf")


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P6",
        nav.NavEntry(
            "expense.claims", nav._l("Expense claims"), icon="money", when=svc.may_see_claims
        ),
    )
    nav.add(
        "P6", nav.NavEntry("expense.my_claims", nav._l("My claims"), icon="doc", when=svc.may_claim)
    )
    nav.add(
        "P6",
        nav.NavEntry(
            "expense.payments",
            nav._l("Awaiting payment"),
            permissions=("expense.pay",),
            icon="money",
            badge="expense.payments_count",
        ),
    )
    # Finance's workbench shows the payments waiting, with their total.
    register_panel(
        Panel(
            key="payments",
            title=_l("Awaiting payment"),
            template="expense/claim_payments_card.html",
            load=lambda me, user: {"queue": svc.payment_queue(user, page_size=5)},
            permissions=("expense.pay",),
            order=10,
        )
    )
    # Receipts are attached through the claim's own form, which accepts only PDF and
    # pictures; the general upload endpoint (which also takes Office files) is closed
    # to claims, so a receipt cannot arrive by another door.
    register_attachable(ExpenseClaim, can_edit=lambda user, claim: False)
