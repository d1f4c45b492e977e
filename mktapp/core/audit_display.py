"""Reading the audit log as people do: readable type and field names, values, from → to.

Used by the history panel (templates/_macros/history.html, Jinja global
`audit_history(record)`) and the audit view. Foreign keys are shown by the
name of what they point to, looked up in one query per referenced table, so a
page of entries costs a fixed number of queries whatever its length.

Where the words come from, for every audited model (tests/unit/test_audit_labels.py
walks them all and fails on a gap):
- the type's title: `__audit_title__` on the model, or describe(title=...);
- a field's label: `__audit_labels__` on the model, or describe(fields=...), else the
  shared FIELD_LABELS below (names every chapter uses: status, owner_id, submitted_at
  ...), else, for a reference to another record, that record type's title;
- a value: the model's vocabulary for a code column (`__audit_values__` or
  describe(values=...): a {code: label} dict or a function), else by the column's
  type: a reference by the name of what it points to, Money (Numeric(14, 2)) as
  ¥1,234.50, date-times in the company's zone, booleans as 是/否.
humanise() (English made from the code name) is only a last resort for a record
type nobody described; the test forbids it for every audited model.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Numeric,
    and_,
    false,
    inspect,
    or_,
    select,
    true,
)
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import AsBoolean, False_, True_

from mktapp.core import permissions, settings
from mktapp.core.audit import ACTION_LABELS, history_for, note_text, record_label
from mktapp.core.i18n import local_date, local_datetime, money
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, contains, integer
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import AuditLog, User

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
    "seq": _l("Order"),
    "amount": _l("Amount"),
    "total": _l("Total"),
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
    "year": _l("Year"),
    "month": _l("Month"),
    "kind": _l("Type"),
    "customer_id": _l("Customer"),
    "contact_id": _l("Contact"),
    "submitted_at": _l("Submitted at"),
    "approved_at": _l("Approved at"),
    "decided_at": _l("Decided at"),
    "published_at": _l("Published at"),
    "closed_at": _l("Closed at"),
    "created_by_id": _l("Created by"),
    "added_by_id": _l("Added by"),
    "recorded_by_id": _l("Recorded by"),
    "signed_by_id": _l("Signed by"),
    "archived_by_id": _l("Archived by"),
    "paid_by_id": _l("Paid by"),
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

# A value formatter: a vocabulary {code: label}, or a function of the logged value.
Formatter = Mapping[str, Any] | Callable[[Any], Any]

_type_fields: dict[str, dict[str, Any]] = defaultdict(dict)
_type_values: dict[str, dict[str, Formatter]] = defaultdict(dict)
_type_refs: dict[str, dict[str, str]] = defaultdict(dict)
_record_labels: dict[str, Callable[[str], Any]] = {}


def describe(
    record_type: str | type,
    title: Any = None,
    fields: dict[str, Any] | None = None,
    values: dict[str, Formatter] | None = None,
    refs: dict[str, str] | None = None,
    record_label: Callable[[str], Any] | None = None,
) -> None:
    """Teach the log how to show a record type: its title, field names, value formatters.

    `values` maps a field to its vocabulary ({code: label}; a comma-separated list
    of codes reads as the list of their labels) or to a function turning a logged
    value into display text. `refs` names the record type an id column points to
    when it has no foreign key (`{"link_id": "Activity"}`); a comma-separated list
    of ids reads as their names. `record_label` turns the stored name of a record
    into display text (a setting's key into its label).
    """
    name = record_type if isinstance(record_type, str) else record_type.__name__
    if title is not None:
        TYPE_TITLES[name] = title
    _type_fields[name].update(fields or {})
    _type_values[name].update(values or {})
    _type_refs[name].update(refs or {})
    if record_label is not None:
        _record_labels[name] = record_label


def with_record(fn: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """Mark a value formatter that also needs the record's stored name (a setting's key)."""
    fn.audit_with_record = True  # type: ignore[attr-defined]
    return fn


@cache
def model_class(record_type: str) -> type | None:
    """The model class of an audited record type name."""

    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == record_type:
            return mapper.class_
    return None


@cache
def _table_model(table_name: str) -> type | None:

    for mapper in db.Model.registry.mappers:
        if getattr(mapper.local_table, "name", None) == table_name:
            return mapper.class_
    return None


def audited_types() -> list[str]:

    return sorted(
        m.class_.__name__
        for m in db.Model.registry.mappers
        if getattr(m.class_, "__audited__", False)
    )


def declared_title(record_type: str) -> Any | None:
    """The record type's declared title (a lazy string), or None when nobody gave one."""
    cls = model_class(record_type)
    return (getattr(cls, "__audit_title__", None) if cls else None) or TYPE_TITLES.get(record_type)


