"""What every paged list knows about its pages: how many, which to link, which rows."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func, select

from mktapp.extensions import db


class Paging:
    """Mixed into a list's page dataclass, which has `total`, `page` and `page_size`."""

    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side; None is a gap."""
        last = self.pages
        shown = sorted({1, last, *range(max(1, self.page - 2), min(last, self.page + 2) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


@dataclass
class PageOf(Paging):
    """One page of a list's rows: what paginate() returns."""

    items: list
    total: int
    page: int
    page_size: int


def paginate(stmt, page: int, page_size: int, unique: bool = False) -> PageOf:
    """Count the rows `stmt` selects, clamp `page` to 1..pages, and read that page's rows.

    `stmt` is an ordered select of one entity; `unique` for statements that joinedload a
    collection (SQLAlchemy needs .unique() on those).
    """
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = total or 0
    page = max(1, min(page, max(1, ceil(total / page_size))))
    result = db.session.scalars(stmt.limit(page_size).offset((page - 1) * page_size))
    return PageOf(list(result.unique() if unique else result), total, page, page_size)
