"""Rendered fragments reused until the data they show changes.

A busy list (the staff directory, the claims list) renders the same rows for many
requests. cached_block() keeps a rendered template block in the worker's memory,
keyed by
- the template, the block and the caller's key (the list's filters, sort and page),
- the language, the script root and the local date,
- the reader's scope: what the record rules let them see (scope_of),
- the versions of the data the block shows.

A version is a row of data_versions, bumped in the same transaction as any change to a
model that names it in `__fragment_versions__` (an ORM insert, update or delete, or an
ORM bulk UPDATE/DELETE). Every request reads the versions (one primary-key query)
before it looks in the cache, so a change committed by any worker is seen by every
worker on its next request. The versions are read before the data, so a fragment can
only ever be stored under a version older than what it shows, never newer.

A version row starts at the clock in milliseconds, not at 1, so a database emptied and
refilled (a restore, the test suite) never meets fragments of its former life.
Changes that bypass the ORM (a Core insert in a bulk load) must call bump() themselves.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import DataVersion

_PENDING = "mktapp_fragment_versions"
_LIMIT = 512
_store: OrderedDict = OrderedDict()


def _names_of(cls: type) -> tuple[str, ...]:
    return getattr(cls, "__fragment_versions__", ())


def bump(connection, names: Iterable[str]) -> None:
    """Move the versions on `connection`, inside its transaction (an upsert per name)."""
    table = DataVersion.__table__
    dialect = connection.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    start = int(time.time() * 1000)
    for name in sorted(set(names)):
        statement = insert(table).values(name=name, version=start)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.name], set_={"version": table.c.version + 1}
            )
        )


def _after_flush(session: Session, _context) -> None:
    # In after_flush the session still lists what the flush wrote.
    names: set[str] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        names.update(_names_of(type(obj)))
    if names:
        bump(session.connection(), names)


def _on_orm_execute(state) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    names = _names_of(state.bind_mapper.class_)
    if names:
        bump(state.session.connection(), names)


def init_app(app) -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Session, "do_orm_execute", _on_orm_execute):
        event.listen(Session, "do_orm_execute", _on_orm_execute)


def versions(names: Iterable[str]) -> tuple[int, ...]:
    """The current versions of `names` (0 for one never bumped), in one query."""
    names = tuple(names)
    found = dict(
        db.session.execute(
            select(DataVersion.name, DataVersion.version).where(DataVersion.name.in_(names))
        ).all()
    )
    return tuple(found.get(name, 0) for name in names)


def scope_of(user: Any, *models: type) -> str:
    """What the record rules let `user` see of `models`, as text: the SQL of each
    model's visible_to(user) with its values inlined ("true", "owner_id = 7" ...).
    Two readers with the same scope are shown the same rows."""
    dialect = db.session.get_bind().dialect
    parts = []
    for model in models:
        clause = model.visible_to(user)
        parts.append(str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
    return " | ".join(parts)


# Record rules depend on the reader's roles and on the people (groups, leaders): a
# reader's scope is remembered until "people" moves.
_scopes: OrderedDict = OrderedDict()


def _scope(user: Any, models: tuple[type, ...], people_version: int) -> str:
    key = (getattr(user, "id", None), frozenset(user.role_codes), models, people_version)
    found = _scopes.get(key)
    if found is None:
        found = _scopes[key] = scope_of(user, *models)
        while len(_scopes) > _LIMIT:
            _scopes.popitem(last=False)
    return found


def cached_block(
    template: str,
    block: str,
    key: Any,
    depends: tuple[str, ...],
    context: Callable[[], dict],
    reader: Any = None,
    rules: tuple[type, ...] = (),
) -> Markup:
    """The rendered `block` of `template`: from memory when nothing it `depends` on has
    changed since it was rendered for the same key, reader's scope and language; else
    rendered with context() (which runs the list's queries) and kept.

    `rules`: the models whose record rules decide what `reader` sees in the block;
    readers with the same scope share the rendered block.
    """
    if not current_app.config.get("FRAGMENT_CACHE", True):
        return Markup(render_block(template, block, **context()))
    names = tuple(depends) + (("people",) if rules and "people" not in depends else ())
    found = versions(names)
    scope = ""
    if rules:
        scope = _scope(reader, tuple(rules), found[names.index("people")])
    full_key = (
        template,
        block,
        key,
        scope,
        found,
        str(get_locale()),
        request.script_root,
        clock.today(),
    )
    html = _store.get(full_key)
    if html is None:
        html = Markup(render_block(template, block, **context()))
        _store[full_key] = html
        while len(_store) > _LIMIT:
            _store.popitem(last=False)
    else:
        _store.move_to_end(full_key)
    return html


def clear() -> None:
    """Forget every fragment (tests, after emptying the database behind the app's back)."""
    _store.clear()
    _scopes.clear()
