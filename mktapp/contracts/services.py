"""Sales contracts (P4.3): drafting, review, signing, execution, amendments and archive.

A contract is drafted by the sales rep (from an opportunity or a customer), numbered
HT-<year>-NNNN, and reviewed through the approval engine: the marketing manager, and the
company leader from a configurable amount. The engine's hooks are the only place the
review moves its status. Then: signed (date and scanned copy required) -> in execution
-> completed or terminated (with a reason). A signed contract changes only through an
amendment (合同变更), itself approved through the engine; each signed or amended state
is kept as a snapshot (version) so any two can be compared. The service group archives
signed contracts (archive number, location).

Services take the acting user and plain data; they raise ContractError (with the field
it concerns) for the route to show, and never touch the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.core import approvals as engine
from mktapp.core import settings, vocab
from mktapp.core.attachments import AttachmentError, check_upload, save_upload
from mktapp.core.audit import describe_note
from mktapp.core.audit_display import describe, snapshot
from mktapp.core.commands import mark_once
from mktapp.core.errors import DomainError
from mktapp.core.i18n import money
from mktapp.core.money import CENT, MAX_AMOUNT
from mktapp.core.notify import notify
from mktapp.core.numbering import next_number
from mktapp.core.permissions import can, visible
from mktapp.core.vocab import Vocabulary
from mktapp.extensions import db
from mktapp.models import (
    Contract,
    ContractAmendment,
    ContractLine,
    ContractMilestone,
    ContractVersion,
    Customer,
    Opportunity,
    Product,
    Role,
    User,
    utcnow,
)
from mktapp.sales import pipeline
from mktapp.sales.customers import CustomerQuery, list_customers

STATUSES = Vocabulary(
    "contract_status",
    {
        "draft": _l("Draft"),
        "pending": _l("Under review"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
        "approved": _l("Approved"),
        "signed": _l("Signed"),
        "executing": _l("In execution"),
        "completed": _l("Completed"),
        "terminated": _l("Terminated"),
    },
)
EDITABLE = frozenset({"draft", "rejected", "withdrawn"})
SIGNED_STATES = frozenset({"signed", "executing", "completed", "terminated"})
# States in which the terms are being carried out (milestones tracked, amendments allowed).
RUNNING = frozenset({"signed", "executing"})
AMENDMENT_STATUSES = Vocabulary(
    "amendment_status",
    {
        "pending": _l("Under review"),
        "approved": _l("Approved"),
        "rejected": _l("Returned"),
        "withdrawn": _l("Withdrawn"),
    },
)
MILESTONE_KINDS = Vocabulary(
    "milestone_kind", {"delivery": _l("Delivery"), "payment": _l("Payment")}, tag_class=""
)
SCAN_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})

GROUP = _l("Sales contracts")
LEADER_THRESHOLD = settings.SettingSpec(
    "contracts.leader_threshold",
    _l("Company leader reviews contracts from"),
    Decimal("500000.00"),
    kind="money",
    help=_l(
        "Contracts (and amendments) of this total or more are also reviewed by the "
        "company leader after the marketing manager."
    ),
    group=GROUP,
)


# --- errors -------------------------------------------------------------------------


class ContractError(DomainError):
    """Something asked of a contract that cannot be done; str() is the message."""


class NotAllowed(ContractError):
    status = 403


# --- labels and small rules -----------------------------------------------------------


status_label = STATUSES.label
amendment_status_label = AMENDMENT_STATUSES.label
kind_label = MILESTONE_KINDS.label


def leader_threshold() -> Decimal:
    return settings.get(LEADER_THRESHOLD.key)


def may_edit(user, contract: Contract) -> bool:
    return contract.owner_id == user.id and contract.status in EDITABLE


def may_sign(user, contract: Contract) -> bool:
    return contract.status == "approved" and (
        contract.owner_id == user.id or "marketing_manager" in user.role_codes
    )


def may_run(user, contract: Contract) -> bool:
    """Start execution, record milestones, complete: the owner or the marketing manager."""
    return contract.status in RUNNING and (
        contract.owner_id == user.id or "marketing_manager" in user.role_codes
    )


def may_terminate(user, contract: Contract) -> bool:
    return contract.status in RUNNING | {"approved"} and (
        contract.owner_id == user.id or "marketing_manager" in user.role_codes
    )


def may_amend(user, contract: Contract) -> bool:
    return (
        contract.status in RUNNING
        and can(user, "contracts.draft")
        and (contract.owner_id == user.id or "marketing_manager" in user.role_codes)
        and pending_amendment(contract) is None
    )


def may_archive(user, contract: Contract) -> bool:
    return can(user, "contracts.archive") and contract.status in SIGNED_STATES


def pending_amendment(contract: Contract) -> ContractAmendment | None:
    return db.session.scalar(
        select(ContractAmendment).where(
            ContractAmendment.contract_id == contract.id, ContractAmendment.status == "pending"
        )
    )


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- the terms: plain data in, checked, totals computed ---------------------------------


@dataclass
class LineInput:
    product_id: int | None
    name: str
    specification: str
    unit: str
    quantity: Decimal | None
    unit_price: Decimal | None

    @property
    def amount(self) -> Decimal:
        if self.quantity is None or self.unit_price is None:
            return Decimal("0.00")
        return q2(self.quantity * self.unit_price)


@dataclass
class MilestoneInput:
    planned_date: date | None
    description: str = ""
    amount: Decimal | None = None


@dataclass
class TermsInput:
    title: str
    tax_rate: Decimal
    lines: list[LineInput]
    deliveries: list[MilestoneInput]
    instalments: list[MilestoneInput]
    payment_method: str = ""
    after_sales_terms: str = ""
    other_terms: str = ""


@dataclass
class Totals:
    amount_excl_tax: Decimal
    tax_amount: Decimal
    total: Decimal
    instalments: Decimal = field(default=Decimal("0.00"))

    @property
    def instalments_balance(self) -> bool:
        return self.instalments == self.total


def totals_of(terms: TermsInput) -> Totals:
    """Amount excl. tax = Σ lines; tax = that × rate, to the fen; total = both."""
    net = sum((line.amount for line in terms.lines), Decimal("0.00"))
    rate = terms.tax_rate if terms.tax_rate is not None else Decimal("0")
    tax = q2(net * rate / Decimal(100))
    paid = sum((m.amount or Decimal("0") for m in terms.instalments), Decimal("0.00"))
    return Totals(q2(net), tax, q2(net + tax), q2(paid))


def _blank_line(line: LineInput) -> bool:
    return not (
        line.product_id
        or line.name.strip()
        or line.specification.strip()
        or line.unit.strip()
        or line.quantity is not None
        or line.unit_price is not None
    )


def _blank_milestone(m: MilestoneInput) -> bool:
    return m.planned_date is None and not m.description.strip() and m.amount is None


def compact(terms: TermsInput) -> TermsInput:
    """The terms without the rows left entirely empty (a row added and not filled in)."""
    return TermsInput(
        title=terms.title,
        tax_rate=terms.tax_rate,
        lines=[line for line in terms.lines if not _blank_line(line)],
        deliveries=[m for m in terms.deliveries if not _blank_milestone(m)],
        instalments=[m for m in terms.instalments if not _blank_milestone(m)],
        payment_method=terms.payment_method,
        after_sales_terms=terms.after_sales_terms,
        other_terms=terms.other_terms,
    )


def entry_problems(terms: TermsInput) -> list[tuple[str, str]]:
    """What is wrong in what was typed: these stop even a draft. Fields use the form's
    names (lines-0-quantity ...); rows left entirely empty are skipped."""
    out: list[tuple[str, str]] = []
    if not terms.title.strip():
        out.append(("title", _("Give the contract a title.")))
    if terms.tax_rate is None or not (Decimal("0") <= terms.tax_rate <= Decimal("100")):
        out.append(("tax_rate", _("The tax rate is a percentage between 0 and 100.")))
    for i, line in enumerate(terms.lines):
        if _blank_line(line):
            continue
        if not line.name.strip():
            out.append((f"lines-{i}-name", _("Name the product or service.")))
        if line.quantity is None or line.quantity <= 0:
            out.append((f"lines-{i}-quantity", _("The quantity must be more than zero.")))
        if line.unit_price is None or line.unit_price <= 0:
            out.append((f"lines-{i}-unit_price", _("The unit price must be more than zero.")))
    for i, m in enumerate(terms.deliveries):
        if not _blank_milestone(m) and m.planned_date is None:
            out.append((f"deliveries-{i}-planned_date", _("Enter the delivery date.")))
    for i, m in enumerate(terms.instalments):
        if _blank_milestone(m):
            continue
        if m.planned_date is None:
            out.append((f"instalments-{i}-planned_date", _("Enter the payment date.")))
        if m.amount is not None and m.amount <= 0:
            out.append((f"instalments-{i}-amount", _("The instalment must be more than zero.")))
    if totals_of(terms).total >= MAX_AMOUNT:
        out.append(("lines", _("The total is too large.")))
    return out


def completeness_problems(terms: TermsInput) -> list[tuple[str, str]]:
    """What a contract still lacks before it can be reviewed: a draft is saved without
    them (they are shown as warnings); submitting for review refuses them."""
    out: list[tuple[str, str]] = []
    lines = [line for line in terms.lines if not _blank_line(line)]
    deliveries = [m for m in terms.deliveries if not _blank_milestone(m)]
    instalments = [(i, m) for i, m in enumerate(terms.instalments) if not _blank_milestone(m)]
    if not lines:
        out.append(("lines", _("Add at least one line: what is sold.")))
    if not deliveries:
        out.append(("deliveries", _("Add at least one delivery date.")))
    if not instalments:
        out.append(("instalments", _("Add at least one payment instalment.")))
    for i, m in instalments:
        if m.amount is None:
            out.append((f"instalments-{i}-amount", _("Enter the amount of this instalment.")))
    totals = totals_of(terms)
    if lines and instalments and totals.instalments != totals.total:
        out.append(
            (
                "instalments",
                _(
                    "The instalments add up to %(sum)s but the contract total is %(total)s: "
                    "they must be equal.",
                    sum=money(totals.instalments),
                    total=money(totals.total),
                ),
            )
        )
    return out


def problems_of(terms: TermsInput) -> list[tuple[str, str]]:
    """Every problem of the terms as (field, message): what was typed wrong, then what a
    contract under review must have."""
    return entry_problems(terms) + completeness_problems(terms)


class TermsError(ContractError):
    """The terms have problems; .problems puts each next to its field."""


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        name, message = problems[0]
        raise TermsError(message, name, problems)


def check_terms(terms: TermsInput) -> Totals:
    """The terms as a contract under review must have them (every problem refused)."""
    _raise(problems_of(terms))
    return totals_of(terms)


def check_draft(terms: TermsInput) -> list[tuple[str, str]]:
    """A draft may be incomplete: what was typed wrong is refused, what is still missing
    comes back as warnings."""
    _raise(entry_problems(terms))
    return completeness_problems(terms)


def remainder(terms: TermsInput) -> Decimal:
    """What the last instalment must be for the instalments to add up to the total: the
    total less the other instalments. ContractError when there is nothing to fill."""
    lines = [line for line in terms.lines if not _blank_line(line)]
    if not lines:
        raise ContractError(
            _("This contract has no lines yet: add what is sold, then fill the remainder."),
            "instalments",
        )
    if entry_problems(TermsInput("-", terms.tax_rate, lines, [], [])):
        raise ContractError(
            _(
                "The lines do not make a total yet: complete their quantities, prices and "
                "the tax rate first."
            ),
            "instalments",
        )
    if not terms.instalments:
        raise ContractError(_("Add an instalment first."), "instalments")
    total = totals_of(terms).total
    others = sum((m.amount or Decimal("0") for m in terms.instalments[:-1]), Decimal("0.00"))
    rest = q2(total - others)
    if rest <= 0:
        raise ContractError(
            _(
                "The other instalments already reach the contract total of %(total)s: "
                "nothing is left for the last one.",
                total=money(total),
            ),
            "instalments",
        )
    return rest


# --- snapshots and the difference between two versions ---------------------------------


def _s(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def terms_snapshot(terms: TermsInput) -> dict:
    """The terms as JSON-safe data (amounts and dates as text)."""
    totals = totals_of(terms)
    return {
        "title": terms.title.strip(),
        "tax_rate": _s(terms.tax_rate),
        "payment_method": terms.payment_method.strip(),
        "after_sales_terms": terms.after_sales_terms.strip(),
        "other_terms": terms.other_terms.strip(),
        "amount_excl_tax": _s(totals.amount_excl_tax),
        "tax_amount": _s(totals.tax_amount),
        "total": _s(totals.total),
        "lines": [
            {
                "product_id": line.product_id,
                "name": line.name.strip(),
                "specification": line.specification.strip(),
                "unit": line.unit.strip(),
                "quantity": _s(line.quantity),
                "unit_price": _s(line.unit_price),
                "amount": _s(line.amount),
            }
            for line in terms.lines
        ],
        "deliveries": [
            {"planned_date": _s(m.planned_date), "description": m.description.strip()}
            for m in terms.deliveries
        ],
        "instalments": [
            {
                "planned_date": _s(m.planned_date),
                "amount": _s(m.amount),
                "description": m.description.strip(),
            }
            for m in terms.instalments
        ],
    }


def terms_of(contract: Contract) -> TermsInput:
    """The contract's current terms as input (to prefill an amendment, to snapshot)."""
    deliveries = [m for m in contract.milestones if m.kind == "delivery"]
    payments = [m for m in contract.milestones if m.kind == "payment"]
    return TermsInput(
        title=contract.title,
        tax_rate=contract.tax_rate,
        payment_method=contract.payment_method,
        after_sales_terms=contract.after_sales_terms,
        other_terms=contract.other_terms,
        lines=[
            LineInput(
                line.product_id,
                line.name,
                line.specification,
                line.unit,
                line.quantity,
                line.unit_price,
            )
            for line in contract.lines
        ],
        deliveries=[MilestoneInput(m.planned_date, m.description) for m in deliveries],
        instalments=[
            MilestoneInput(m.planned_date, m.description, m.planned_amount) for m in payments
        ],
    )


