"""Forms for the policy: editing a chapter, releasing a version (P7.3)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


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


class ChapterForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=50000)],
        description=_l(
            'Plain text. Start a section with "一、", a numbered clause with "1.", '
            'a note with "【说明】"; leave a blank line between sections.'
        ),
    )
    reason = StringField(
        _l("Reason for the change"),
        validators=[Optional(), Length(max=200)],
        description=_l("Kept with the change in the history."),
    )


class VersionForm(FlaskForm):
    version = StringField(
        _l("Version"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(r"^\d+(\.\d+){0,3}$", message=_l('Use numbers and dots, like "1.1".')),
        ],
    )
    effective_on = LocalDateField(_l("Effective date"), validators=[InputRequired(), sensible_date])
    summary = TextAreaField(_l("Summary of changes"), validators=[DataRequired(), Length(max=5000)])
