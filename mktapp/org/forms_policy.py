"""Forms for the policy: editing a chapter, releasing a version (P7.3)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from mktapp.core.forms import LocalDateField, sensible_date


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
