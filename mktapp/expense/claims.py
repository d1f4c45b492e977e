"""Expense claims (P6.2): 报销申请, their approval flow, payment, the list and the claim form.

A claim is written by its applicant (the owner) as a draft, numbered BX-<year>-NNNN
when created, and submitted to the approval engine: department head -> finance ->
company leader (from a configurable amount) -> approved -> paid (finance records
the payment). The engine's hooks below are the only place a claim's status moves
on approval events. A claim under review, approved or paid is immutable.

Services take the acting user and plain data and raise ClaimError (with the field
it concerns) for the route to show; they never touch the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import joinedload, lazyload

from mktapp.core import approvals as engine
from mktapp.core import clock, settings, vocab
from mktapp.core.attachments import UploadRejected, attachments_for, check_upload, save_upload
from mktapp.core.audit import record_label
from mktapp.core.audit_display import describe, with_record
from mktapp.core.errors import DomainError
from mktapp.core.i18n import amount_in_chinese, money  # noqa: F401  (amount_in_chinese: re-exported)
from mktapp.core.lists import (
    EXPORT_LIMIT,
    Cached,
    Column,
    Filter,
    ListPage,
    ListSpec,
    contains,
    flag,
    integer,
    iso_date,
    one_of,
)
from mktapp.core.money import CENT, MAX_AMOUNT
from mktapp.core.notify import notify
from mktapp.core.numbering import next_number
from mktapp.core.permissions import can, visible
from mktapp.core.vocab import Vocabulary
from mktapp.expense import monitoring
from mktapp.expense.common import budget_remaining
from mktapp.extensions import db
from mktapp.models import (
    CATEGORIES,
    PAYMENT_METHODS,
    Activity,
    Customer,
    ExpenseClaim,
    Group,
    Ticket,
    User,
    utcnow,
)

STATUSES = Vocabulary(
    "claim_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
        "paid": _l("Paid"),
    },
)
STEP_STATUSES = Vocabulary(
    "claim_step_status",
    {
        "waiting": _l("Not reached yet"),
        "pending": _l("Waiting for a decision"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
        "skipped": _l("Not needed"),
        "cancelled": _l("Cancelled"),
    },
)
ROUND_STATUSES = Vocabulary(
    "claim_round_status",
    {
        "pending": _l("Under review"),
        "approved": _l("Approved"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
    },
)
# Who may change a claim: its applicant, while it is not under review or decided.
EDITABLE = frozenset({"draft", "rejected", "withdrawn"})
RECEIPT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})

# --- settings ---------------------------------------------------------------------

GROUP = _l("Marketing expenses")
RECEIPT_ABOVE = settings.SettingSpec(
    "expense.receipt_required_above",
    _l("Receipt required above"),
    Decimal("500.00"),
    kind="money",
    help=_l("Claims of more than this amount cannot be saved without a receipt."),
    group=GROUP,
)
LEADER_THRESHOLD = settings.SettingSpec(
    "expense.leader_threshold",
    _l("Company leader approves from"),
    Decimal("0.00"),
    kind="money",
    help=_l("Claims of this amount or more also go to the company leader; 0 means every claim."),
    group=GROUP,
)
HARD_STOP = settings.SettingSpec(
    "expense.hard_stop_over_budget",
    _l("Refuse claims over budget"),
    False,
    kind="bool",
    help=_l(
        "When on, a claim that exceeds what remains of its category's monthly budget "
        "cannot be saved; when off, it needs a written justification."
    ),
    group=GROUP,
)


# --- errors -------------------------------------------------------------------------


class ClaimError(DomainError):
    """Something a user asked of a claim that cannot be done; str() is the message."""


class ClaimLocked(ClaimError):
    """The claim is under review, approved or paid: it cannot be changed."""


class NotAllowed(ClaimError):
    status = 403


# --- small rules ----------------------------------------------------------------------


category_label = CATEGORIES.label
method_label = PAYMENT_METHODS.label
status_label = STATUSES.label
step_status_label = STEP_STATUSES.label
round_status_label = ROUND_STATUSES.label


def may_claim(user) -> bool:
    """Anyone with a business role may claim expenses (an administrator alone may not)."""
    return bool(getattr(user, "is_authenticated", False) and (user.role_codes - {"admin"}))


def may_see_claims(user) -> bool:
    """Whether the claims list means anything to this user (not to an administrator alone)."""
    return may_claim(user)


def may_edit(user, claim: ExpenseClaim) -> bool:
    return claim.owner_id == user.id and claim.status in EDITABLE and not claim.is_archived


def may_pay(user, claim: ExpenseClaim) -> bool:
    return can(user, "expense.pay") and claim.status == "approved" and not claim.is_archived


def locked_message(claim: ExpenseClaim) -> str:
    if claim.status == "pending":
        return _("This claim is under review and cannot be changed. Withdraw it first.")
    if claim.status == "paid":
        return _("This claim has been paid and cannot be changed. Write a new claim instead.")
    return _("This claim has been approved and cannot be changed. Write a new claim instead.")


def parse_amount(raw: Any) -> Decimal:
    """A money amount typed by a person ("1,234.50", "¥88") as Decimal; ClaimError if not one."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    text = text.lstrip("¥￥").strip()
    if not text:
        raise ClaimError(_("Enter the amount."), "amount")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ClaimError(_("Enter the amount as a number, like 1234.50."), "amount") from None
    return check_amount(value)


