"""The audit log, written from SQLAlchemy events so that no view can forget it.

A model opts in with `__audited__ = True`. Every insert, update, archive,
restore and delete of such a model writes one AuditLog row in the same
transaction: who, when, which fields changed from what to what.

Per model (all optional):
  __audit_exclude__    column names left out (timestamps are always left out,
                       and so is anything that looks like a secret: *password*,
                       *_hash, *secret*, *token*)
  __audit_relations__  {"roles": "code"}: collections whose membership is
                       logged, with the attribute that names a member.
                       Many-to-many collections are logged even without it.
  __audit_label__      the attribute that names a record in the log
  __audit_title__      the record type's readable name (lazy_gettext)
  __audit_labels__     {"taken_on": _l("Date")}: readable field names
  __audit_values__     {"status": STATUSES}: the vocabulary (or formatter) of a code column
  __audit_refs__       {"link_id": "Activity"}: an id column without a foreign key
(or the same through audit_display.describe() in the chapter's services).

`noting("...")` attaches a note to the changes made inside it; `acting_as(id)`
attributes changes made outside a request (CLI, jobs). `log(record, action,
changes)` writes an entry for an event that is not a column change (a file
attached, an approval decided).
"""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import g, has_request_context
from flask import session as flask_session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, joinedload

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import AuditLog

ALWAYS_EXCLUDED = {"created_at", "updated_at", "row_version"}
# Never logged whatever a model says: a password hash in the log would outlive a reset.
SECRET_NAME = re.compile(r"password|secret|token|_hash$|^hash$", re.IGNORECASE)

_UNSET = object()
_actor_override: contextvars.ContextVar[object] = contextvars.ContextVar(
    "audit_actor", default=_UNSET
)
_note: contextvars.ContextVar[str] = contextvars.ContextVar("audit_note", default="")


@contextmanager
def acting_as(user_id: int | None, note: str = ""):
    """Attribute changes made inside to a user (None: the system), with a note."""
    token = _actor_override.set(user_id)
    note_token = _note.set(note)
    try:
        yield
    finally:
        _actor_override.reset(token)
        _note.reset(note_token)


@contextmanager
def noting(note: str):
    """Attach a note (e.g. "hand-over from A to B") to the changes made inside."""
    token = _note.set(note)
    try:
        yield
    finally:
        _note.reset(token)


def current_actor_id() -> int | None:
    """Who is acting: `acting_as`, else the signed-in user of the request, else None."""
    override = _actor_override.get()
    if override is not _UNSET:
        return override  # type: ignore[return-value]
    if has_request_context():
        # Read what Flask-Login already loaded (or the session) rather than
        # current_user, which could load the user in the middle of a flush.
        user = g.get("_login_user")
        if user is not None:
            if getattr(user, "is_authenticated", False):
                return int(user.get_id())
            return None
        user_id = flask_session.get("_user_id")
        if user_id:
            try:
                return int(user_id)
            except (TypeError, ValueError):
                return None
    return None


def plain_value(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | tuple):
        return sorted(value)
    return value


# The attributes that name a record, in order of preference.
NAME_ATTRS = ("number", "name", "title", "display_name", "username", "course", "code", "filename")


def record_label(obj: Any) -> str:
    """A short human name for a record: its number, name, title ... or #id."""
    label_attr = getattr(type(obj), "__audit_label__", None)
    if label_attr:
        return str(getattr(obj, label_attr, "") or "")[:200]
    for attr in NAME_ATTRS:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value[:200]
    return f"#{getattr(obj, 'id', '')}"


def _excluded(obj: Any) -> set[str]:
    return ALWAYS_EXCLUDED | set(getattr(obj, "__audit_exclude__", ()))


def _relations(obj: Any) -> dict[str, str | None]:
    """Collections to log: those named in __audit_relations__ plus every many-to-many."""
    mapper = inspect(type(obj))
    relations: dict[str, str | None] = {
        rel.key: None for rel in mapper.relationships if rel.secondary is not None
    }
    relations.update(getattr(obj, "__audit_relations__", {}))
    excluded = _excluded(obj)
    return {k: v for k, v in relations.items() if k not in excluded}


def audited_fields(cls: type) -> list[str]:
    """The column and collection names whose changes a model's log entries hold."""
    mapper = inspect(cls)
    excluded = ALWAYS_EXCLUDED | set(getattr(cls, "__audit_exclude__", ()))
    columns = [
        attr.key
        for attr in mapper.column_attrs
        if attr.key != "id" and attr.key not in excluded and not SECRET_NAME.search(attr.key)
    ]
    relations = {rel.key for rel in mapper.relationships if rel.secondary is not None}
    relations.update(getattr(cls, "__audit_relations__", {}))
    return columns + sorted(relations - excluded)


