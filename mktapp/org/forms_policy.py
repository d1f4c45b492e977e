"""Forms for the policy: editing a chapter, releasing a version (P7.3)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from mktapp.core.forms import AppForm, LocalDateField, sensible_date
from mktapp.org.policy import version_exists


class ChapterForm(AppForm):
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


class VersionForm(AppForm):
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

    def validate_version(self, field) -> None:
        """Said together with any other mistake, not after they are fixed."""
        if field.data and version_exists(field.data):
            raise ValidationError(_l("Version %(v)s exists already.", v=field.data))