def type_title(record_type: str) -> str:
    return str(declared_title(record_type) or humanise(record_type))


def humanise(name: str) -> str:
    """TrainingRecord -> Training record; taken_on -> Taken on; owner_id -> Owner.

    English made from a code name: the last resort for something nobody described.
    """
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


def declared_label(record_type: str, key: str) -> Any | None:
    """A field's label from where it is declared (see the module's docstring), or None."""
    cls = model_class(record_type)
    own = getattr(cls, "__audit_labels__", {}) if cls else {}
    label = own.get(key) or _type_fields[record_type].get(key) or FIELD_LABELS.get(key)
    if label:
        return label

    target = _foreign_target(record_type, key)
    if target is not None and target is not User:
        # survey_id -> 问卷调查: a reference reads as the type it points to (not for
        # people: 负责人, 签订人 ... say which role, so they are declared).
        return declared_title(target.__name__)
    table_model = _table_model(key)
    if table_model is not None:  # {"contacts": [0, 3]}: the rows of a table moved by a merge
        return declared_title(table_model.__name__)
    return None


def field_label(record_type: str, key: str) -> str:
    label = declared_label(record_type, key)
    return str(label) if label is not None else humanise(key)


def value_formatter(record_type: str, key: str) -> Formatter | None:
    """The declared vocabulary or formatter of a field, or None."""
    cls = model_class(record_type)
    own = getattr(cls, "__audit_values__", {}) if cls else {}
    return own.get(key) or _type_values[record_type].get(key)


def _column(record_type: str, key: str):
    cls = model_class(record_type)
    if cls is None:
        return None
    return inspect(cls).columns.get(key)


def is_money(column) -> bool:
    """Money columns are the shared Money type, Numeric(14, 2) (or say info={"money": True})."""
    if column is None:
        return False
    if "money" in column.info:
        return bool(column.info["money"])
    kind = column.type
    return (
        isinstance(kind, Numeric)
        and not isinstance(kind, Float)
        and (kind.precision, kind.scale) == (14, 2)
    )


@cache
def _foreign_target(record_type: str, key: str) -> type | None:
    """The model an id column points to: declared refs, else its many-to-one relationship."""
    cls = model_class(record_type)
    if cls is None:
        return None
    own_refs = getattr(cls, "__audit_refs__", {})
    ref = own_refs.get(key) or _type_refs[record_type].get(key)
    if ref:
        return model_class(ref)
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


def _ids(raw: Any) -> list[int] | None:
    """The ids in a reference value: 7, [7, 8] or "7,8"; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        return list(raw)
    if isinstance(raw, str) and raw and all(p.strip().isdigit() for p in raw.split(",")):
        return [int(p) for p in raw.split(",")]
    return None


def _list_separator() -> str:
    """、 between the items of a list in Chinese, ", " in English."""

    return "、" if str(get_locale() or "").startswith("zh") else ", "


def _vocabulary_text(vocabulary: Mapping[str, Any], raw: Any) -> str:
    """A code's label; a list (or comma-separated text) of codes as their labels."""
    if isinstance(raw, str) and raw in vocabulary:
        return str(vocabulary[raw])
    codes = raw if isinstance(raw, list) else str(raw).split(",") if isinstance(raw, str) else None
    if codes and all(isinstance(c, str) and c in vocabulary for c in codes):
        return _list_separator().join(str(vocabulary[c]) for c in codes)
    return str(raw)


def _by_column_type(record_type: str, key: str, raw: Any) -> str | None:
    column = _column(record_type, key)
    if column is None:
        return None
    kind = column.type
    try:
        if is_money(column):
            return money(raw)
        if isinstance(kind, DateTime) and isinstance(raw, str):
            return local_datetime(datetime.fromisoformat(raw))
        if isinstance(kind, Date) and isinstance(raw, str):
            return local_date(date.fromisoformat(raw))
        if isinstance(kind, Boolean) and isinstance(raw, int):
            return _("Yes") if raw else _("No")
    except (ValueError, ArithmeticError):
        return None
    if isinstance(kind, JSON) and isinstance(raw, dict):
        return snapshot_text(record_type, raw)
    return None