def check_amount(value: Decimal) -> Decimal:
    """An amount a claim may carry: finite, more than 0, at most two decimals, below ¥10¹²."""
    if not value.is_finite():
        raise ClaimError(_("Enter the amount as a number, like 1234.50."), "amount")
    if value <= 0:
        raise ClaimError(_("The amount must be more than zero."), "amount")
    if value >= MAX_AMOUNT:
        raise ClaimError(_("The amount must be less than ¥1,000,000,000,000."), "amount")
    if value != value.quantize(CENT):
        raise ClaimError(_("Use at most two decimals (yuan and fen)."), "amount")
    return value.quantize(CENT)


def receipt_threshold() -> Decimal:
    return settings.get(RECEIPT_ABOVE.key)


def leader_threshold() -> Decimal:
    return settings.get(LEADER_THRESHOLD.key)


def hard_stop() -> bool:
    return bool(settings.get(HARD_STOP.key))


def needs_leader(claim: ExpenseClaim) -> bool:
    return claim.amount >= leader_threshold()


def _leader_when_label() -> str:
    threshold = leader_threshold()
    if threshold <= 0:
        return _("Every claim")
    return _("Claims of %(amount)s or more", amount=money(threshold))


# --- the Chinese capital amount (大写) -------------------------------------------------

# --- the approval flow -------------------------------------------------------------------


def on_submitted(claim: ExpenseClaim, actor: User) -> None:
    _scan_for_anomalies(claim)


def on_approved(claim: ExpenseClaim, actor: User) -> None:
    _scan_for_anomalies(claim)


def _scan_for_anomalies(claim: ExpenseClaim) -> None:
    """Look for spending anomalies where the figures change: a claim under review counts as
    committed (duplicate invoices, split claims), an approved one as actual (over budget,
    outliers). Payment changes no figure; a return or a withdrawal only removes findings."""

    monitoring.scan(claim.incurred_on.year)


def claim_title(claim: ExpenseClaim) -> str:
    reason = " ".join((claim.reason or "").split())
    return f"报销 {claim.number} · {money(claim.amount)} · {reason[:40]}"


FLOW = engine.Flow(
    doc_type="ExpenseClaim",
    model=ExpenseClaim,
    label=_l("Expense claim"),
    steps=[
        engine.Step("head", _l("Department head"), "group_leader"),
        engine.Step("finance", _l("Finance"), "finance"),
        engine.Step(
            "leader",
            _l("Company leader"),
            "executive",
            when=needs_leader,
            when_label=LazyString(_leader_when_label),
        ),
    ],
    endpoint="expense.claim_detail",
    id_arg="claim_id",
    applicant=lambda claim: claim.owner,
    title=claim_title,
    review=engine.STANDARD_REVIEW,  # then the budget is scanned
    on_submitted=on_submitted,
    on_approved=on_approved,
    settings=[LEADER_THRESHOLD.key, RECEIPT_ABOVE.key, HARD_STOP.key],
)

# --- the budget check -----------------------------------------------------------------------


