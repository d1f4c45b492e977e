"""What every chapter's forms share: the confirm form, the date field, and the one way to
put a service's complaint next to its field.

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

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import DateField, Form, StringField
from wtforms.validators import ValidationError

from mktapp.core.errors import DomainError

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


class ConfirmForm(FlaskForm):
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