def _member_label(member: Any, label_attr: str | None) -> str:
    if label_attr:
        return str(getattr(member, label_attr))
    return record_label(member)


def _column_changes(obj: Any, new: bool) -> dict[str, list[Any]]:
    state = inspect(obj)
    excluded = _excluded(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded or SECRET_NAME.search(key):
            continue
        if new:
            value = getattr(obj, key)
            if key != "id" and value is not None and value != "":
                changes[key] = [None, plain_value(value)]
            continue
        history = state.attrs[key].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before != after:
                changes[key] = [plain_value(before), plain_value(after)]
    for rel, label_attr in _relations(obj).items():
        history = state.attrs[rel].history
        if not (history.added or history.deleted):
            continue
        kept = [_member_label(x, label_attr) for x in history.unchanged or ()]
        added = [_member_label(x, label_attr) for x in history.added or ()]
        removed = [_member_label(x, label_attr) for x in history.deleted or ()]
        before, after = sorted(kept + removed), sorted(kept + added)
        if before != after:
            changes[rel] = [[] if new else before, after]
    return changes


def _action_for(changes: dict[str, list[Any]], new: bool) -> str:
    if new:
        return "insert"
    if "archived_at" in changes:
        return "archive" if changes["archived_at"][1] else "restore"
    return "update"


def _row(obj: Any, action: str, changes: dict, actor_id: int | None, note: str) -> dict:
    return {
        "at": clock.now(),
        "actor_id": actor_id,
        "action": action,
        "record_type": type(obj).__name__,
        "record_id": obj.id,
        "record_label": record_label(obj),
        "changes": changes,
        "note": note[:2000],
    }


def _after_flush(session: Session, _flush_context) -> None:

    rows = []
    actor_id = current_actor_id()
    note = _note.get()
    candidates = [(o, True) for o in session.new] + [(o, False) for o in session.dirty]
    for obj, new in candidates:
        if not getattr(type(obj), "__audited__", False):
            continue
        if not new and not session.is_modified(obj, include_collections=True):
            continue
        changes = _column_changes(obj, new)
        if not changes:
            continue
        rows.append(_row(obj, _action_for(changes, new), changes, actor_id, note))
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            rows.append(_row(obj, "delete", {}, actor_id, note))
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


def log(record: Any, action: str, changes: dict | None = None, note: str | None = None) -> None:
    """Write an entry for an event that is not a column change (e.g. a file attached).

    `changes` is {field: [from, to]}; the entry goes into the current transaction.
    """

    if record.id is None:
        db.session.flush()
    db.session.execute(
        insert(AuditLog.__table__),
        [
            _row(
                record,
                action,
                changes or {},
                current_actor_id(),
                _note.get() if note is None else note,
            )
        ],
    )


def _keep_old_value(target, value, oldvalue, initiator):
    return value


def _track_old_values() -> None:
    """Make audited columns remember the value they replace, even when it was expired.

    After a commit every attribute is expired; without this, setting one would
    log "(empty) → new" because the old value was never loaded.
    """

    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if not getattr(cls, "__audited__", False):
            continue
        for attr in mapper.column_attrs:
            descriptor = getattr(cls, attr.key)
            if not event.contains(descriptor, "set", _keep_old_value):
                event.listen(descriptor, "set", _keep_old_value, active_history=True, retval=True)


def init_app(app) -> None:
    # Listening on the Session class covers Flask-SQLAlchemy's scoped sessions.
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    _track_old_values()


# --- reading --------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "insert": _l("Created"),
    "update": _l("Changed"),
    "archive": _l("Archived"),
    "restore": _l("Restored"),
    "delete": _l("Deleted"),
    "attach": _l("File attached"),
    "detach": _l("File archived"),
}


def describe_action(action: str, label: Any) -> None:
    """Give a readable name to an action a chapter writes with log() ("approve" ...)."""
    ACTION_LABELS[action] = label


# The notes that the system itself writes (a job's name, the demo's mark) are stored as
# codes and shown in the reader's language; a note a person wrote is shown as written.
NOTE_LABELS: dict[str, Any] = {
    "demo data": _l("Demo data"),  # flask seed-demo: every record of the demo company
}


def describe_note(note: str, label: Any) -> None:
    """Give a readable text to a note the system writes (`acting_as(None, note="x-scan")`)."""
    NOTE_LABELS[note] = label


def note_text(note: str | None) -> str:
    """A log entry's note as shown."""
    if not note:
        return ""
    label = NOTE_LABELS.get(note)
    return str(label) if label is not None else note


def history_for(record: Any, limit: int = 200):
    """The audit entries of one record, newest first (actors loaded with them)."""

    return db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor).lazyload("*"))
        .where(AuditLog.record_type == type(record).__name__, AuditLog.record_id == record.id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