@dataclass
class BudgetCheck:
    category: str
    year: int
    month: int
    budget: Decimal
    spent: Decimal
    remaining: Decimal
    amount: Decimal | None

    @property
    def after(self) -> Decimal | None:
        return None if self.amount is None else self.remaining - self.amount

    @property
    def over(self) -> bool:
        return self.amount is not None and self.amount > self.remaining

    @property
    def has_budget(self) -> bool:
        return self.budget > 0

    @property
    def used_percent(self) -> int:
        if self.budget <= 0:
            return 100
        spent = self.spent + (self.amount or 0)
        return max(0, min(100, int(spent * 100 / self.budget)))


def budget_check(category: str, incurred_on: date, amount: Decimal | None) -> BudgetCheck:
    budget, spent, remaining = budget_remaining(category, incurred_on.year, incurred_on.month)
    return BudgetCheck(
        category, incurred_on.year, incurred_on.month, budget, spent, remaining, amount
    )


# --- writing claims ---------------------------------------------------------------------------


@dataclass
class ClaimInput:
    category: str | None
    amount: Decimal | None
    incurred_on: date | None
    reason: str | None
    payment_method: str | None
    payee_account: str = ""
    invoice_number: str = ""
    over_budget_reason: str = ""
    receipts: list[Any] = field(default_factory=list)  # uploaded files (FileStorage)
    # What it paid for: a market activity's id or an after-sales ticket's, not both
    # (0 or None: nothing linked).
    activity_id: int | None = None
    ticket_id: int | None = None


# --- what a claim paid for (a market activity) ----------------------------------------------

# The activities offered in the form: planned and carried out, newest first.
LINKABLE_STATUSES = ("approved", "running", "ended", "evaluated")


def linked_activity_id(claim: ExpenseClaim | None) -> int | None:
    if claim is None or claim.link_type != "activity":
        return None
    return claim.link_id


def activity_choices(user: User, current: int | None = None) -> list[tuple[int, str]]:
    """(id, "number theme") of the activities a claim may be linked to (and the current one)."""
    stmt = (
        visible(select(Activity.id, Activity.number, Activity.theme), user, Activity)
        .where(
            Activity.archived_at.is_(None),
            or_(Activity.status.in_(LINKABLE_STATUSES), Activity.id == (current or 0)),
        )
        .order_by(Activity.start_on.desc(), Activity.id.desc())
        .limit(200)
    )
    return [(aid, f"{number} {theme}") for aid, number, theme in db.session.execute(stmt)]


def linked_activity(user: User, claim: ExpenseClaim) -> Activity | None:
    """The market activity a claim paid for, if the user may see it."""
    activity_id = linked_activity_id(claim)
    if not activity_id:
        return None
    return db.session.scalar(
        visible(select(Activity), user, Activity).where(Activity.id == activity_id)
    )


def activity_problem(user: User | None, activity_id: int | None) -> str | None:
    """Why a claim cannot be linked to that activity (None: it can, or none is chosen)."""
    if not activity_id:
        return None
    stmt = select(Activity.status).where(Activity.id == activity_id, Activity.archived_at.is_(None))
    if user is not None:
        stmt = visible(stmt, user, Activity)
    status = db.session.scalar(stmt)
    if status is None:
        return _("Choose a market activity from the list.")
    if status == "cancelled":
        return _("This market activity was cancelled: a claim cannot be linked to it.")
    return None


# --- what a claim paid for (an after-sales ticket, P5.5) ---------------------------------------

# The tickets offered in the form: a select stays within 50 options ("— none —" is one);
# beyond that, the newest open or recently closed ones (and the claim's own).
TICKET_CHOICES = 49
RECENTLY_CLOSED_DAYS = 90


def linked_ticket_id(claim: ExpenseClaim | None) -> int | None:
    if claim is None or claim.link_type != "ticket":
        return None
    return claim.link_id


