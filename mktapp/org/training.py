"""Training records (P7.1): who attended which course, when, for how many hours, with what result.

The trainee owns the record. A person sees their own records, a group leader
the group's, the manager and executives everyone's, and whoever holds
`training.manage` (manager, administrator) sees and records training for
anyone. A person may record and correct their own training.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core.errors import DomainError
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, contains, integer, one_of
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import TrainingRecord, User, utcnow


class TrainingError(DomainError, ValueError):
    """A training record cannot be written as asked."""


class UnknownTrainee(TrainingError):
    """No such (active) person, or not one the actor may record training for (said at
    the form's trainee field)."""


class NotAllowed(TrainingError):
    """The actor may see this record but not change it."""


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


def _year(raw: str) -> int | None:
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1900 < value < 2200 else None


TRAINING = ListSpec(
    "training_record",
    [
        Column("date", _l("Date"), lambda r: r.taken_on, sort=TrainingRecord.taken_on),
        Column(
            "person",
            _l("Person"),
            lambda r: r.owner.display_name if r.owner else "",
            sort=User.display_name,
        ),
        Column("course", _l("Course"), lambda r: r.course, sort=TrainingRecord.course),
        Column("provider", _l("Provider"), lambda r: r.provider),
        Column("hours", _l("Hours"), lambda r: r.hours, sort=TrainingRecord.hours, cls="num"),
        Column("result", _l("Result"), lambda r: r.result),
    ],
    filters=[
        Filter("person", integer, default=None),
        Filter("year", _year, default=None),
        Filter("status", one_of("archived")),  # "": the current records
    ],
    default_sort="date",
    default_dir="desc",
    # Among equals the newest record first, whichever way the sort goes.
    tie=-TrainingRecord.id,
    tie_follows_sort=False,
)
TrainingQuery = TRAINING.Query


def _filtered(user, query):
    stmt = visible(select(TrainingRecord), user).join(User, User.id == TrainingRecord.owner_id)
    stmt = stmt.where(
        TrainingRecord.archived_at.is_not(None)
        if query.status == "archived"
        else TrainingRecord.archived_at.is_(None)
    )
    if query.person:
        stmt = stmt.where(TrainingRecord.owner_id == query.person)
    if query.year:
        stmt = stmt.where(
            TrainingRecord.taken_on >= date(query.year, 1, 1),
            TrainingRecord.taken_on < date(query.year + 1, 1, 1),
        )
    if query.q:
        stmt = stmt.where(
            contains(
                query.q,
                TrainingRecord.course,
                TrainingRecord.provider,
                TrainingRecord.result,
                TrainingRecord.notes,
                User.display_name,
            )
        )
    return stmt


def list_records(user, query, page_size: int) -> ListPage:
    """One page of the records this user may see, and (`page.per_person`) the hours and
    courses of each person over all the matching records, most hours first."""
    stmt = _filtered(user, query)
    page = TRAINING.page(stmt, query, page_size)
    # Hours per person: grouped, so not one of the kit's totals (sums of a column).
    sub = stmt.subquery()
    people = db.session.execute(
        select(User.id, User.display_name, func.sum(sub.c.hours), func.count(sub.c.id))
        .join(sub, sub.c.owner_id == User.id)
        .group_by(User.id, User.display_name)
        .order_by(func.sum(sub.c.hours).desc(), User.display_name)
    ).all()
    page.per_person = [(uid, name, Decimal(hours or 0), n) for uid, name, hours, n in people]
    return page


def filter_years(user) -> list[int]:
    """The years in which the visible records fall, newest first."""
    dates = db.session.scalars(
        visible(select(TrainingRecord.taken_on), user, TrainingRecord).distinct()
    ).all()
    return sorted({d.year for d in dates}, reverse=True)


def _trainee(actor, trainee_id: int) -> User:
    if trainee_id not in {uid for uid, _ in trainee_choices(actor)}:
        raise UnknownTrainee(_l("Choose a person from the list."), "trainee")
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