def terms_from_snapshot(snap: dict) -> TermsInput:
    def dec(v):
        return Decimal(v) if v not in (None, "") else None

    def day(v):
        return date.fromisoformat(v) if v else None

    return TermsInput(
        title=snap.get("title", ""),
        tax_rate=dec(snap.get("tax_rate")) or Decimal("0"),
        payment_method=snap.get("payment_method", ""),
        after_sales_terms=snap.get("after_sales_terms", ""),
        other_terms=snap.get("other_terms", ""),
        lines=[
            LineInput(
                ln.get("product_id"),
                ln["name"],
                ln.get("specification", ""),
                ln.get("unit", ""),
                dec(ln["quantity"]),
                dec(ln["unit_price"]),
            )
            for ln in snap.get("lines", [])
        ],
        deliveries=[
            MilestoneInput(day(m["planned_date"]), m.get("description", ""))
            for m in snap.get("deliveries", [])
        ],
        instalments=[
            MilestoneInput(day(m["planned_date"]), m.get("description", ""), dec(m["amount"]))
            for m in snap.get("instalments", [])
        ],
    )


FIELD_LABELS: dict[str, Any] = {
    "title": _l("Contract title"),
    "tax_rate": _l("Tax rate (%)"),
    "payment_method": _l("Payment method"),
    "after_sales_terms": _l("After-sales terms"),
    "other_terms": _l("Other terms"),
    "amount_excl_tax": _l("Amount excl. tax"),
    "tax_amount": _l("Tax"),
    "total": _l("Total"),
}
LINE_LABELS: dict[str, Any] = {
    "specification": _l("Specification"),
    "unit": _l("Unit"),
    "quantity": _l("Quantity"),
    "unit_price": _l("Unit price"),
    "amount": _l("Amount"),
}
MILESTONE_LABELS: dict[str, Any] = {
    "planned_date": _l("Date"),
    "amount": _l("Amount"),
    "description": _l("Description"),
}