def ticket_choices(user: User, current: int | None = None) -> list[tuple[int, str]]:
    """(id, "SH-2026-0007 · customer · subject") of the tickets the user sees, newest first:
    all of them when few; else the newest open or recently closed ones; the current one too.

    Each query walks the tickets newest first (ix_tickets_received) and stops at the limit."""
    cutoff = clock.now() - timedelta(days=RECENTLY_CLOSED_DAYS)
    current = current if current and current > 0 else None
    columns = visible(
        select(Ticket.id, Ticket.number, Customer.name, Ticket.title, Ticket.received_at).join(
            Customer, Customer.id == Ticket.customer_id
        ),
        user,
        Ticket,
    )
    newest = (Ticket.received_at.desc(), Ticket.id.desc())
    live = or_(Ticket.status != "closed", Ticket.closed_at >= cutoff)
    closed_long_ago = and_(
        Ticket.status == "closed", or_(Ticket.closed_at.is_(None), Ticket.closed_at < cutoff)
    )
    rows = list(db.session.execute(columns.where(live).order_by(*newest).limit(TICKET_CHOICES)))
    if len(rows) < TICKET_CHOICES:  # few open ones: the newest of those closed long ago too
        rows += db.session.execute(
            columns.where(closed_long_ago).order_by(*newest).limit(TICKET_CHOICES - len(rows))
        )
    if current is not None and all(row.id != current for row in rows):
        extra = list(db.session.execute(columns.where(Ticket.id == current)))
        rows = rows[: TICKET_CHOICES - len(extra)] + extra
    rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
    return [(row.id, ticket_choice_label(row.number, row.name, row.title)) for row in rows]


def ticket_choice_label(number: str, customer: str, title: str) -> str:
    title = title if len(title) <= 40 else title[:39] + "…"
    return f"{number} · {customer} · {title}"


def linked_ticket(user: User, claim: ExpenseClaim) -> Ticket | None:
    """The after-sales ticket a claim paid for, if the user may see it."""
    ticket_id = linked_ticket_id(claim)
    if not ticket_id:
        return None
    return db.session.scalar(visible(select(Ticket), user, Ticket).where(Ticket.id == ticket_id))


def ticket_problem(user: User | None, ticket_id: int | None) -> str | None:
    """Why a claim cannot be linked to that ticket (None: it can, or none is chosen)."""
    if not ticket_id:
        return None
    stmt = select(Ticket.id).where(Ticket.id == ticket_id)
    if user is not None:
        stmt = visible(stmt, user, Ticket)
    if db.session.scalar(stmt) is None:
        return _("Choose a ticket from the list.")
    return None


def link_problems(user: User | None, data: ClaimInput) -> list[tuple[str, str]]:
    """What is wrong with what the claim says it paid for: one activity or one ticket."""
    if data.activity_id and data.ticket_id:
        return [
            (
                "ticket_id",
                _(
                    "A claim pays for one thing: choose a market activity or an after-sales "
                    "ticket, not both."
                ),
            )
        ]
    problems = []
    for name, problem in (
        ("activity_id", activity_problem(user, data.activity_id)),
        ("ticket_id", ticket_problem(user, data.ticket_id)),
    ):
        if problem:
            problems.append((name, problem))
    return problems


