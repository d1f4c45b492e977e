"""The training-record form (P7.1)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from mktapp.core.forms import AppForm, LocalDateField, sensible_date
from mktapp.core.pickers import SHORT_LIST, FilterForm, PickerField

MAX_HOURS = Decimal("1000")

# Suggestions for the result field (free text; a datalist offers these).
RESULTS = ("优秀", "良好", "合格", "不合格", "待考核")


class HoursField(DecimalField):
    """Hours as a Decimal; empty is "missing" (InputRequired), not "not a number"."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = Decimal(str(valuelist[0]).strip())
        except (InvalidOperation, ValueError, TypeError) as exc:
            self.data = None
            raise ValueError(_l("Enter the hours as a number, like 3 or 7.5.")) from exc


def sensible_hours(form, field) -> None:
    value = field.data
    if value is None:
        return
    if not value.is_finite():
        raise ValidationError(_l("Enter the hours as a number, like 3 or 7.5."))
    if value <= 0 or value > MAX_HOURS:
        raise ValidationError(_l("Hours must be more than 0 and at most 1000."))
    if value.as_tuple().exponent < -1 and value != value.quantize(Decimal("0.1")):
        raise ValidationError(_l("Use at most one decimal place."))


class TrainingForm(AppForm):
    # Set trainee.scope to the record's trainee when editing (kept though inactive).
    trainee = PickerField(
        _l("Trainee"),
        source="trainees",
        select_up_to=SHORT_LIST,
        validators=[DataRequired(message=_l("Choose a person from the list."))],
        invalid_message=_l("Choose a person from the list."),
    )
    course = StringField(_l("Course"), validators=[DataRequired(), Length(max=120)])
    provider = StringField(_l("Provider"), validators=[Optional(), Length(max=120)])
    taken_on = LocalDateField(_l("Date"), validators=[InputRequired(), sensible_date])
    hours = HoursField(
        _l("Hours"),
        places=1,
        validators=[InputRequired(), sensible_hours],
        render_kw={"step": "0.5", "min": "0.5", "max": "1000", "inputmode": "decimal"},
    )
    result = StringField(
        _l("Result"),
        validators=[Optional(), Length(max=40)],
        description=_l("Pick a suggestion or type your own."),
        render_kw={"list": "training-results", "autocomplete": "off"},
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class TrainingFilters(FilterForm):
    """The list's person filter (?person=; core/pickers)."""

    person = PickerField(
        _l("Person"),
        id="person",
        source="training_people",
        select_up_to=SHORT_LIST,
        blank=_l("Everyone"),
    )
