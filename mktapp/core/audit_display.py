"""Reading the audit log as people do: readable type and field names, values, from → to.

Used by the history panel (templates/_macros/history.html, Jinja global
`audit_history(record)`) and the audit view. Foreign keys are shown by the
name of what they point to, looked up in one query per referenced table, so a
page of entries costs a fixed number of queries whatever its length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import lazyload

from mktapp.core.i18n import local_datetime

SHORT_TEXT = 80

# Readable names for the field names every chapter uses; a model adds its own
# with __audit_labels__ or describe().
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "title": _l("Title"),
    "code": _l("Code"),
    "number": _l("No."),
    "description": _l("Description"),
    "body": _l("Text"),
    "notes": _l("Notes"),
    "note": _l("Note"),
    "summary": _l("Summary"),
    "status": _l("Status"),
    "owner_id": _l("Owner"),
    "archived_at": _l("Archived"),
    "username": _l("Username"),
    "display_name": _l("Name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "active": _l("Active"),
    "locale": _l("Language"),
    "group_id": _l("Group"),
    "post_id": _l("Post"),
    "roles": _l("Roles"),
    "leader_id": _l("Leader"),
    "author_id": _l("Author"),
    "sort": _l("Order"),
    "amount": _l("Amount"),
    "currency": _l("Currency"),
    "duties": _l("Duties"),
    "joined_on": _l("Joined on"),
    "course": _l("Course"),
    "provider": _l("Provider"),
    "taken_on": _l("Date"),
    "hours": _l("Hours"),
    "result": _l("Result"),
    "version": _l("Version"),
    "effective_on": _l("Effective on"),
    "filename": _l("File"),
    "start_on": _l("Start"),
    "end_on": _l("End"),
    "due_on": _l("Due"),
    "customer_id": _l("Customer"),
    "contact_id": _l("Contact"),
}

# Readable names of record types; a model sets __audit_title__ or calls describe().
TYPE_TITLES: dict[str, Any] = {
    "User": _l("User"),
    "Group": _l("Group"),
    "Post": _l("Post"),
    "PolicyChapter": _l("Policy chapter"),
    "PolicyVersion": _l("Policy version"),
    "TrainingRecord": _l("Training record"),
}

_type_fields: dict[str, dict[str, Any]] = defaultdict(dict)
_type_values: dict[str, dict[str, Callable[[Any], str]]] = defaultdict(dict)


def describe(
    record_type: str | type,
    title: Any = None,
    fields: dict[str, Any] | None = None,
    values: dict[str, Callable[[Any], str]] | None = None,
) -> None:
    """Teach the log how to show a record type: its title, field names, value formatters.

    `values` maps a field to a function turning a logged value into display
    text (e.g. a status code into its translated name).
    """
    name = record_type if isinstance(record_type, str) else record_type.__name__
    if title is not None:
        TYPE_TITLES[name] = title
    _type_fields[name].update(fields or {})
    _type_values[name].update(values or {})


@cache
def model_class(record_type: str) -> type | None:
    """The model class of an audited record type name."""
    from mktapp.extensions import db

    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == record_type:
            return mapper.class_
    return None


def audited_types() -> list[str]:
    from mktapp.extensions import db

    return sorted(
        m.class_.__name__
        for m in db.Model.registry.mappers
        if getattr(m.class_, "__audited__", False)
    )


def type_title(record_type: str) -> str:
    cls = model_class(record_type)
    title = getattr(cls, "__audit_title__", None) if cls else None
    return str(title or TYPE_TITLES.get(record_type) or humanise(record_type))


def humanise(name: str) -> str:
    """TrainingRecord -> Training record; taken_on -> Taken on; owner_id -> Owner."""
    if name.endswith("_id"):
        name = name[:-3]
    words: list[str] = []
    for part in name.replace("_", " ").split():
        current = ""
        for ch in part:
            if ch.isupper() and current:
                words.append(current)
                current = ch
            else:
                current += ch
        words.append(current)
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def field_label(record_type: str, key: str) -> str:
    cls = model_class(record_type)
    own = getattr(cls, "__audit_labels__", {}) if cls else {}
    label = own.get(key) or _type_fields[record_type].get(key) or FIELD_LABELS.get(key)
    return str(label or humanise(key))


@cache
def _foreign_target(record_type: str, key: str) -> type | None:
    """The model a foreign-key column points to (via its many-to-one relationship)."""
    cls = model_class(record_type)
    if cls is None:
        return None
    mapper = inspect(cls)
    if key not in mapper.columns:
        return None
    column = mapper.columns[key]
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE" and column in rel.local_columns:
            return rel.mapper.class_
    for fk in column.foreign_keys:
        for m in mapper.registry.mappers:
            if fk.column.table is m.local_table:
                return m.class_
    return None


@dataclass
class Value:
    text: str
    empty: bool = False

    @property
    def long(self) -> bool:
        return len(self.text) > SHORT_TEXT or "\n" in self.text

    @property
    def short(self) -> str:
        first = self.text.split("\n", 1)[0]
        return first[: SHORT_TEXT - 20].rstrip() + "…" if self.long else self.text


@dataclass
class Change:
    key: str
    label: str
    before: Value
    after: Value

    @property
    def value(self) -> Value:
        """The one side that matters for one-sided entries (created, file attached/removed)."""
        return self.before if self.after.empty else self.after


@dataclass
class Entry:
    log: Any
    at: datetime
    actor: str
    action: str
    action_label: str
    record_type: str
    type_title: str
    record_id: int
    record_label: str
    note: str
    changes: list[Change] = field(default_factory=list)

    @property
    def is_insert(self) -> bool:
        return self.action == "insert"

    @property
    def one_sided(self) -> bool:
        """Entries whose changes read as plain values, not "from → to"."""
        return (
            self.action in ("insert", "attach", "detach")
            or all(c.before.empty for c in self.changes)
            and self.action != "update"
        )


def _format(record_type: str, key: str, raw: Any, labels: dict) -> Value:
    if raw is None or raw == "" or raw == []:
        return Value(_("(empty)"), empty=True)
    formatter = _type_values[record_type].get(key)
    if formatter is not None:
        return Value(str(formatter(raw)))
    target = _foreign_target(record_type, key)
    if target is not None and isinstance(raw, int):
        return Value(labels.get((target, raw), f"#{raw}"))
    if isinstance(raw, bool):
        return Value(_("Yes") if raw else _("No"))
    if isinstance(raw, list):
        return Value(", ".join(str(x) for x in raw))
    if isinstance(raw, dict):
        return Value(", ".join(f"{k}: {v}" for k, v in raw.items()))
    if isinstance(raw, str) and key.endswith("_at") and "T" in raw:
        try:
            return Value(local_datetime(datetime.fromisoformat(raw)))
        except ValueError:
            pass
    return Value(str(raw))


def _foreign_labels(logs: Iterable[Any]) -> dict[tuple[type, int], str]:
    from mktapp.core.audit import record_label
    from mktapp.extensions import db

    wanted: dict[type, set[int]] = defaultdict(set)
    for entry in logs:
        for key, pair in (entry.changes or {}).items():
            target = _foreign_target(entry.record_type, key)
            if target is None or not isinstance(pair, list):
                continue
            for value in pair:
                if isinstance(value, int) and not isinstance(value, bool):
                    wanted[target].add(value)
    labels: dict[tuple[type, int], str] = {}
    for target, ids in wanted.items():
        for obj in db.session.scalars(
            select(target).options(lazyload("*")).where(target.id.in_(sorted(ids)))
        ):
            labels[(target, obj.id)] = record_label(obj)
    return labels


def present(logs: Iterable[Any]) -> list[Entry]:
    """Turn AuditLog rows (actors loaded) into readable entries."""
    from mktapp.core.audit import ACTION_LABELS

    logs = list(logs)
    labels = _foreign_labels(logs)
    out = []
    for log in logs:
        changes = []
        for key, pair in (log.changes or {}).items():
            before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            changes.append(
                Change(
                    key,
                    field_label(log.record_type, key),
                    _format(log.record_type, key, before, labels),
                    _format(log.record_type, key, after, labels),
                )
            )
        out.append(
            Entry(
                log=log,
                at=log.at,
                actor=log.actor.display_name if log.actor else _("System"),
                action=log.action,
                action_label=str(ACTION_LABELS.get(log.action) or humanise(log.action)),
                record_type=log.record_type,
                type_title=type_title(log.record_type),
                record_id=log.record_id,
                record_label=log.record_label,
                note=log.note or "",
                changes=changes,
            )
        )
    return out


def audit_history(record: Any, limit: int = 50) -> list[Entry]:
    """The readable history of one record, newest first (Jinja global)."""
    from mktapp.core.audit import history_for

    if record is None or getattr(record, "id", None) is None:
        return []
    return present(history_for(record, limit=limit))


def can_view_audit() -> bool:
    """Whether the signed-in user may open the audit view (macros have no current_user)."""
    from flask import current_app
    from flask_login import current_user

    from mktapp.core.permissions import can

    return "audit.index" in current_app.view_functions and can(current_user, "audit.view")


def init_app(app) -> None:
    from mktapp.core import permissions

    app.jinja_env.globals["audit_history"] = audit_history
    app.jinja_env.globals["can_view_audit"] = can_view_audit
    role_label = getattr(permissions, "role_label", None)
    if role_label is not None:
        describe("User", values={"roles": lambda codes: ", ".join(role_label(c) for c in codes)})


# --- the audit view's query -------------------------------------------------------


@dataclass
class LogFilters:
    record_type: str = ""
    record_id: int | None = None
    actor: str = ""  # a user id, "system" for changes without a user, or "" for all
    action: str = ""
    date_from: Any = None  # date, in the company's time zone
    date_to: Any = None
    text: str = ""
    oldest_first: bool = False


@dataclass
class LogPage:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    page_size: int


def _local_day_start(day, tz_name: str) -> datetime:
    from datetime import UTC, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def search_log(filters: LogFilters, page: int, page_size: int, tz_name: str) -> LogPage:
    """One page of the audit log, filtered; two queries plus one per referenced table."""
    from datetime import timedelta

    from sqlalchemy import func, or_
    from sqlalchemy.orm import joinedload

    from mktapp.extensions import db
    from mktapp.models import AuditLog

    conditions = []
    if filters.record_type:
        conditions.append(AuditLog.record_type == filters.record_type)
    if filters.record_id is not None:
        conditions.append(AuditLog.record_id == filters.record_id)
    if filters.actor == "system":
        conditions.append(AuditLog.actor_id.is_(None))
    elif filters.actor:
        conditions.append(AuditLog.actor_id == int(filters.actor))
    if filters.action:
        conditions.append(AuditLog.action == filters.action)
    if filters.date_from:
        conditions.append(AuditLog.at >= _local_day_start(filters.date_from, tz_name))
    if filters.date_to:
        end = _local_day_start(filters.date_to + timedelta(days=1), tz_name)
        conditions.append(AuditLog.at < end)
    text = filters.text.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [
            AuditLog.record_label.ilike(pattern, escape="\\"),
            AuditLog.note.ilike(pattern, escape="\\"),
        ]
        number = text.lstrip("#")
        if number.isdigit() and len(number) < 10:
            matches.append(AuditLog.record_id == int(number))
        conditions.append(or_(*matches))

    total = db.session.scalar(select(func.count(AuditLog.id)).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    order = (
        (AuditLog.at.asc(), AuditLog.id.asc())
        if filters.oldest_first
        else (AuditLog.at.desc(), AuditLog.id.desc())
    )
    logs = db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor).lazyload("*"))
        .where(*conditions)
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return LogPage(present(logs), total, page, pages, page_size)


def actor_choices() -> list[tuple[str, str]]:
    """The users who appear in the log, by name (for the actor filter)."""
    from mktapp.extensions import db
    from mktapp.models import AuditLog, User

    users = db.session.execute(
        select(User.id, User.display_name, User.username)
        .where(User.id.in_(select(AuditLog.actor_id).where(AuditLog.actor_id.is_not(None))))
        .order_by(User.display_name)
    ).all()
    return [(str(u.id), f"{u.display_name} ({u.username})") for u in users]