@with_record
def _paid_for(raw: Any, claim_number: str) -> str:
    """A claim's link_id in its history: the record of the claim's kind of link.

    The log keeps the id alone (the audit display names one record type per id column),
    so the kind is the claim's kind now: a claim that moved from an activity to a ticket
    reads its earlier id as a ticket too. One look-up per claim and page (g); the record
    itself comes from the session's identity map when seen already."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        return str(raw)
    kinds = g.setdefault("claim_link_kinds", {}) if has_app_context() else {}
    if claim_number not in kinds:
        kinds[claim_number] = db.session.scalar(
            select(ExpenseClaim.link_type).where(ExpenseClaim.number == claim_number)
        )
    model = Ticket if kinds[claim_number] == "ticket" else Activity
    record = db.session.get(model, raw, options=[lazyload("*")])
    return record_label(record) if record is not None else f"#{raw}"


def _check_receipt(file_storage: Any) -> None:

    try:
        content_type = check_upload(file_storage)
    except UploadRejected as error:
        raise ClaimError(error.message, "receipt") from None
    if content_type not in RECEIPT_TYPES:
        raise ClaimError(
            _(
                "A receipt must be a PDF or a picture (PNG, JPEG, GIF, WebP). "
                "Office documents are not accepted as receipts: scan or photograph the invoice."
            ),
            "receipt",
        )


def problems_of(
    data: ClaimInput, today: date, existing_receipts: int, user: User | None = None
) -> tuple[list[tuple[str, str]], BudgetCheck | None]:
    """Everything wrong with a claim, as (field, message) pairs, and its budget check.

    Fields that are None (not understood by the form) are skipped, so a form that
    failed its own checks can still show the receipt and budget problems at once.
    """
    problems: list[tuple[str, str]] = []
    if data.category is not None and data.category not in CATEGORIES:
        problems.append(("category", _("Choose a category from the list.")))
    if data.payment_method is not None and data.payment_method not in PAYMENT_METHODS:
        problems.append(("payment_method", _("Choose a payment method from the list.")))
    amount = data.amount
    if amount is not None:
        try:
            check_amount(amount)
        except ClaimError as error:
            problems.append(("amount", error.message))
            amount = None
    if data.incurred_on is not None and data.incurred_on > today:
        problems.append(
            (
                "incurred_on",
                _("The date incurred cannot be in the future (today is %(today)s).", today=today),
            )
        )
    if data.reason is not None and not data.reason.strip():
        problems.append(("reason", _("Say what the money was spent on.")))
    problems.extend(link_problems(user, data))
    for upload in data.receipts:
        try:
            _check_receipt(upload)
        except ClaimError as error:
            problems.append(("receipt", error.message))
    threshold = receipt_threshold()
    if amount is not None and amount > threshold and existing_receipts + len(data.receipts) == 0:
        problems.append(
            (
                "receipt",
                _(
                    "Claims of more than %(amount)s need a receipt: attach the invoice as a PDF "
                    "or a picture.",
                    amount=money(threshold),
                ),
            )
        )
    check = None
    if (
        amount is not None
        and data.category in CATEGORIES
        and data.incurred_on is not None
        and data.incurred_on <= today
    ):
        check = budget_check(data.category, data.incurred_on, amount)
        month = f"{check.year}-{check.month:02d}"
        if check.over and hard_stop():
            problems.append(
                (
                    "amount",
                    _(
                        "This claim exceeds the budget of %(category)s for %(month)s: "
                        "%(remaining)s remains. Claims over budget are not accepted; ask the "
                        "marketing manager to adjust the budget first.",
                        category=category_label(data.category),
                        month=month,
                        remaining=money(check.remaining),
                    ),
                )
            )
        elif check.over and not (data.over_budget_reason or "").strip():
            problems.append(
                (
                    "over_budget_reason",
                    _(
                        "This claim exceeds what remains of the budget (%(remaining)s): "
                        "explain why it is needed.",
                        remaining=money(check.remaining),
                    ),
                )
            )
    return problems, check


def _validate(
    data: ClaimInput, today: date, existing_receipts: int, user: User | None = None
) -> BudgetCheck:
    problems, check = problems_of(data, today, existing_receipts, user)
    if problems:
        raise ClaimError(problems[0][1], problems[0][0], problems=problems)
    return check


def _apply(claim: ExpenseClaim, data: ClaimInput, over: bool) -> None:
    claim.category = data.category
    claim.amount = data.amount
    claim.incurred_on = data.incurred_on
    claim.reason = data.reason.strip()
    claim.payment_method = data.payment_method
    claim.payee_account = (data.payee_account or "").strip()
    claim.invoice_number = (data.invoice_number or "").strip()
    claim.over_budget_reason = (data.over_budget_reason or "").strip() if over else ""
    if data.ticket_id:
        claim.link_type, claim.link_id = "ticket", data.ticket_id
    elif data.activity_id:
        claim.link_type, claim.link_id = "activity", data.activity_id
    else:
        claim.link_type, claim.link_id = "", None


def create_claim(actor: User, data: ClaimInput, today: date) -> ExpenseClaim:
    """A new draft claim by `actor`, numbered BX-<this year>-NNNN, with its receipts."""
    if not may_claim(actor):
        raise NotAllowed(_("Only staff with a business role can claim expenses."))
    check = _validate(data, today, existing_receipts=0, user=actor)
    claim = ExpenseClaim(owner_id=actor.id, status="draft", number=next_number("BX", today.year))
    claim.owner = actor
    _apply(claim, data, check.over)
    db.session.add(claim)
    db.session.flush()
    for upload in data.receipts:
        save_upload(upload, claim, actor)
    return claim


def update_claim(actor: User, claim: ExpenseClaim, data: ClaimInput, today: date) -> ExpenseClaim:
    """Change a draft, returned or withdrawn claim (its applicant only)."""
    ensure_editable(actor, claim)
    check = _validate(data, today, existing_receipts=len(attachments_for(claim)), user=actor)
    _apply(claim, data, check.over)
    for upload in data.receipts:
        save_upload(upload, claim, actor)
    return claim


def ensure_editable(actor: User, claim: ExpenseClaim) -> None:
    if claim.status not in EDITABLE:
        raise ClaimLocked(locked_message(claim))
    if claim.owner_id != actor.id:
        raise NotAllowed(_("Only the applicant may change this claim."))
    if claim.is_archived:
        raise ClaimLocked(_("This claim is archived."))


def submit_claim(actor: User, claim: ExpenseClaim, today: date):
    """Send a claim into the approval flow (again, after a return); checks it once more first."""
    ensure_editable(actor, claim)
    data = ClaimInput(
        category=claim.category,
        amount=claim.amount,
        incurred_on=claim.incurred_on,
        reason=claim.reason,
        payment_method=claim.payment_method,
        payee_account=claim.payee_account,
        invoice_number=claim.invoice_number,
        over_budget_reason=claim.over_budget_reason,
        activity_id=linked_activity_id(claim),
        ticket_id=linked_ticket_id(claim),
    )
    try:
        _validate(data, today, existing_receipts=len(attachments_for(claim)), user=actor)
    except ClaimError as error:
        raise ClaimError(
            _("Edit the claim before submitting it: %(problem)s", problem=error.message),
            error.field,
            problems=[
                (field, _("Edit the claim before submitting it: %(problem)s", problem=message))
                for field, message in error.problems
            ],
        ) from None
    return engine.submit(claim, actor)


def record_payment(actor: User, claim: ExpenseClaim, paid_on: date, reference: str, today: date):
    """Finance records that an approved claim was paid: date and payment reference."""
    if not can(actor, "expense.pay"):
        raise NotAllowed(_("Only finance records payments."))
    if claim.status == "paid":
        raise ClaimError(_("This claim has already been paid."), "paid_on", status=409)
    if claim.status != "approved":
        raise ClaimError(_("Only an approved claim can be paid."), "paid_on")
    if paid_on > today:
        raise ClaimError(_("The payment date cannot be in the future."), "paid_on")
    if claim.approved_at is not None and paid_on < _local_date(claim.approved_at):
        raise ClaimError(_("The payment date cannot be before the approval."), "paid_on")
    reference = (reference or "").strip()
    if not reference:
        raise ClaimError(
            _("Enter the payment reference (bank slip or voucher number)."), "reference"
        )
    claim.status = "paid"
    claim.paid_on = paid_on
    claim.payment_reference = reference[:80]
    claim.paid_by_id = actor.id

    if claim.owner is not None:
        notify(
            claim.owner,
            _("Paid: %(title)s", title=claim_title(claim)),
            url=FLOW.url(claim.id),
        )
    return claim


def _local_date(moment: datetime) -> date:

    return moment.astimezone(ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))).date()


def archive_claim(actor: User, claim: ExpenseClaim) -> None:
    """Archive a draft (kept, not deleted); only drafts that were never submitted."""
    if claim.owner_id != actor.id:
        raise NotAllowed(_("Only the applicant may archive this claim."))
    if claim.status != "draft":
        raise ClaimError(_("Only a draft can be archived."))
    if claim.archived_at is None:
        claim.archived_at = utcnow()


# --- lists -----------------------------------------------------------------------------------

CLAIMS = ListSpec(
    "claim",
    columns=[
        Column("number", _l("No."), lambda c: c.number, sort=ExpenseClaim.number),
        # The date is second on screen, but the workbook keeps it seventh, after the amount
        # (sixth), as it always had them: so it is declared twice, for the table here and
        # for the workbook after the amount.
        Column("date", _l("Date incurred"), sort=ExpenseClaim.incurred_on, export=False),
        Column(
            "applicant",
            _l("Applicant"),
            lambda c: c.owner.display_name if c.owner else "",
            sort=User.display_name,
        ),
        Column("department", _l("Department"), lambda c: department_of(c.owner), screen=False),
        Column(
            "category",
            _l("Category"),
            lambda c: category_label(c.category),
            sort=ExpenseClaim.category,
        ),
        Column("reason", _l("Reason"), lambda c: c.reason),
        Column("amount", _l("Amount"), lambda c: c.amount, sort=ExpenseClaim.amount, cls="num"),
        Column("incurred_on", _l("Date incurred"), lambda c: c.incurred_on, screen=False),
        Column("status", _l("Status"), lambda c: status_label(c.status), sort=ExpenseClaim.status),
        Column(
            "method", _l("Payment method"), lambda c: method_label(c.payment_method), screen=False
        ),
        Column("payee", _l("Payee account"), lambda c: c.payee_account, screen=False),
        Column("invoice", _l("Invoice number"), lambda c: c.invoice_number, screen=False),
        Column("submitted", _l("Submitted"), lambda c: c.submitted_at, screen=False),
        Column("approved", _l("Approved"), lambda c: c.approved_at, screen=False),
        Column("paid_on", _l("Paid on"), lambda c: c.paid_on, screen=False),
        Column("reference", _l("Payment reference"), lambda c: c.payment_reference, screen=False),
        Column(
            "over_budget",
            _l("Reason for exceeding the budget"),
            lambda c: c.over_budget_reason,
            screen=False,
        ),
    ],
    filters=[
        Filter("status", one_of(*STATUSES)),
        Filter("category", one_of(*CATEGORIES)),
        Filter("applicant", integer, default=None),
        Filter("date_from", iso_date, arg="from", default=None),
        Filter("date_to", iso_date, arg="to", default=None),
        Filter("archived", flag, default=False),
    ],
    default_sort="date",
    default_dir="desc",
    tie=ExpenseClaim.id,
    sorts={"created": ExpenseClaim.created_at},
    # The rows and totals, kept rendered until a claim or a person changes (bench/
    # expense.py: 0.56 of a bare page with the cache, 0.17 without).
    cache=Cached(depends=("claims", "people"), rules=(ExpenseClaim,)),
)
ClaimQuery = CLAIMS.Query


def _filtered(user: User, query, mine: bool):
    stmt = visible(select(ExpenseClaim), user, ExpenseClaim)
    conditions = [
        ExpenseClaim.archived_at.is_not(None)
        if query.archived
        else ExpenseClaim.archived_at.is_(None)
    ]
    if mine:
        conditions.append(ExpenseClaim.owner_id == user.id)
    if query.status:
        conditions.append(ExpenseClaim.status == query.status)
    if query.category:
        conditions.append(ExpenseClaim.category == query.category)
    if query.applicant and not mine:
        conditions.append(ExpenseClaim.owner_id == query.applicant)
    if query.date_from:
        conditions.append(ExpenseClaim.incurred_on >= query.date_from)
    if query.date_to:
        conditions.append(ExpenseClaim.incurred_on <= query.date_to)
    if query.q:
        conditions.append(
            contains(
                query.q,
                ExpenseClaim.number,
                ExpenseClaim.reason,
                ExpenseClaim.invoice_number,
                cast(ExpenseClaim.amount, String),
            )
        )
    return stmt.where(*conditions)


def _ordered(stmt, query):
    """In the query's order; the applicant's name to sort by is joined here, not in the
    filtered statement the totals are read from."""
    return CLAIMS.ordered(stmt.join(User, User.id == ExpenseClaim.owner_id), query)


def list_claims(user: User, query, page_size: int, mine: bool = False) -> ListPage:
    """One page of the claims this user may see, with totals of the whole filtered set
    (`page.amount`, and `page.by_status`: status, count, amount).

    Two queries whatever the page: the totals by status, and the page's rows with
    their applicants and groups. (CLAIMS.page would count in a statement of its own;
    the count here comes with the totals by status.)
    """
    base = _filtered(user, query, mine)
    # The filters as plain WHERE conditions (no `id IN (subquery)`), so the totals can be
    # read from the index ix_expense_claims_status_list (a covering index) alone.
    totals = db.session.execute(
        base.with_only_columns(
            ExpenseClaim.status,
            func.count(ExpenseClaim.id),
            func.coalesce(func.sum(ExpenseClaim.amount), 0),
        ).group_by(ExpenseClaim.status)
    ).all()
    by_status = [
        (status, count, Decimal(str(amount)).quantize(CENT))
        for status, count, amount in sorted(totals, key=lambda t: list(STATUSES).index(t[0]))
        if status in STATUSES
    ]
    total = sum(count for _s, count, _a in by_status)
    page = min(query.page, max(1, ceil(total / page_size)))
    rows = db.session.scalars(
        _ordered(base, query)
        .options(
            # The applicants' names and groups; not their roles (the list does not show
            # them, and User.roles would otherwise be loaded by one more query).
            joinedload(ExpenseClaim.owner).options(joinedload(User.group), lazyload(User.roles))
        )
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    result = ListPage(list(rows.unique()), total, page, page_size, {})
    result.amount = sum((a for _s, _c, a in by_status), Decimal("0.00"))
    result.by_status = by_status
    return result


# The queue is a list of items with a payment form each, not a table: its columns name
# what an item shows (there is no table head and no export).
PAYMENTS = ListSpec(
    "payment",
    columns=[
        Column("number", _l("No."), lambda c: c.number),
        Column("applicant", _l("Applicant"), lambda c: c.owner.display_name if c.owner else ""),
        Column("reason", _l("Reason"), lambda c: c.reason),
        Column("amount", _l("Amount"), lambda c: c.amount, cls="num"),
    ],
    # Paid in the order they were approved: the longest waiting first.
    default_sort="approved",
    tie=ExpenseClaim.id,
    sorts={"approved": ExpenseClaim.approved_at},
)
PaymentQuery = PAYMENTS.Query


def _to_pay(user: User):
    return visible(select(ExpenseClaim), user, ExpenseClaim).where(
        ExpenseClaim.status == "approved", ExpenseClaim.archived_at.is_(None)
    )


def payment_queue(user: User, query=None, page_size: int = 25) -> ListPage:
    """Finance's 待付款 list: approved, unpaid claims the user may see, longest-waiting
    first, with the count and total of all of them (`page.amount`; two queries)."""
    page = PAYMENTS.page(
        _to_pay(user),
        query or PaymentQuery(),
        page_size,
        totals={"amount": "amount"},
        options=[
            joinedload(ExpenseClaim.owner).options(joinedload(User.group), lazyload(User.roles))
        ],
        unique=True,
    )
    page.amount = Decimal(str(page.totals["amount"])).quantize(CENT)
    return page


def payment_queue_count(user: User) -> int:
    """How many approved claims wait for payment (the sidebar's badge)."""
    return db.session.scalar(_to_pay(user).with_only_columns(func.count(ExpenseClaim.id))) or 0


def export_rows(user: User, query, mine: bool = False, limit: int = EXPORT_LIMIT):
    """Every claim of the filtered list (not only one page), for the .xlsx export."""
    stmt = _filtered(user, query, mine).join(User, User.id == ExpenseClaim.owner_id)
    return CLAIMS.export_rows(
        stmt.options(joinedload(ExpenseClaim.owner).joinedload(User.group)), query, limit
    )


def applicants(user: User):
    """People whose claims this user may see and filter by: a select() of User (the
    applicant filter's picker source, "claim_applicants")."""
    # A correlated EXISTS probes the owner_id index once per user (a small table) instead
    # of reading every claim's owner_id into a temporary set.
    has_claims = visible(
        select(ExpenseClaim.id).where(ExpenseClaim.owner_id == User.id), user, ExpenseClaim
    ).exists()
    return select(User).where(has_claims)


def department_of(user: User | None) -> str:
    if user is None:
        return ""
    group: Group | None = user.group
    if group is not None:
        return group.name
    return user.post.name if getattr(user, "post", None) is not None else ""


def local_date_of(value: datetime | None, tz) -> date | None:
    return value.astimezone(tz).date() if value else None


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUSES, STEP_STATUSES, ROUND_STATUSES, CATEGORIES, PAYMENT_METHODS)
    settings.register(RECEIPT_ABOVE)
    settings.register(LEADER_THRESHOLD)
    settings.register(HARD_STOP)
    engine.register_flow(FLOW)
    describe(
        ExpenseClaim,
        title=_l("Expense claim"),
        fields={
            "category": _l("Category"),
            "reason": _l("Reason"),
            "incurred_on": _l("Date incurred"),
            "payment_method": _l("Payment method"),
            "payee_account": _l("Payee account"),
            "invoice_number": _l("Invoice number"),
            "over_budget_reason": _l("Reason for exceeding the budget"),
            "submitted_at": _l("Submitted"),
            "approved_at": _l("Approved"),
            "paid_on": _l("Paid on"),
            "payment_reference": _l("Payment reference"),
            "paid_by_id": _l("Paid by"),
            "owner_id": _l("Applicant"),
            "link_type": _l("Paid for"),
            "link_id": _l("Paid for"),
        },
        values={
            "status": status_label,
            "category": category_label,
            "payment_method": method_label,
            "link_type": {"activity": _l("Market activity"), "ticket": _l("After-sales ticket")},
            "link_id": _paid_for,
        },
    )