def format_value(
    record_type: str, key: str, raw: Any, labels: dict | None = None, record=""
) -> str:
    """A logged value as display text (see the module's docstring for the order)."""
    formatter = value_formatter(record_type, key)
    if isinstance(formatter, Mapping):
        return _vocabulary_text(formatter, raw)
    if formatter is not None:
        if getattr(formatter, "audit_with_record", False):
            return str(formatter(raw, record))
        return str(formatter(raw))
    target = _foreign_target(record_type, key)
    ids = _ids(raw) if target is not None else None
    if ids is not None:
        # A page's names come looked up together (present()); a value alone looks its own up.
        if labels is None:
            return _list_separator().join(_reference_name(target, i) for i in ids)
        return _list_separator().join(labels.get((target, i)) or f"#{i}" for i in ids)
    if isinstance(raw, bool):
        return _("Yes") if raw else _("No")
    typed = _by_column_type(record_type, key, raw)
    if typed is not None:
        return typed
    if isinstance(raw, list):
        return _list_separator().join(str(x) for x in raw)
    if isinstance(raw, dict):
        return snapshot_text(record_type, raw)
    if isinstance(raw, str) and key.endswith("_at") and "T" in raw:
        try:
            return local_datetime(datetime.fromisoformat(raw))
        except ValueError:
            pass
    return str(raw)


def _reference_name(target: type, record_id: int) -> str:
    """The name of one referenced record, looked up alone (for values outside a page's batch)."""

    obj = db.session.get(target, record_id, options=[lazyload("*")])
    return record_label(obj) if obj is not None else f"#{record_id}"


def snapshot_text(record_type: str, data: Any) -> str:
    """A stored set of fields (JSON: a proposed plan, an amendment's terms), one per line,
    with the record type's labels and formatters; a list reads as its number of items."""
    if isinstance(data, str):
        try:
            data = json.loads(data or "{}")
        except ValueError:
            return data
    if not isinstance(data, dict):
        return str(data)
    lines = []
    for key, raw in data.items():
        if raw is None or raw == "" or raw == []:
            continue
        if isinstance(raw, list) and value_formatter(record_type, key) is None:
            text = ngettext("%(num)d item", "%(num)d items", len(raw))
        else:
            text = format_value(record_type, key, raw)
        lines.append(_("%(label)s: %(value)s", label=field_label(record_type, key), value=text))
    return "\n".join(lines)


def snapshot(record_type: str) -> Callable[[Any], str]:
    """A value formatter for JSON text holding another record type's fields."""
    return lambda raw: snapshot_text(record_type, raw)


def _format(record_type: str, key: str, raw: Any, labels: dict, record: str = "") -> Value:
    if raw is None or raw == "" or raw == []:
        return Value(_("(empty)"), empty=True)
    return Value(format_value(record_type, key, raw, labels, record))


def _foreign_labels(logs: Iterable[Any]) -> dict[tuple[type, int], str]:

    wanted: dict[type, set[int]] = defaultdict(set)
    for entry in logs:
        for key, pair in (entry.changes or {}).items():
            target = _foreign_target(entry.record_type, key)
            if target is None or not isinstance(pair, list):
                continue
            for value in pair:
                wanted[target].update(_ids(value) or ())
    labels: dict[tuple[type, int], str] = {}
    for target, ids in wanted.items():
        for obj in db.session.scalars(
            select(target).options(lazyload("*")).where(target.id.in_(sorted(ids)))
        ):
            labels[(target, obj.id)] = record_label(obj)
    return labels


def display_record_label(record_type: str, stored: str) -> str:
    """The name a log entry stored for its record, as shown (a setting's key -> its label)."""
    hook = _record_labels.get(record_type)
    return str(hook(stored)) if hook is not None else stored


def present(logs: Iterable[Any]) -> list[Entry]:
    """Turn AuditLog rows (actors loaded) into readable entries."""

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
                    _format(log.record_type, key, before, labels, log.record_label),
                    _format(log.record_type, key, after, labels, log.record_label),
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
                record_label=display_record_label(log.record_type, log.record_label),
                note=note_text(log.note),
                changes=changes,
            )
        )
    return out