@dataclass
class RowChange:
    label: str
    changes: list[tuple[str, str, str]]  # (field label, old, new)


@dataclass
class SectionDiff:
    title: Any
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class VersionDiff:
    old: int
    new: int
    fields: list[tuple[str, str, str]]
    sections: list[SectionDiff]

    @property
    def empty(self) -> bool:
        return not self.fields and all(s.empty for s in self.sections)


def _line_key(line: dict) -> str:
    return f"p{line['product_id']}" if line.get("product_id") else f"n:{line['name']}"


def _line_label(line: dict) -> str:
    spec = f"（{line['specification']}）" if line.get("specification") else ""
    qty = _shown("quantity", line.get("quantity"))
    price = _shown("unit_price", line.get("unit_price"))
    return f"{line['name']}{spec} × {qty} {line.get('unit', '')} @ {price}".strip()


def _milestone_label(m: dict, kind: str, n: int) -> str:
    text = f"#{n} {m['planned_date']}"
    if kind == "payment":
        text += f" {_shown('amount', m.get('amount'))}"
    if m.get("description"):
        text += f" {m['description']}"
    return text


MONEY_KEYS = frozenset({"amount_excl_tax", "tax_amount", "total", "unit_price", "amount"})


def _shown(key: str, value) -> str:
    """A snapshot value as the diff shows it: amounts as ¥1,234.50."""
    if key in MONEY_KEYS and value not in (None, ""):
        return money(Decimal(value))
    if key == "quantity" and value not in (None, ""):
        return f"{Decimal(value).normalize():f}"
    return value or ""


