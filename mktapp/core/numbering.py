"""Document numbers such as BX-2026-0001: per series and year, never reused."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mktapp.extensions import db
from mktapp.models import DocumentCounter


def next_number(prefix: str, year: int, width: int = 4) -> str:
    """The next number in the series "<prefix>-<year>", e.g. next_number("BX", 2026) -> BX-2026-0001.

    The counter row is bumped with one UPDATE ... RETURNING, which the database
    serialises, so two claims saved at once never get the same number.
    """
    series = f"{prefix}-{year}"
    for _attempt in range(3):
        value = db.session.execute(
            update(DocumentCounter)
            .where(DocumentCounter.series == series)
            .values(last=DocumentCounter.last + 1)
            .returning(DocumentCounter.last)
        ).scalar()
        if value is not None:
            return f"{series}-{value:0{width}d}"
        try:
            with db.session.begin_nested():
                db.session.add(DocumentCounter(series=series, last=0))
        except IntegrityError:
            pass  # someone created it first: bump theirs
    raise RuntimeError(f"could not number {series}")


def peek(prefix: str, year: int) -> int:
    return (
        db.session.scalar(
            select(DocumentCounter.last).where(DocumentCounter.series == f"{prefix}-{year}")
        )
        or 0
    )
