"""Searchable record pickers: type part of a name, choose, and the form submits the id.

A select of 500 customers is no way to choose one. A chapter registers a picker
source once (name -> its records through the record rules, how a record is labelled
and searched); a form field names the source (PickerField); the form macro draws a
combobox that asks `GET /pick/<source>?q=` for up to LIMIT options as one types.

Without JavaScript the same field is a text box: the server resolves what was typed
(one match, or one exact name) and, when several records match, offers them as a
plain select beside the message. Whatever arrives, the id is checked again through
the source, so an id the user may not see is a field error, never a saved link.

A few colleagues or a customer's few contacts are quickest chosen from a plain select:
a field with `select_up_to=50` is drawn as a select while its source offers at most that
many records to the user, and as the searchable box beyond (the id is checked the same
way either way). A source may be scoped to one record (the contacts of customer 5): the
field carries the scope, the search URL passes it on (?scope=5), and the source's query
checks it through the record rules like any other input.

A list's filters (GET) use the same field in a FilterForm bound to the URL: the hidden
input carries the filter's parameter (?customer=5), the box `customer-q`; a name typed
without JavaScript is resolved, or the matches are offered and the filter left off.

The registry lives on the app (`app.extensions`); a chapter registers its sources
when its blueprint is registered (`bp.record_once`), and core imports no chapter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, case, or_
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput

from mktapp.core.forms import RowForm
from mktapp.core.permissions import can
from mktapp.extensions import db

LIMIT = 20
MAX_QUERY = 100
SHORT_LIST = 50  # select_up_to for lists that are usually short (colleagues, contacts)
_KEY = "mktapp_pickers"


@dataclass(frozen=True)
class PickerSource:
    """Where a picker finds its records.

    `query(user)`: a select() of `model` already narrowed by visible() (and to the records
    one may choose: not archived ...). `label(record)`: the text shown and typed.
    `columns`: searched with a case-insensitive "contains"; a match at the start of the
    first one comes first. `extra(q)`: one more SQL condition (a folded name ...), or None.
    `detail(record)`: a second, quieter line (city, owner ...). `browse`: the order when
    nothing is typed yet (default: the columns). `scoped`: `query(user, scope)` takes the
    record the choice is within (a customer's id for its contacts), as text from the
    request: the query must check it (and find nothing for a scope it does not accept).
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
    scoped: bool = False


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


def _records(source: PickerSource, user: Any, scope: Any) -> Select:
    return source.query(user, scope) if source.scoped else source.query(user)


def search(
    source: PickerSource, user: Any, q: str, limit: int = LIMIT, scope: Any = None
) -> Matches:
    """Up to `limit` records this user may choose that match `q` (all of them, in the
    browse order, when `q` is empty). One query; bound parameters only."""
    q = clean_query(q)
    stmt = _records(source, user, scope)
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


def find(source: PickerSource, user: Any, record_id: Any, scope: Any = None) -> Any:
    """The record with this id if this user may choose it, else None."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        return None
    if not 0 < record_id < 2**31:
        return None
    stmt = _records(source, user, scope).where(source.model.id == record_id)
    return db.session.scalars(stmt).unique().first()


def _same(a: str, b: str) -> bool:
    return clean_query(a).casefold() == clean_query(b).casefold()


class PickerField(Field):
    """A record chosen through a picker source; `.data` is its id (int) or None.

    The form posts two values: `<name>` (the id the combobox chose) and `<name>-q` (the
    text in the box). The id wins when the text still names that record; otherwise the
    text is searched (a browser without JavaScript sends only what was typed). A posted
    id without any text (a test, a script, the plain select of a short list) is taken as
    it is, through the record rules.

    `select_up_to`: drawn as a plain select while the source offers at most this many
    records (0: always the searchable box); `blank`: that select's first, empty choice
    ("No contact", "Everyone"), also the empty box's placeholder. `scope`: for a scoped
    source, the record the choice is within (set it before the form is validated or drawn).
    """

    widget = HiddenInput()

    def __init__(
        self,
        label=None,
        validators=None,
        source: str = "",
        placeholder: Any = None,
        invalid_message: Any = None,
        select_up_to: int = 0,
        blank: Any = None,
        scope: Any = None,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.source = source
        self.placeholder = placeholder if placeholder is not None else blank
        self.invalid_message = invalid_message
        self.select_up_to = select_up_to
        self.blank = blank
        self.scope = scope
        self.text: str | None = None  # the text posted in the box (None: not posted)
        self.matches: list[Option] = []  # several records match the text: choose one
        self._shown: Option | None = None
        self._short: list[Option] | None | bool = False  # False: not looked up yet
        self._garbled = False

    # --- reading the request -------------------------------------------------------------

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters=extra_filters)
        if formdata is not None:
            key = f"{self.name}-q"
            self.text = formdata.get(key) if key in formdata else None

    def process_data(self, value):
        self.data = as_id(getattr(value, "id", value))

    def process_formdata(self, valuelist):
        # The select of matches (no JavaScript) comes before the hidden id: the first
        # value given is the one chosen.
        raw = str(next((v for v in valuelist if str(v).strip()), "")).strip()
        self.data = as_id(raw)
        # Anything but an id or nothing ("", "0": none) was not chosen from a list.
        self._garbled = self.data is None and raw not in ("", "0")

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
        if self._garbled and text is None:
            raise StopValidation(str(self.invalid_message or UNAVAILABLE))
        if self.data is not None and text is None and self.select_up_to:
            # From the select of a short list: the list (drawn anyway) holds it or not.
            short = self.short_options()
            if short is not None:
                self._shown = next((o for o in short if o.id == self.data), None)
                if self._shown is None:
                    self.data = None
                    raise StopValidation(str(self.invalid_message or UNAVAILABLE))
                return
        if self.data is not None:
            record = find(source, user, self.data, self.scope)
            if record is not None:
                option = _option(source, record)
                if text is None or _same(text, option.label):
                    self._shown = option
                    return
                found = search(source, user, text, scope=self.scope)
                if any(o.id == record.id for o in found.options):
                    self._shown = option
                    return
            elif text is None:
                self.data = None
                raise StopValidation(str(self.invalid_message or UNAVAILABLE))
        self.data = None
        if not text:
            return
        found = search(source, user, text, scope=self.scope)
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

    def resolve(self) -> bool:
        """Work out the record from what was posted, as validation does, without the
        field's validators (a form posted back to add a row): True when one is chosen.
        A problem is put on the field's errors."""
        try:
            self.pre_validate(None)
        except StopValidation as problem:
            self.errors = [str(problem)]
        return self.data is not None

    # --- drawing it ----------------------------------------------------------------------

    def offer(self, records) -> None:
        """The records to choose from, already loaded by the caller: the same ones the
        source gives (this saves short_options its query, and checking a choice from
        the select another): a select of them when they are few enough."""
        source = self._source()
        options = [Option(r.id, source.label(r)) for r in records]  # a select shows labels
        self._short = options if len(options) <= self.select_up_to else None

    def short_options(self) -> list[Option] | None:
        """The records to choose from when there are at most `select_up_to` of them (the
        field is then drawn as a select), else None (the searchable box). One query."""
        if not self.select_up_to:
            return None
        if self._short is False:
            found = search(
                self._source(), current_user, "", limit=self.select_up_to, scope=self.scope
            )
            self._short = None if found.more else found.options
        return self._short  # type: ignore[return-value]

    @property
    def display_text(self) -> str:
        """What the box shows: what was typed, or the chosen record's label."""
        if self.text is not None and not (self._shown and self.data == self._shown.id):
            return self.text
        if self.data is None:
            return ""
        if self._shown is None or self._shown.id != self.data:
            record = find(self._source(), current_user, self.data, self.scope)
            self._shown = _option(self._source(), record) if record is not None else None
        return self._shown.label if self._shown else ""

    @property
    def search_url(self) -> str:

        scope = as_id(self.scope)
        return url_for("pickers.options", source=self.source, field=self.id, scope=scope)


class FilterForm(RowForm):
    """The record pickers among a list's filters, read from the URL (a GET form: no CSRF
    token). Built from request.args, it resolves each picker at once: a chosen id is
    checked through the record rules, a typed name is searched (one match or one exact
    name is taken; several are offered beside a message), and `values()` gives what the
    list filters by: the parameter of each picker set to the record's id, or emptied
    when none was made out (its message says why)."""

    def __init__(self, args, **kwargs):
        super().__init__(formdata=args, **kwargs)
        self.validate()

    def pickers(self) -> list[PickerField]:
        return [f for f in self if isinstance(f, PickerField)]

    def values(self, args) -> dict[str, str]:
        """`args` as a flat dict, with each picker's parameter set to the id resolved."""
        out = {k: v for k, v in args.items() if not k.endswith("-q")}
        for f in self.pickers():
            out[f.name] = "" if f.data is None else str(f.data)
        return out


def as_id(value: Any) -> int | None:
    """A record id from the request ("17" -> 17), or None for anything else."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


UNAVAILABLE = _l("Choose from the list: that record is not available.")