def diff_terms(old: dict, new: dict, old_no: int = 0, new_no: int = 0) -> VersionDiff:
    """What changed between two snapshots: fields old -> new, lines added / removed /
    changed (matched by product, else by name), milestones by position."""
    fields = [
        (label, _shown(key, old.get(key)), _shown(key, new.get(key)))
        for key, label in FIELD_LABELS.items()
        if (old.get(key) or "") != (new.get(key) or "")
    ]
    lines = SectionDiff(_l("Lines"))
    before = {_line_key(ln): ln for ln in old.get("lines", [])}
    after = {_line_key(ln): ln for ln in new.get("lines", [])}
    for key, ln in after.items():
        if key not in before:
            lines.added.append(_line_label(ln))
            continue
        was = before[key]
        changes = [
            (label, _shown(k, was.get(k)), _shown(k, ln.get(k)))
            for k, label in LINE_LABELS.items()
            if (was.get(k) or "") != (ln.get(k) or "")
        ]
        if changes:
            lines.changed.append(RowChange(ln["name"], changes))
    lines.removed = [_line_label(ln) for key, ln in before.items() if key not in after]
    sections = [lines]
    for kind, key, title in (
        ("delivery", "deliveries", _l("Delivery dates")),
        ("payment", "instalments", _l("Payment instalments")),
    ):
        section = SectionDiff(title)
        was_list, now_list = old.get(key, []), new.get(key, [])
        for i in range(max(len(was_list), len(now_list))):
            if i >= len(was_list):
                section.added.append(_milestone_label(now_list[i], kind, i + 1))
            elif i >= len(now_list):
                section.removed.append(_milestone_label(was_list[i], kind, i + 1))
            else:
                changes = [
                    (label, _shown(k, was_list[i].get(k)), _shown(k, now_list[i].get(k)))
                    for k, label in MILESTONE_LABELS.items()
                    if k in was_list[i] or k in now_list[i]
                    if (was_list[i].get(k) or "") != (now_list[i].get(k) or "")
                ]
                if changes:
                    section.changed.append(RowChange(f"#{i + 1}", changes))
        sections.append(section)
    return VersionDiff(old_no, new_no, fields, sections)


