"""The audit log, written from SQLAlchemy events so that no view can forget it.

A model opts in with `__audited__ = True`; `__audit_exclude__` names columns
left out (password hashes, timestamps), `__audit_relations__` names
collections whose membership is logged ({"roles": "code"}).
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import has_request_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

ALWAYS_EXCLUDED = {"created_at", "updated_at"}

_actor_override: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "audit_actor", default=None
)
_note: contextvars.ContextVar[str] = contextvars.ContextVar("audit_note", default="")


@contextmanager
def acting_as(user_id: int | None, note: str = ""):
    """Attribute changes made outside a request (CLI, jobs) to a user, with a note."""
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


def _current_actor_id() -> int | None:
    override = _actor_override.get()
    if override is not None:
        return override
    if has_request_context():
        from flask_login import current_user

        if current_user and getattr(current_user, "is_authenticated", False):
            return current_user.get_id() and int(current_user.get_id())
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def record_label(obj: Any) -> str:
    for attr in (
        "__audit_label__",
        "number",
        "name",
        "title",
        "display_name",
        "username",
        "course",
    ):
        name = getattr(type(obj), attr, None) if attr == "__audit_label__" else attr
        if attr == "__audit_label__" and name:
            return str(getattr(obj, name, ""))[:200]
        if attr != "__audit_label__" and isinstance(getattr(obj, attr, None), str):
            return getattr(obj, attr)[:200]
    return f"#{getattr(obj, 'id', '')}"


def _column_changes(obj: Any, new: bool) -> dict[str, list[Any]]:
    state = inspect(obj)
    excluded = ALWAYS_EXCLUDED | set(getattr(obj, "__audit_exclude__", ()))
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded:
            continue
        history = state.attrs[key].history
        if new:
            value = getattr(obj, key)
            if value is not None and value != "":
                changes[key] = [None, _plain(value)]
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before != after:
                changes[key] = [_plain(before), _plain(after)]
    for rel, label_attr in getattr(obj, "__audit_relations__", {}).items():
        history = state.attrs[rel].history
        if history.added or history.deleted:
            added = sorted(str(getattr(x, label_attr)) for x in history.added)
            removed = sorted(str(getattr(x, label_attr)) for x in history.deleted)
            if added != removed:
                changes[rel] = [removed, added]
    return changes


def _action_for(obj: Any, changes: dict[str, list[Any]], new: bool) -> str:
    if new:
        return "insert"
    if "archived_at" in changes:
        return "archive" if changes["archived_at"][1] else "restore"
    return "update"


def _after_flush(session: Session, _flush_context) -> None:
    from mktapp.models import AuditLog

    rows = []
    actor_id = _current_actor_id()
    note = _note.get()
    for obj, new in [(o, True) for o in session.new] + [(o, False) for o in session.dirty]:
        if not getattr(type(obj), "__audited__", False):
            continue
        if not new and not session.is_modified(obj, include_collections=True):
            continue
        changes = _column_changes(obj, new)
        if not changes:
            continue
        rows.append(
            {
                "at": datetime.now().astimezone(),
                "actor_id": actor_id,
                "action": _action_for(obj, changes, new),
                "record_type": type(obj).__name__,
                "record_id": obj.id,
                "record_label": record_label(obj),
                "changes": changes,
                "note": note,
            }
        )
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            rows.append(
                {
                    "at": datetime.now().astimezone(),
                    "actor_id": actor_id,
                    "action": "delete",
                    "record_type": type(obj).__name__,
                    "record_id": obj.id,
                    "record_label": record_label(obj),
                    "changes": {},
                    "note": note,
                }
            )
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


def init_app(app) -> None:
    # Listening on the Session class covers Flask-SQLAlchemy's scoped sessions.
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def history_for(record: Any, limit: int = 200):
    """The audit entries of one record, newest first."""
    from sqlalchemy import select

    from mktapp.extensions import db
    from mktapp.models import AuditLog

    return db.session.scalars(
        select(AuditLog)
        .where(AuditLog.record_type == type(record).__name__, AuditLog.record_id == record.id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
