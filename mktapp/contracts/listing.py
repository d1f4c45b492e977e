"""The contracts list and the archive list: search, filters, sort, paging, export rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from math import ceil

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mktapp.contracts.services import STATUSES
from mktapp.core.paging import Paging
from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import Contract, ContractAmendment, ContractMilestone, Customer, User

SORTS = {
    "number": Contract.number,
    "customer": Customer.name,
    "total": Contract.total,
    "signed": Contract.signed_on,
    "status": Contract.status,
    "updated": Contract.updated_at,
    "owner": User.display_name,
}


def _date_arg(raw: str | None) -> date | None:
    try:
        value = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2100 else None


@dataclass
class ContractQuery:
    q: str = ""
    status: str = ""
    owner: int | None = None
    signed_from: date | None = None
    signed_to: date | None = None
    sort: str = "updated"
    dir: str = "desc"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ContractQuery:
        try:
            page = max(1, min(100_000, int(args.get("page", 1))))
        except (TypeError, ValueError):
            page = 1
        try:
            owner = int(args.get("owner") or 0) or None
        except (TypeError, ValueError):
            owner = None
        status = args.get("status") or ""
        sort = args.get("sort") or "updated"
        return cls(
            q=(args.get("q") or "").strip()[:100],
            status=status if status in STATUSES else "",
            owner=owner,
            signed_from=_date_arg(args.get("from")),
            signed_to=_date_arg(args.get("to")),
            sort=sort if sort in SORTS else "updated",
            dir="asc" if args.get("dir") == "asc" else "desc",
            page=page,
        )

    def args(self, **changes) -> dict:
        values = {
            "q": self.q,
            "status": self.status,
            "owner": self.owner,
            "from": self.signed_from.isoformat() if self.signed_from else "",
            "to": self.signed_to.isoformat() if self.signed_to else "",
            "sort": self.sort,
            "dir": self.dir,
            "page": self.page,
        }
        values.update(changes)
        defaults = {"sort": "updated", "dir": "desc", "page": 1}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.status or self.owner or self.signed_from or self.signed_to)


@dataclass
class Page(Paging):
    rows: list
    total: int
    amount: Decimal
    page: int
    page_size: int


def _filtered(user: User, query: ContractQuery, archived_only: bool = False):
    stmt = visible(select(Contract), user, Contract).join(Contract.customer)
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
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Contract.number.ilike(pattern, escape="\\"),
                Customer.name.ilike(pattern, escape="\\"),
                Contract.title.ilike(pattern, escape="\\"),
                Contract.archive_no.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def _ordered(stmt, query: ContractQuery):
    column = SORTS[query.sort]
    order = column.asc() if query.dir == "asc" else column.desc()
    if query.sort == "signed":
        order = order.nulls_last()
    tie = Contract.id.asc() if query.dir == "asc" else Contract.id.desc()
    return stmt.outerjoin(User, User.id == Contract.owner_id).order_by(order, tie)


def list_contracts(
    user: User, query: ContractQuery, page_size: int, archived_only: bool = False
) -> Page:
    """One page of the contracts this user may see, with the count and sum of all matching."""
    base = _filtered(user, query, archived_only)
    count, amount = db.session.execute(
        base.with_only_columns(
            func.count(Contract.id), func.coalesce(func.sum(Contract.total), 0)
        ).order_by(None)
    ).one()
    pages = max(1, ceil((count or 0) / page_size))
    page = min(query.page, pages)
    stmt = _ordered(base, query).limit(page_size).offset((page - 1) * page_size)
    if archived_only:
        stmt = stmt.options(joinedload(Contract.archived_by))
    rows = list(db.session.scalars(stmt).unique())
    return Page(rows, count or 0, Decimal(str(amount)).quantize(Decimal("0.01")), page, page_size)


def export_rows(user: User, query: ContractQuery, archived_only: bool = False, limit=100_000):
    return list(
        db.session.scalars(
            _ordered(_filtered(user, query, archived_only), query)
            .options(selectinload(Contract.milestones))
            .limit(limit)
        ).unique()
    )


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