def version_diff(contract: Contract, old: int, new: int) -> VersionDiff | None:
    by_no = {v.version: v for v in contract.versions}
    if old not in by_no or new not in by_no:
        return None
    return diff_terms(by_no[old].terms, by_no[new].terms, old, new)


# --- writing the terms onto a contract ---------------------------------------------------


def _apply_terms(contract: Contract, terms: TermsInput, totals: Totals) -> None:
    """Replace lines and milestones by the terms; actuals already recorded stay with the
    milestone at the same position."""
    contract.title = terms.title.strip()[:200]
    contract.tax_rate = terms.tax_rate
    contract.payment_method = terms.payment_method.strip()[:200]
    contract.after_sales_terms = terms.after_sales_terms.strip()
    contract.other_terms = terms.other_terms.strip()
    contract.amount_excl_tax = totals.amount_excl_tax
    contract.tax_amount = totals.tax_amount
    contract.total = totals.total
    contract.lines = [
        ContractLine(
            seq=i,
            product_id=line.product_id,
            name=line.name.strip()[:200],
            specification=line.specification.strip()[:200],
            unit=line.unit.strip()[:20],
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for i, line in enumerate(terms.lines, start=1)
    ]
    old = {(m.kind, m.seq): m for m in contract.milestones}
    keep: list[ContractMilestone] = []
    for kind, rows in (("delivery", terms.deliveries), ("payment", terms.instalments)):
        for i, row in enumerate(rows, start=1):
            m = old.pop((kind, i), None) or ContractMilestone(kind=kind, seq=i)
            if m.planned_date != row.planned_date:
                m.overdue_notified_on = None
            m.planned_date = row.planned_date
            m.description = row.description.strip()[:200]
            m.planned_amount = row.amount if kind == "payment" else None
            keep.append(m)
    contract.milestones = keep


def _validate_source(actor: User, customer_id: int | None, opportunity_id: int | None):
    """The customer (and opportunity) a contract is drafted for, both visible to the actor."""
    opportunity = None
    if opportunity_id is not None:
        opportunity = db.session.scalar(
            visible(select(Opportunity).where(Opportunity.id == opportunity_id), actor)
        )
        if opportunity is None:
            raise ContractError(_("There is no such opportunity."), "customer_id")
        customer_id = opportunity.customer_id
    customer = None
    if customer_id is not None:
        customer = db.session.scalar(
            visible(select(Customer).where(Customer.id == customer_id), actor)
        )
    if customer is None:
        raise ContractError(_("Choose the customer."), "customer_id")
    return customer, opportunity


def _checked(terms: TermsInput, review: bool) -> tuple[TermsInput, Totals]:
    """The terms to write: checked as a draft (incomplete allowed) or for review (all of
    it), then without their empty rows."""
    if review:
        check_terms(terms)
    else:
        check_draft(terms)
    terms = compact(terms)
    return terms, totals_of(terms)


def customer_choices(actor: User, q: str, limit: int = 20):
    """The customers a new contract may be drafted for (through the record rules: a sales
    rep gets their own), found by name, contact or phone; recently active first.
    A page of the customer list: .rows, .primary (contacts), .has_more."""

    return list_customers(actor, CustomerQuery(q=(q or "").strip()[:100]), limit)


def create_contract(
    actor: User,
    terms: TermsInput,
    today: date,
    customer_id: int | None = None,
    opportunity_id: int | None = None,
    review: bool = False,
) -> Contract:
    """Draft a contract. A draft may be incomplete (see draft_warnings); with review=True
    the terms must be complete, as for submit_contract."""
    if not can(actor, "contracts.draft"):
        raise NotAllowed(_("You may not draft contracts."))
    customer, opportunity = _validate_source(actor, customer_id, opportunity_id)
    terms, totals = _checked(terms, review)
    contract = Contract(
        number=next_number("HT", today.year),
        customer_id=customer.id,
        opportunity_id=opportunity.id if opportunity else None,
        owner_id=actor.id,
        status="draft",
        draft_date=today,
    )
    _apply_terms(contract, terms, totals)
    db.session.add(contract)
    db.session.flush()
    return contract


def ensure_editable(actor: User, contract: Contract) -> None:
    if contract.owner_id != actor.id:
        raise NotAllowed(_("Only the sales rep who drafted it may change this contract."))
    if contract.status in SIGNED_STATES:
        raise ContractError(
            _("This contract is signed: its terms change only through an amendment.")
        )
    if contract.status not in EDITABLE:
        raise ContractError(
            _("This contract is under review or approved and cannot be changed now.")
        )


def update_contract(
    actor: User, contract: Contract, terms: TermsInput, review: bool = False
) -> Contract:
    """Change a draft's terms (incomplete allowed unless review=True)."""
    ensure_editable(actor, contract)
    terms, totals = _checked(terms, review)
    _apply_terms(contract, terms, totals)
    return contract


def draft_warnings(contract: Contract) -> list[tuple[str, str]]:
    """What a saved draft still lacks before review, as (field, message)."""
    return completeness_problems(terms_of(contract))


def submit_contract(actor: User, contract: Contract):
    """Send a draft, returned or withdrawn contract for review: only complete terms (the
    instalments adding up to the total ...); TermsError names each missing point."""
    ensure_editable(actor, contract)
    check_terms(terms_of(contract))
    return engine.submit(contract, actor)


# --- the review flows (engine hooks) ------------------------------------------------------


def needs_leader(doc) -> bool:
    return doc.total >= leader_threshold()


def _leader_when_label() -> str:
    return _("only from %(amount)s", amount=money(leader_threshold()))


def contract_title(contract: Contract) -> str:
    customer = contract.customer.name if contract.customer else ""
    return f"合同 {contract.number} · {customer} · {money(contract.total)}"


FLOW = engine.Flow(
    doc_type="Contract",
    model=Contract,
    label=_l("Sales contract"),
    steps=engine.manager_then_leader(needs_leader, LazyString(_leader_when_label)),
    endpoint="contracts.detail",
    id_arg="contract_id",
    applicant=lambda contract: contract.owner,
    title=contract_title,
    review=engine.STANDARD_REVIEW,
    settings=[LEADER_THRESHOLD.key],
)


def _amendment_approved(amendment: ContractAmendment, actor: User) -> None:
    """The amendment's terms become the contract's new version."""
    contract = amendment.contract
    terms = terms_from_snapshot(amendment.terms)
    _apply_terms(contract, terms, totals_of(terms))
    contract.version = (contract.version or 1) + 1
    amendment.to_version = contract.version
    db.session.add(
        ContractVersion(
            contract=contract,
            version=contract.version,
            terms=amendment.terms,
            amendment_id=amendment.id,
            created_by_id=amendment.owner_id,
        )
    )


def amendment_title(amendment: ContractAmendment) -> str:
    contract = amendment.contract
    return f"合同变更 {amendment.number} · {contract.customer.name if contract.customer else ''}"


# An amendment is decided once: approved, rejected or withdrawn, it is stamped decided.
AMENDMENT_REVIEW = engine.Review(
    stamps=(("approved", "decided_at"), ("rejected", "decided_at"), ("withdrawn", "decided_at"))
)

AMENDMENT_FLOW = engine.Flow(
    doc_type="ContractAmendment",
    model=ContractAmendment,
    label=_l("Contract amendment"),
    steps=engine.manager_then_leader(needs_leader, LazyString(_leader_when_label)),
    endpoint="contracts.amendment",
    id_arg="amendment_id",
    applicant=lambda amendment: amendment.owner,
    title=amendment_title,
    review=AMENDMENT_REVIEW,
    on_approved=_amendment_approved,
    settings=[LEADER_THRESHOLD.key],
)


# --- signing, execution, closing -----------------------------------------------------------


def scan_problem(scan) -> str | None:
    """The signed scan must be a PDF or a picture (what a scanner or a phone produces)."""
    if not scan:
        return None
    try:
        content_type = check_upload(scan)
    except AttachmentError as error:
        return error.message
    if content_type not in SCAN_TYPES:
        return _("The scan must be a PDF or a picture (PNG, JPEG, GIF, WebP).")
    return None


def _snapshot_version(contract: Contract, actor: User) -> None:
    contract.version = 1
    db.session.add(
        ContractVersion(
            contract=contract,
            version=1,
            terms=terms_snapshot(terms_of(contract)),
            created_by_id=actor.id,
        )
    )


def sign_contract(actor: User, contract: Contract, signed_on: date | None, scan, today: date):
    """Mark an approved contract signed: the date and the signed scan are required.
    The terms as signed become version 1."""
    if not may_sign(actor, contract):
        if contract.status != "approved":
            raise ContractError(_("Only an approved contract can be marked signed."))
        raise NotAllowed(_("Only the sales rep or the marketing manager may do this."))
    problems = []
    if signed_on is None:
        problems.append(("signed_on", _("Enter the date it was signed.")))
    elif signed_on < contract.draft_date:
        problems.append(
            (
                "signed_on",
                _(
                    "The signing date cannot be before the contract was drafted (%(day)s).",
                    day=contract.draft_date.isoformat(),
                ),
            )
        )
    elif signed_on > today:
        problems.append(("signed_on", _("The signing date cannot be in the future.")))
    if not scan:
        problems.append(("scan", _("Attach the scanned signed contract (PDF or picture).")))
    elif problem := scan_problem(scan):
        problems.append(("scan", problem))
    if problems:
        raise ContractError(problems[0][1], problems[0][0], problems)
    attachment = save_upload(scan, contract, actor)
    db.session.flush()
    contract.scan_id = attachment.id
    contract.signed_on = signed_on
    contract.signed_by_id = actor.id
    contract.status = "signed"
    _snapshot_version(contract, actor)
    _win_opportunity(actor, contract)
    return contract


def _win_opportunity(actor: User, contract: Contract) -> None:
    """A signed contract wins the opportunity it was drafted from (if it is still open and
    the signer may move it), through the pipeline's one way of moving a stage."""

    opportunity = (
        db.session.get(Opportunity, contract.opportunity_id) if contract.opportunity_id else None
    )
    if opportunity is not None and opportunity.is_open and pipeline.may_change(actor, opportunity):
        pipeline.move_stage(actor, opportunity, "won")


def start_execution(actor: User, contract: Contract, today: date) -> None:
    if not may_run(actor, contract) or contract.status != "signed":
        raise ContractError(_("Only a signed contract can go into execution."))
    contract.status = "executing"
    contract.execution_started_on = today


def record_milestone(
    actor: User,
    contract: Contract,
    milestone: ContractMilestone,
    actual_date: date | None,
    actual_amount: Decimal | None,
    note: str,
    today: date,
) -> None:
    """Enter what happened: the actual date (and amount paid) of a delivery or instalment."""
    if not may_run(actor, contract):
        raise ContractError(_("Milestones are recorded on a signed contract in execution."))
    problems = []
    if actual_date is None:
        problems.append(("actual_date", _("Enter the date.")))
    elif actual_date > today:
        problems.append(("actual_date", _("The date cannot be in the future.")))
    elif contract.signed_on and actual_date < contract.signed_on:
        problems.append(("actual_date", _("The date cannot be before the contract was signed.")))
    if milestone.kind == "payment" and (actual_amount is None or actual_amount <= 0):
        problems.append(("actual_amount", _("Enter the amount received.")))
    if problems:
        raise ContractError(problems[0][1], problems[0][0], problems)
    milestone.actual_date = actual_date
    milestone.actual_amount = actual_amount if milestone.kind == "payment" else None
    milestone.note = (note or "").strip()[:300]
    milestone.recorded_by_id = actor.id
    if contract.status == "signed":
        contract.status = "executing"
        contract.execution_started_on = today


def complete_contract(actor: User, contract: Contract, today: date) -> None:
    if not may_run(actor, contract) or contract.status != "executing":
        raise ContractError(_("Only a contract in execution can be completed."))
    open_ones = [m for m in contract.milestones if not m.done]
    if open_ones:
        raise ContractError(
            _(
                "%(n)s deliveries or payments are still open: record them first.",
                n=len(open_ones),
            )
        )
    contract.status = "completed"
    contract.closed_on = today


def terminate_contract(actor: User, contract: Contract, reason: str, today: date) -> None:
    if not may_terminate(actor, contract):
        raise ContractError(_("This contract cannot be terminated now."))
    if not (reason or "").strip():
        raise ContractError(_("Say why the contract is terminated."), "reason")
    contract.status = "terminated"
    contract.termination_reason = reason.strip()
    contract.closed_on = today


# --- amendments ------------------------------------------------------------------------


def request_amendment(
    actor: User, contract: Contract, reason: str, terms: TermsInput
) -> ContractAmendment:
    """Ask to change a signed contract's terms; the request goes to review at once."""
    if not may_amend(actor, contract):
        if pending_amendment(contract) is not None:
            raise ContractError(_("An amendment of this contract is already under review."))
        raise ContractError(_("Only a signed contract in force can be amended."))
    problems = problems_of(terms)
    if not (reason or "").strip():
        problems.insert(0, ("reason", _("Say why the contract changes.")))
    terms = compact(terms)
    snapshot = terms_snapshot(terms)
    current = next((v for v in contract.versions if v.version == contract.version), None)
    if not problems and current is not None and diff_terms(current.terms, snapshot).empty:
        problems.append(("reason", _("Nothing changed: edit the terms that change.")))
    if problems:
        raise ContractError(problems[0][1], problems[0][0], problems)
    count = db.session.scalar(
        select(db.func.count(ContractAmendment.id)).where(
            ContractAmendment.contract_id == contract.id
        )
    )
    amendment = ContractAmendment(
        contract=contract,
        number=f"{contract.number}-B{(count or 0) + 1}",
        reason=reason.strip(),
        terms=snapshot,
        total=totals_of(terms).total,
        status="pending",
        from_version=contract.version,
        owner_id=actor.id,
    )
    db.session.add(amendment)
    db.session.flush()
    engine.submit(amendment, actor)
    return amendment


# --- archive ------------------------------------------------------------------------------


def archive_contract(
    actor: User, contract: Contract, archive_no: str, location: str, scan, today: date
) -> None:
    """The service group files a signed contract: archive number and location; the signed
    scan must be on file (or attached now)."""
    if not may_archive(actor, contract):
        if not can(actor, "contracts.archive"):
            raise NotAllowed(_("Only the service group archives contracts."))
        raise ContractError(_("Only a signed contract can be archived."))
    problems = []
    if not (archive_no or "").strip():
        problems.append(("archive_no", _("Enter the archive number.")))
    if not (location or "").strip():
        problems.append(("location", _("Say where the paper contract is kept.")))
    if contract.scan_id is None and not scan:
        problems.append(("scan", _("The signed scan is missing: attach it to archive.")))
    elif problem := scan_problem(scan):
        problems.append(("scan", problem))
    if problems:
        raise ContractError(problems[0][1], problems[0][0], problems)
    if scan:
        attachment = save_upload(scan, contract, actor)
        db.session.flush()
        contract.scan_id = attachment.id
    contract.archive_no = archive_no.strip()[:40]
    contract.archive_location = location.strip()[:200]
    contract.archived_at = utcnow()
    contract.archived_by_id = actor.id


# --- overdue milestones ---------------------------------------------------------------------


def overdue_milestones(today: date):
    return (
        select(ContractMilestone)
        .join(ContractMilestone.contract)
        .where(
            Contract.status.in_(sorted(RUNNING)),
            ContractMilestone.actual_date.is_(None),
            ContractMilestone.planned_date < today,
        )
    )


def scan_overdue(today: date) -> int:
    """Tell the owner and the marketing managers once about each overdue milestone.
    Returns how many milestones were newly notified."""
    rows = list(
        db.session.scalars(
            overdue_milestones(today).where(ContractMilestone.overdue_notified_on.is_(None))
        )
    )
    if not rows:
        return 0
    managers = list(
        db.session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.code == "marketing_manager", User.active.is_(True))
        )
    )

    # Only the milestones this run marks (another run at the same instant takes the others).
    taken = mark_once(rows, "overdue_notified_on", today)
    for m in taken:
        contract = m.contract
        people = {u.id: u for u in managers}
        if contract.owner is not None:
            people[contract.owner.id] = contract.owner
        for user in people.values():
            with force_locale(user.locale or "zh_Hans"):
                notify(
                    user,
                    _(
                        "Overdue %(kind)s on contract %(number)s (%(customer)s): due %(day)s",
                        kind=kind_label(m.kind),
                        number=contract.number,
                        customer=contract.customer.name if contract.customer else "",
                        day=m.planned_date.isoformat(),
                    ),
                    url=FLOW.url(contract.id),
                    once=f"milestone_overdue:{m.id}:{m.planned_date}:{today}",
                )
    return len(taken)


