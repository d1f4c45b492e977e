"""The contracts list and the archive list: search, filters, sort, paging, export rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from mktapp.contracts.services import STATUSES, status_label
from mktapp.core.lists import (
    Column,
    Filter,
    ListPage,
    ListSpec,
    contains,
    integer,
    iso_date,
    one_of,
)
from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import Contract, ContractAmendment, ContractMilestone, Customer, User


def _received(contract: Contract) -> Decimal:
    return sum(
        (m.actual_amount or Decimal("0") for m in contract.milestones if m.kind == "payment"),
        Decimal("0.00"),
    )


def _columns(keys: str, screen: str) -> list[Column]:
    """The columns of a contract list, in the order of `keys`; those in `screen` show in
    the table, the others only in the export."""
    status = _l("Status")
    every = {
        "archive_no": Column("archive_no", _l("Archive number"), lambda c: c.archive_no),
        "number": Column("number", _l("No."), lambda c: c.number, sort=Contract.number),
        "title": Column("title", _l("Title"), lambda c: c.title),
        "customer": Column(
            "customer", _l("Customer"), lambda c: c.customer.name, sort=Customer.name
        ),
        "owner": Column(
            "owner",
            _l("Sales rep"),
            lambda c: c.owner.display_name if c.owner else "",
            sort=User.display_name,
        ),
        "excl_tax": Column(
            "excl_tax", _l("Amount excl. tax"), lambda c: c.amount_excl_tax, screen=False
        ),
        "tax": Column("tax", _l("Tax"), lambda c: c.tax_amount, screen=False),
        "total": Column("total", _l("Total"), lambda c: c.total, sort=Contract.total, cls="num"),
        "drafted": Column("drafted", _l("Drafted on"), lambda c: c.draft_date, screen=False),
        "signed": Column(
            "signed",
            _l("Signed on"),
            lambda c: c.signed_on,
            sort=Contract.signed_on,
            nulls_last=True,
        ),
        "execution": Column("execution", _l("Execution"), export=False),
        "changes": Column("changes", _l("Changes"), export=False),
        "status": Column("status", status, lambda c: status_label(c.status), sort=Contract.status),
        "version": Column("version", _l("Version"), lambda c: c.version or "", screen=False),
        "received": Column("received", _l("Received"), _received, screen=False),
        "filed": Column("filed", _l("Filed"), export=False),
        "location": Column(
            "location", _l("Archive location"), lambda c: c.archive_location, screen=False
        ),
    }
    shown = screen.split()
    return [
        replace(every[k], screen=k in shown) if every[k].export else every[k] for k in keys.split()
    ]


_LIST = dict(
    filters=[
        Filter("status", one_of(*STATUSES)),
        Filter("owner", integer, default=None),
        Filter("signed_from", iso_date, arg="from", default=None),
        Filter("signed_to", iso_date, arg="to", default=None),
    ],
    default_sort="updated",
    default_dir="desc",
    tie=Contract.id,
    sorts={"updated": Contract.updated_at},
)
CONTRACTS = ListSpec(
    "contract",
    _columns(
        "number customer title owner excl_tax tax total drafted signed status version "
        "received archive_no location",
        screen="number customer title owner total signed status",
    ),
    **_LIST,
)
ARCHIVE = ListSpec(
    "contract_archive",
    _columns(
        "archive_no location number title customer owner excl_tax tax total drafted signed "
        "execution changes status version received filed",
        screen="archive_no number customer total signed status",
    ),
    **_LIST,
)
ContractQuery = CONTRACTS.Query


def spec_of(archived_only: bool) -> ListSpec:
    return ARCHIVE if archived_only else CONTRACTS


def _filtered(user: User, query, archived_only: bool = False):
    stmt = (
        visible(select(Contract), user, Contract)
        .join(Contract.customer)
        .outerjoin(User, User.id == Contract.owner_id)
    )
    if archived_only:
        stmt = stmt.where(Contract.archived_at.is_not(None))
    if query.status:
        stmt = stmt.where(Contract.status == query.status)
    if query.owner:
        stmt = stmt.where(Contract.owner_id == query.owner)
    if query.signed_from:
        stmt = stmt.where(Contract.signed_on >= query.signed_from)
    if query.signed_to:
        stmt = stmt.where(Contract.signed_on <= query.signed_to)
    if query.q:
        stmt = stmt.where(
            contains(query.q, Contract.number, Customer.name, Contract.title, Contract.archive_no)
        )
    return stmt


def list_contracts(user: User, query, page_size: int, archived_only: bool = False) -> ListPage:
    """One page of the contracts this user may see, with the count and sum of all matching
    (`page.amount`)."""
    page = spec_of(archived_only).page(
        _filtered(user, query, archived_only),
        query,
        page_size,
        totals={"amount": "total"},
        options=[joinedload(Contract.archived_by)] if archived_only else (),
        unique=True,
    )
    page.amount = Decimal(str(page.totals["amount"])).quantize(Decimal("0.01"))
    return page


def export_rows(user: User, query, archived_only: bool = False, limit=100_000):
    stmt = _filtered(user, query, archived_only).options(selectinload(Contract.milestones))
    return spec_of(archived_only).export_rows(stmt, query, limit)


def owners(user: User):
    """The reps whose contracts this user can see: a select() of User (the owner filter's
    picker source, "contract_owners")."""
    ids = visible(select(Contract.owner_id), user, Contract)
    return select(User).where(User.id.in_(ids))


def archive_details(contracts: list[Contract]) -> dict[int, dict]:
    """For the archive view: per contract the milestones done/open and amendments (2 queries)."""
    ids = [c.id for c in contracts]
    out = {cid: {"done": 0, "open": 0, "amendments": 0} for cid in ids}
    if not ids:
        return out
    for cid, done, n in db.session.execute(
        select(
            ContractMilestone.contract_id,
            ContractMilestone.actual_date.is_not(None),
            func.count(ContractMilestone.id),
        )
        .where(ContractMilestone.contract_id.in_(ids))
        .group_by(ContractMilestone.contract_id, ContractMilestone.actual_date.is_not(None))
    ):
        out[cid]["done" if done else "open"] += n
    for cid, n in db.session.execute(
        select(ContractAmendment.contract_id, func.count(ContractAmendment.id))
        .where(ContractAmendment.contract_id.in_(ids), ContractAmendment.status == "approved")
        .group_by(ContractAmendment.contract_id)
    ):
        out[cid]["amendments"] = n
    return out
