"""What every chapter's forms share: the base form, the confirm form, the date field, and
the one way to put a service's complaint next to its field.

- AppForm: the base of every form the app posts (a test finds any FlaskForm that is
  not one). Before its own validators it refuses what cannot be saved: text that
  carried a NUL byte or a lone surrogate (core/requests.py), whole numbers outside the
  database's range, NaN and infinite numbers. Its hidden inputs draw as one, wherever a
  template puts `form.csrf_token`: the CSRF token, the one-time token that makes the
  same form sent twice one record, and, on a record's edit form, the version of the
  record it was read at (core/actions.py checks both).

- ConfirmForm: a POST with only its CSRF token, for a button that acts (submit,
  archive, claim ...). There is one; chapters import it from here.
- RowForm: the base of every form that is not a FlaskForm (a row of a FieldList, a
  GET filter): WTForms' own messages ("不能超过 120 个字符") in the user's language,
  as in a FlaskForm. A plain wtforms.Form would answer in English; a test finds any.
- LocalDateField and sensible_date: a date typed by a person (empty is "no date", a
  bad date one clear message, years a person cannot have meant are refused).
- put_error(form, error): a DomainError's problems onto the form, each at its field
  ("lines-0-quantity" is the first line's quantity), the rest above the form. A 403 or
  404 is not a form problem: it is raised again for the app's error pages.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup, escape
from sqlalchemy import inspect
from wtforms import DateField, Form, SelectField, StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import ValidationError

from mktapp.core.errors import DomainError
from mktapp.core.requests import INT_MAX

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


ONCE_FIELD = "_once"  # the one-time token of a form sent (core/actions.py)
VERSION_FIELD = "_version"  # the record the edit form was read from: "id.row_version"
SEEN_FIELD = "_seen"  # what the edited fields held then (core.actions.seen_values)
LARGEST = Decimal(10) ** 12  # beyond any amount or figure column (Numeric(14, 2))


class _HiddenInputs(CSRFTokenField):
    """`form.csrf_token` drawn with the form's other hidden inputs (see AppForm)."""

    def __call__(self, **kwargs):
        html = str(super().__call__(**kwargs))
        form = self.csrf_impl.form
        extra = {ONCE_FIELD: secrets.token_urlsafe(18)}
        if form.read_version is not None:
            extra[VERSION_FIELD] = form.read_version
            extra[SEEN_FIELD] = form.read_seen or ""
        for name, value in extra.items():
            html += f'<input type="hidden" name="{name}" value="{escape(value)}">'
        return Markup(html)


class _Csrf(_FlaskFormCSRF):
    field_class = _HiddenInputs

    def setup_form(self, form):
        self.form = form
        return super().setup_form(form)


def _fields(fields):
    """Every field, also those inside lists of rows and sub-forms."""
    for field in fields:
        entries = getattr(field, "entries", None)
        if entries is not None:
            yield from _fields(entries)
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):
            yield from _fields(field.form)
        else:
            yield field


def _out_of_range(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -INT_MAX <= value <= INT_MAX
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) >= LARGEST
    if isinstance(value, Decimal):
        return not value.is_finite() or abs(value) >= LARGEST
    if isinstance(value, list | tuple | set):
        return any(_out_of_range(v) for v in value)
    return False


def is_versioned(record: Any) -> bool:
    return record is not None and hasattr(type(record), "row_version")


def column_shown(record: Any, field_name: str) -> str | None:
    """The record's column a form field shows: the field's name, or its name with _id
    (a picker of a customer shows customer_id); None when it shows none."""
    columns = {c.key for c in inspect(type(record)).column_attrs} - {"row_version"}
    return next((c for c in (field_name, f"{field_name}_id") if c in columns), None)


def shown_columns(record: Any, form: Any) -> dict[str, str]:
    """The record's columns the form shows, as the field's name -> a short digest of the
    value."""
    values = {}
    for field in form:
        column = column_shown(record, field.name)
        if column is not None:
            value = repr(getattr(record, column))
            values[field.name] = hashlib.blake2s(value.encode(), digest_size=4).hexdigest()
    return values


def version_of(record: Any) -> str:
    """Which record, at which version: "17.3". A form that adds a new version of a
    document (the brand strategy) is read from the latest one, and another saved since
    is another record."""
    return f"{record.id}.{record.row_version}"