def products_by_id(ids) -> dict[int, Product]:
    """The catalogue's products (not archived) with these ids (one query)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_(wanted), Product.archived_at.is_(None))
        )
    }


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUSES, AMENDMENT_STATUSES, MILESTONE_KINDS)
    settings.register(LEADER_THRESHOLD)
    engine.register_flow(FLOW)
    engine.register_flow(AMENDMENT_FLOW)
    describe(
        Contract,
        title=_l("Sales contract"),
        fields={
            "title": _l("Contract title"),
            "status": _l("Status"),
            "total": _l("Total"),
            "tax_rate": _l("Tax rate (%)"),
            "payment_method": _l("Payment method"),
            "after_sales_terms": _l("After-sales terms"),
            "other_terms": _l("Other terms"),
            "signed_on": _l("Signed on"),
            "archive_no": _l("Archive number"),
            "archive_location": _l("Archive location"),
            "termination_reason": _l("Reason for termination"),
            "version": _l("Version"),
            "draft_date": _l("Drafted on"),
            "amount_excl_tax": _l("Amount excl. tax"),
            "tax_amount": _l("Tax"),
            "scan_id": _l("Signed scan"),
            "execution_started_on": _l("Execution started on"),
            "closed_on": _l("Closed on"),
            # the terms as an amendment stores them (terms_snapshot)
            "lines": _l("Lines"),
            "deliveries": _l("Delivery dates"),
            "instalments": _l("Payment instalments"),
        },
        values={"status": status_label},
    )
    describe(
        ContractAmendment,
        title=_l("Contract amendment"),
        fields={
            "reason": _l("Reason for the change"),
            "terms": _l("Terms"),
            "total": _l("Total"),
            "from_version": _l("From version"),
            "to_version": _l("To version"),
        },
        values={"status": AMENDMENT_STATUSES, "terms": snapshot("Contract")},
    )
    describe(
        ContractMilestone,
        title=_l("Contract milestone"),
        fields={
            "description": _l("Description"),
            "planned_date": _l("Planned date"),
            "planned_amount": _l("Planned amount"),
            "actual_date": _l("Actual date"),
            "actual_amount": _l("Actual amount"),
            "overdue_notified_on": _l("Overdue notice sent on"),
        },
        values={"kind": MILESTONE_KINDS},
    )
    describe_note("contracts-scan", _l("Daily check: overdue deliveries and payments"))