def audit_history(record: Any, limit: int = 50) -> list[Entry]:
    """The readable history of one record, newest first (Jinja global)."""

    if record is None or getattr(record, "id", None) is None:
        return []
    return present(history_for(record, limit=limit))


def can_view_audit() -> bool:
    """Whether the signed-in user may open the audit view (macros have no current_user)."""

    return "audit.index" in current_app.view_functions and can(current_user, "audit.view")


def init_app(app) -> None:

    app.jinja_env.globals["audit_history"] = audit_history
    app.jinja_env.globals["can_view_audit"] = can_view_audit
    role_label = getattr(permissions, "role_label", None)
    if role_label is not None:
        describe(
            "User",
            values={"roles": lambda codes: _list_separator().join(role_label(c) for c in codes)},
        )
    describe(
        "Setting",
        title=_l("Company setting"),
        fields={"key": _l("Setting"), "value": _l("Value")},
        values={"key": _setting_label, "value": with_record(_setting_value)},
        record_label=_setting_label,
    )


def _setting_label(key: str) -> Any:

    spec = settings.REGISTRY.get(key)
    return spec.label if spec is not None else key


def _setting_value(raw: Any, key: str) -> str:
    """A stored setting as its kind reads: money as ¥, a switch as 是/否, a count as is."""

    spec = settings.REGISTRY.get(key)
    if spec is None:
        return str(raw)
    try:
        value = settings.parse(spec, raw)
    except settings.InvalidSetting:
        return str(raw)
    if spec.kind == "bool":
        return _("Yes") if value else _("No")
    if spec.kind == "money":
        return money(value)
    return str(value)


# --- the audit view's query -------------------------------------------------------