def reading(form: Any, record: Any) -> Any:
    """Mark an edit form with the record as it is now: its version and what the shown
    fields hold (drawn as hidden inputs by AppForm). An AppForm made with obj=record on
    GET does it itself; so does core.actions.edit_page."""
    if is_versioned(record) and hasattr(form, "read_version"):
        form.read_version = version_of(record)
        form.read_seen = ";".join(f"{k}={v}" for k, v in shown_columns(record, form).items())
    return form


class AppForm(FlaskForm):
    """The base of the app's forms (see the module)."""

    class Meta:
        csrf_class = _Csrf

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An edit form sent back keeps the version it was first read at (core/actions.py).
        posted = request.form if has_request_context() and self.is_submitted() else {}
        self.read_version: str | None = posted.get(VERSION_FIELD) or None
        self.read_seen: str | None = posted.get(SEEN_FIELD) or None
        if not posted and kwargs.get("obj") is not None:
            reading(self, kwargs["obj"])  # an edit form: the record as it is read now

    def validate(self, extra_validators=None) -> bool:
        refused = request.refused_fields if has_request_context() else set()
        bad = False
        for field in _fields(self):
            if field.name in refused:
                field.errors = [str(_l("Remove the invisible control characters from this text."))]
                bad = True
            elif _out_of_range(field.data):
                field.errors = [str(_l("This number is too large."))]
                bad = True
        if bad:
            return False
        return super().validate(extra_validators)


class ConfirmForm(AppForm):
    """Only the CSRF token: for buttons that act."""


class RowForm(Form):
    """A form without a CSRF token of its own (a FieldList row, a GET filter), translated."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations


class LocalDateField(DateField):
    """A date input: empty means "no date" (InputRequired says so), a bad date one clear message."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", _l("Enter a real date, like 2026-03-31."))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def sensible_date(form, field) -> None:
    """Refuse dates a person cannot have meant (year 0001, 9999 ...)."""
    if field.data is not None and not (EARLIEST <= field.data <= LATEST):
        raise ValidationError(_l("Enter a date between 1990 and 2100."))


def field_named(form, name: str | None):
    """The form's field called `name`, also inside a list: "lines-0-quantity"."""
    if not name:
        return None
    parts = name.split("-")
    if len(parts) == 3 and parts[1].isdigit():
        rows = getattr(form, parts[0], None)
        entries = getattr(rows, "entries", None)
        if entries is not None:
            index = int(parts[1])
            if index < len(entries):
                return getattr(entries[index].form, parts[2], None)
            return None
    target = getattr(form, name, None)
    return target if hasattr(target, "errors") else None


def add_error(form, name: str | None, message: str) -> None:
    """One message at the field called `name`, or above the form when there is none."""
    message = str(message)
    if not message:
        return
    target = field_named(form, name)
    if target is not None:
        errors = list(target.errors or [])
        if message not in errors:
            errors.append(message)
        target.errors = errors
    elif message not in form.form_errors:
        form.form_errors.append(message)


def put_error(form, error: DomainError, fields: dict[str, str | None] | None = None):
    """A service's complaint on the form: every problem at its field. `fields` renames a
    service's field to the form's ({"closes_at": "closes_on"}; to None: above the form;
    the key None: where a problem without a field goes).
    A 403/404 is raised again (the app answers it with its error page, after a rollback).
    Returns the form, to draw again: on_error=lambda e, form: page(put_error(form, e))."""
    if error.status in (403, 404):
        raise error
    fields = fields or {}
    for name, message in error.problems:
        add_error(form, fields.get(name, name) if name else fields.get(None), message)
    return form


class MoneyField(StringField):
    """An amount typed as text (not type=number), so that what was typed comes back as
    typed with the message, and "1,234.50" or "¥88" are understood; .data is a Decimal,
    or None when left blank. `parse(text)` reads it: the chapter's parser, whose
    DomainError (or ValueError) is the field's message."""

    def __init__(self, label=None, validators=None, parse=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parse = parse

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = self.parse(valuelist[0])
        except DomainError as error:
            self.data = None
            raise ValueError(error.message) from None
        except ValueError:
            self.data = None
            raise

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:.2f}" if self.data is not None else ""


def vocab_select(label, vocabulary, default: str = "", **kwargs):
    """A select of a vocabulary's codes (core.vocab), starting at `default`; any other value
    is refused with "Choose a value from the list."."""
    return SelectField(
        label,
        choices=lambda: list(vocabulary.items()),
        default=default or None,
        invalid_choice_message=_l("Choose a value from the list."),
        **kwargs,
    )
