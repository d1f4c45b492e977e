"""Training records (P7.1): who attended which course, when, for how many hours, with what result.

The trainee owns the record. A person sees their own records, a group leader
the group's, the manager and executives everyone's, and whoever holds
`training.manage` (manager, administrator) sees and records training for
anyone. A person may record and correct their own training.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select

from mktapp.core.errors import DomainError
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import TrainingRecord, User, utcnow

SORTS = {
    "date": TrainingRecord.taken_on,
    "course": TrainingRecord.course,
    "hours": TrainingRecord.hours,
    "person": User.display_name,
}


class TrainingError(DomainError, ValueError):
    """A training record cannot be written as asked."""


class UnknownTrainee(TrainingError):
    """No such (active) person, or not one the actor may record training for."""


class NotAllowed(TrainingError):
    """The actor may see this record but not change it."""


@dataclass
class Listing:
    rows: list[TrainingRecord]
    total: int
    page: int
    pages: int
    per_page: int
    totals: list[tuple[int, str, Decimal, int]]  # user id, name, hours, courses


def manages_training(user) -> bool:
    return can(user, "training.manage")


def may_change(user, record: TrainingRecord) -> bool:
    return manages_training(user) or record.owner_id == user.id


def trainee_choices(user) -> list[tuple[int, str]]:
    """Whom this user may record training for: anyone active (managers), else themself."""
    if not manages_training(user):
        return [(user.id, user.display_name)]
    people = db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.display_name)
    ).all()
    return [(u.id, u.display_name) for u in people]


def _filtered(user, person_id: int | None, year: int | None, q: str, archived: bool):
    query = visible(select(TrainingRecord), user).join(User, User.id == TrainingRecord.owner_id)
    query = query.where(
        TrainingRecord.archived_at.is_not(None)
        if archived
        else TrainingRecord.archived_at.is_(None)
    )
    if person_id:
        query = query.where(TrainingRecord.owner_id == person_id)
    if year:
        query = query.where(
            TrainingRecord.taken_on >= date(year, 1, 1),
            TrainingRecord.taken_on < date(year + 1, 1, 1),
        )
    if q:
        like = f"%{q.strip()}%"
        query = query.where(
            or_(
                TrainingRecord.course.ilike(like),
                TrainingRecord.provider.ilike(like),
                TrainingRecord.result.ilike(like),
                TrainingRecord.notes.ilike(like),
                User.display_name.ilike(like),
            )
        )
    return query


def list_records(
    user,
    *,
    person_id: int | None = None,
    year: int | None = None,
    q: str = "",
    sort: str = "date",
    direction: str = "desc",
    page: int = 1,
    per_page: int = 25,
    archived: bool = False,
) -> Listing:
    """One page of the records this user may see, and the hours per person for the whole filter."""
    base = _filtered(user, person_id, year, q, archived)
    column = SORTS.get(sort, TrainingRecord.taken_on)
    order = column.asc() if direction == "asc" else column.desc()
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        base.order_by(order, TrainingRecord.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    sub = base.subquery()
    totals = db.session.execute(
        select(User.id, User.display_name, func.sum(sub.c.hours), func.count(sub.c.id))
        .join(sub, sub.c.owner_id == User.id)
        .group_by(User.id, User.display_name)
        .order_by(func.sum(sub.c.hours).desc(), User.display_name)
    ).all()
    return Listing(
        rows=list(rows),
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        totals=[(uid, name, Decimal(hours or 0), n) for uid, name, hours, n in totals],
    )


def filter_years(user) -> list[int]:
    """The years in which the visible records fall, newest first."""
    dates = db.session.scalars(
        visible(select(TrainingRecord.taken_on), user, TrainingRecord).distinct()
    ).all()
    return sorted({d.year for d in dates}, reverse=True)


def _trainee(actor, trainee_id: int) -> User:
    if trainee_id not in {uid for uid, _ in trainee_choices(actor)}:
        raise UnknownTrainee(trainee_id)
    return db.session.get(User, trainee_id)


def _apply(record: TrainingRecord, data: dict) -> None:
    record.course = data["course"].strip()
    record.provider = (data.get("provider") or "").strip()
    record.taken_on = data["taken_on"]
    record.hours = Decimal(data["hours"]).quantize(Decimal("0.1"))
    record.result = (data.get("result") or "").strip()
    record.notes = (data.get("notes") or "").strip()


def create_record(actor, trainee_id: int, data: dict) -> TrainingRecord:
    """Record a course a person attended."""
    trainee = _trainee(actor, trainee_id)
    record = TrainingRecord(owner_id=trainee.id)
    _apply(record, data)
    db.session.add(record)
    db.session.flush()
    return record


def update_record(actor, record: TrainingRecord, trainee_id: int, data: dict) -> TrainingRecord:
    """Correct a record; only those who manage training may move it to another person."""
    if not may_change(actor, record):
        raise NotAllowed()
    if trainee_id != record.owner_id:
        record.owner_id = _trainee(actor, trainee_id).id
    _apply(record, data)
    db.session.flush()
    return record


def archive_record(actor, record: TrainingRecord) -> None:
    if not may_change(actor, record):
        raise NotAllowed()
    if record.archived_at is None:
        record.archived_at = utcnow()
        db.session.flush()


def restore_record(actor, record: TrainingRecord) -> None:
    if not may_change(actor, record):
        raise NotAllowed()
    if record.archived_at is not None:
        record.archived_at = None
        db.session.flush()