def _day(raw: str) -> date | None:
    """A day of the filter form (which has judged it already)."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


# The page keeps its own head (its When header links sort=old/new) and its own page links
# (they keep the address's arguments as given): see audit_views.
AUDIT_LOG = ListSpec(
    "audit_log",
    columns=[
        Column("when", _l("When"), sort=AuditLog.at),
        Column("who", _l("Who")),
        Column("record", _l("Record")),
        Column("action", _l("Action")),
        Column("changes", _l("Changes")),
    ],
    filters=[
        Filter("record_type", arg="type"),
        Filter("record_id", integer, default=None),
        Filter("actor"),  # a user id, "system" for changes without a user, or "" for all
        Filter("action"),
        Filter("date_from", _day, default=None),  # days in the company's time zone
        Filter("date_to", _day, default=None),
    ],
    # Newest first; dir=asc is oldest first.
    default_sort="when",
    default_dir="desc",
    tie=AuditLog.id,
)
AuditLogQuery = AUDIT_LOG.Query


def _local_day_start(day, tz_name: str) -> datetime:

    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


# --- who reads which entries --------------------------------------------------------
#
# An entry about a record is shown only to someone who may see that record, by the record
# rules themselves (core/permissions.visible): the manager and the executives read the
# business history, a sales rep the history of their own customers, the administrator
# (no business role) the people, groups, posts, policy, settings and his own actions.
# A record type states its rule with visible_to(user) (or is an owned record); a part of
# another record (a contact of a customer, a line of a budget) is seen with what it
# belongs to; a type with neither is business data, read by those who see every record.

# The company's own rules, read by everyone (the policy) or set by the administrator (the
# settings, among them the working calendar): whoever may open the log reads their history.
OPEN_TYPES: set[str] = {
    "PolicyChapter",
    "PolicyVersion",
    "Setting",
    "WorkHours",
    "CalendarDay",
}


@cache
def _logged_models() -> tuple[tuple[str, type], ...]:
    """Every record type an entry can be about (log() writes non-audited ones too)."""

    return tuple(sorted((m.class_.__name__, m.class_) for m in db.Model.registry.mappers))


@cache
def _owners(cls: type) -> tuple[tuple[Any, type], ...]:
    """What a record without a rule of its own belongs to: the records its required
    many-to-one references point to (a person it names is not what it belongs to)."""

    owners = []
    for rel in inspect(cls).relationships:
        if rel.direction.name != "MANYTOONE" or rel.mapper.class_ is User:
            continue
        columns = list(rel.local_columns)
        if len(columns) == 1 and not columns[0].nullable:
            owners.append((getattr(cls, columns[0].key), rel.mapper.class_))
    return tuple(owners)


def _is(condition: Any, kind: type) -> bool:
    """Whether a rule is the constant true() or false() (or_(true(), ...) comes wrapped)."""
    if isinstance(condition, AsBoolean) and condition.operator is operators.is_true:
        condition = condition.element
    return isinstance(condition, kind)


def _rows_rule(cls: type, user: Any, depth: int = 0) -> Any | None:
    """The condition on `cls`'s rows that this user may see, or None when the type has
    no rule (nor anything it belongs to)."""

    if getattr(cls, "visible_to", None) is not None:
        return cls.visible_to(user)
    owners = _owners(cls) if depth < 3 else ()
    if owners:
        parts = []
        for column, owner in owners:
            rule = _rows_rule(owner, user, depth + 1)
            if rule is None:
                rule = true() if permissions.sees_all_records(user) else false()
            if _is(rule, False_):
                return false()
            if not _is(rule, True_):
                parts.append(column.in_(select(owner.id).where(rule)))
        return and_(*parts) if parts else true()
    if hasattr(cls, "owner_id"):
        return permissions.owner_rule(cls, user)
    return None


def type_rule(record_type: str, user: Any) -> Any:
    """The condition on a type's rows whose entries this user may read: true() for all,
    false() for none."""

    if record_type in OPEN_TYPES:
        return true()
    cls = model_class(record_type)
    rule = _rows_rule(cls, user) if cls is not None else None
    if rule is None:
        return true() if permissions.sees_all_records(user) else false()
    return rule


def readable_types(user: Any) -> list[str]:
    """The audited record types of which this user may read some entries."""

    return [t for t in audited_types() if not _is(type_rule(t, user), False_)]


def entries_visible_to(user: Any):
    """The condition on AuditLog rows this user may read: his own actions, and the entries
    about records he may see (one clause per type, "record_id in (the ids he sees)")."""

    whole: list[str] = []
    some = []
    for record_type, cls in _logged_models():
        rule = type_rule(record_type, user)
        if _is(rule, True_):
            whole.append(record_type)
        elif not _is(rule, False_):
            some.append(
                and_(
                    AuditLog.record_type == record_type,
                    AuditLog.record_id.in_(select(cls.id).where(rule)),
                )
            )
    return or_(AuditLog.actor_id == user.id, AuditLog.record_type.in_(whole), *some)


def search_log(query, page_size: int, tz_name: str, user: Any) -> ListPage:
    """One page of the audit log that `user` may read, filtered, its rows as entries
    (present()); two queries plus one per referenced table."""

    conditions = [entries_visible_to(user)]
    if query.record_type:
        conditions.append(AuditLog.record_type == query.record_type)
    if query.record_id is not None:
        conditions.append(AuditLog.record_id == query.record_id)
    if query.actor == "system":
        conditions.append(AuditLog.actor_id.is_(None))
    elif query.actor:
        conditions.append(AuditLog.actor_id == int(query.actor))
    if query.action:
        conditions.append(AuditLog.action == query.action)
    if query.date_from:
        conditions.append(AuditLog.at >= _local_day_start(query.date_from, tz_name))
    if query.date_to:
        end = _local_day_start(query.date_to + timedelta(days=1), tz_name)
        conditions.append(AuditLog.at < end)
    if query.q:
        matches = contains(query.q, AuditLog.record_label, AuditLog.note)
        number = query.q.lstrip("#")
        if number.isdigit() and len(number) < 10:
            matches = or_(matches, AuditLog.record_id == int(number))
        conditions.append(matches)

    page = AUDIT_LOG.page(
        select(AuditLog).where(*conditions),
        query,
        page_size,
        options=[joinedload(AuditLog.actor).lazyload("*")],
    )
    page.rows = present(page.rows)
    return page


def actor_choices() -> list[tuple[str, str]]:
    """The users who appear in the log, by name (for the actor filter)."""

    users = db.session.execute(
        select(User.id, User.display_name, User.username)
        .where(User.id.in_(select(AuditLog.actor_id).where(AuditLog.actor_id.is_not(None))))
        .order_by(User.display_name)
    ).all()
    return [(str(u.id), f"{u.display_name} ({u.username})") for u in users]
