"""Searchable record pickers: type part of a name, choose, and the form submits the id.

A select of 500 customers is no way to choose one. A chapter registers a picker
source once (name -> its records through the record rules, how a record is labelled
and searched); a form field names the source (PickerField); the form macro draws a
combobox that asks `GET /pick/<source>?q=` for up to LIMIT options as one types.

Without JavaScript the same field is a text box: the server resolves what was typed
(one match, or one exact name) and, when several records match, offers them as a
plain select beside the message. Whatever arrives, the id is checked again through
the source, so an id the user may not see is a field error, never a saved link.

The registry lives on the app (`app.extensions`); a chapter registers its sources
when its blueprint is registered (`bp.record_once`), and core imports no chapter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, case, or_
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput

from mktapp.core.permissions import can
from mktapp.extensions import db

LIMIT = 20
MAX_QUERY = 100
_KEY = "mktapp_pickers"


@dataclass(frozen=True)
class PickerSource:
    """Where a picker finds its records.

    `query(user)`: a select() of `model` already narrowed by visible() (and to the records
    one may choose: not archived ...). `label(record)`: the text shown and typed.
    `columns`: searched with a case-insensitive "contains"; a match at the start of the
    first one comes first. `extra(q)`: one more SQL condition (a folded name ...), or None.
    `detail(record)`: a second, quieter line (city, owner ...). `browse`: the order when
    nothing is typed yet (default: the columns).
    """

    name: str
    model: Any
    query: Callable[[Any], Select]
    label: Callable[[Any], str]
    columns: tuple
    extra: Callable[[str], Any] | None = None
    detail: Callable[[Any], str] | None = None
    browse: tuple = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    id: int
    label: str
    detail: str = ""


@dataclass
class Matches:
    options: list[Option]
    more: bool  # more records match than are shown


def register(app, source: PickerSource) -> PickerSource:
    app.extensions.setdefault(_KEY, {})[source.name] = source
    return source


def source_named(name: str) -> PickerSource | None:
    return current_app.extensions.get(_KEY, {}).get(name)


def clean_query(text: Any) -> str:
    """What was typed, as searched: full-width folded, trimmed, at most MAX_QUERY long."""
    return unicodedata.normalize("NFKC", str(text or "")).strip()[:MAX_QUERY]


def may_use(source: PickerSource, user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and can(user, *source.permissions)


def _option(source: PickerSource, record: Any) -> Option:
    return Option(record.id, source.label(record), source.detail(record) if source.detail else "")


def search(source: PickerSource, user: Any, q: str, limit: int = LIMIT) -> Matches:
    """Up to `limit` records this user may choose that match `q` (all of them, in the
    browse order, when `q` is empty). One query; bound parameters only."""
    q = clean_query(q)
    stmt = source.query(user)
    if q:
        conditions = [column.icontains(q, autoescape=True) for column in source.columns]
        extra = source.extra(q) if source.extra else None
        if extra is not None:
            conditions.append(extra)
        first = source.columns[0]
        stmt = stmt.where(or_(*conditions)).order_by(
            case((first.istartswith(q, autoescape=True), 0), else_=1),
            *source.columns,
            source.model.id,
        )
    else:
        stmt = stmt.order_by(*(source.browse or source.columns), source.model.id)
    records = list(db.session.scalars(stmt.limit(limit + 1)).unique())
    return Matches([_option(source, r) for r in records[:limit]], len(records) > limit)


def find(source: PickerSource, user: Any, record_id: Any) -> Any:
    """The record with this id if this user may choose it, else None."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        return None
    if not 0 < record_id < 2**31:
        return None
    stmt = source.query(user).where(source.model.id == record_id)
    return db.session.scalars(stmt).unique().first()


def _same(a: str, b: str) -> bool:
    return clean_query(a).casefold() == clean_query(b).casefold()


class PickerField(Field):
    """A record chosen through a picker source; `.data` is its id (int) or None.

    The form posts two values: `<name>` (the id the combobox chose) and `<name>-q` (the
    text in the box). The id wins when the text still names that record; otherwise the
    text is searched (a browser without JavaScript sends only what was typed). A posted
    id without any text (a test, a script) is taken as it is, through the record rules.
    """

    widget = HiddenInput()

    def __init__(
        self,
        label=None,
        validators=None,
        source: str = "",
        placeholder: Any = None,
        invalid_message: Any = None,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.source = source
        self.placeholder = placeholder
        self.invalid_message = invalid_message
        self.text: str | None = None  # the text posted in the box (None: not posted)
        self.matches: list[Option] = []  # several records match the text: choose one
        self._shown: Option | None = None

    # --- reading the request -------------------------------------------------------------

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters=extra_filters)
        if formdata is not None:
            key = f"{self.name}-q"
            self.text = formdata.get(key) if key in formdata else None

    def process_data(self, value):
        self.data = _to_id(getattr(value, "id", value))

    def process_formdata(self, valuelist):
        # The select of matches (no JavaScript) comes before the hidden id: the first
        # value given is the one chosen.
        raw = next((v for v in valuelist if str(v).strip()), "")
        self.data = _to_id(raw)

    def _value(self):
        return "" if self.data is None else str(self.data)

    # --- checking it ---------------------------------------------------------------------

    def _source(self) -> PickerSource:
        source = source_named(self.source)
        if source is None:
            raise LookupError(f"no picker source named {self.source!r}")
        return source

    def pre_validate(self, form):
        source = self._source()
        user = current_user
        text = None if self.text is None else clean_query(self.text)
        self.matches = []
        if text == "":  # the box was emptied: nothing chosen
            self.data = None
            return
        if self.data is not None:
            record = find(source, user, self.data)
            if record is not None:
                option = _option(source, record)
                if text is None or _same(text, option.label):
                    self._shown = option
                    return
                found = search(source, user, text)
                if any(o.id == record.id for o in found.options):
                    self._shown = option
                    return
            elif text is None:
                self.data = None
                raise StopValidation(str(self.invalid_message or UNAVAILABLE))
        self.data = None
        if not text:
            return
        found = search(source, user, text)
        exact = [o for o in found.options if _same(o.label, text)]
        pick = found.options if len(found.options) == 1 and not found.more else exact
        if len(pick) == 1:
            self.data, self._shown = pick[0].id, pick[0]
            return
        if not found.options:
            raise StopValidation(
                _("Nothing matches “%(text)s”. Type part of the name and choose.", text=text)
            )
        self.matches = found.options
        raise StopValidation(
            _("Several match “%(text)s”: choose one.", text=text)
            if not found.more
            else _("Many match “%(text)s”: type more of the name, or choose one.", text=text)
        )

    # --- drawing it ----------------------------------------------------------------------

    @property
    def display_text(self) -> str:
        """What the box shows: what was typed, or the chosen record's label."""
        if self.text is not None and not (self._shown and self.data == self._shown.id):
            return self.text
        if self.data is None:
            return ""
        if self._shown is None or self._shown.id != self.data:
            record = find(self._source(), current_user, self.data)
            self._shown = _option(self._source(), record) if record is not None else None
        return self._shown.label if self._shown else ""

    @property
    def search_url(self) -> str:
        from flask import url_for

        return url_for("pickers.options", source=self.source, field=self.id)


def _to_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


UNAVAILABLE = _l("Choose from the list: that record is not available.")
