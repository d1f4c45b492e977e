"""Forms of an activity's execution (P3.3): tasks, participants, the feedback questionnaire."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from mktapp.core.forms import AppForm, LocalDateField, sensible_date
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.models.brand import TASK_STATUSES


def _int_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class TaskForm(AppForm):
    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=200)])
    owner_id = PickerField(
        _l("Owner"),
        source="task_owners",
        select_up_to=SHORT_LIST,
        blank=_l("Nobody yet"),
        invalid_message=_l("Choose the task's owner from the list."),
    )
    due_on = LocalDateField(_l("Due"), validators=[Optional(), sensible_date])

    def __init__(self, *args, activity=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.scope = activity.id if activity is not None else None


class StatusForm(AppForm):
    status = SelectField(_l("Status"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = TASK_STATUSES.choices()


class ParticipantForm(AppForm):
    kind = RadioField(
        _l("Kind"),
        default="registered",
        validators=[InputRequired()],
    )
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            ("registered", str(_l("Registration"))),
            ("walk_in", str(_l("Walk-in (checked in now)"))),
        ]


class AttachSurveyForm(AppForm):
    survey_id = SelectField(
        _l("Open questionnaire"), coerce=_int_or_zero, validators=[InputRequired()]
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.survey_id.choices = [(0, str(_l("Choose a questionnaire")))] + list(choices)
