"""Forms of budgets (P6.1) and monitoring decisions (P6.3).

The budget grid (7 categories x 12 months) is read by parse_grid() rather than
84 WTForms fields: each cell is validated on its own and its message is shown
next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from mktapp.core.forms import AppForm
from mktapp.expense.common import (
    MONTHS,
    MoneyError,
    category_choices,
    month_label,
    parse_money,
    spread_evenly,
)
from mktapp.models.expense import CATEGORIES

Cells = dict[tuple[str, int], Decimal]


def cell_name(category: str, month: int) -> str:
    return f"c-{category}-{month}"


SPREAD_CATEGORY = "spread_category"
SPREAD_AMOUNT = "spread_amount"


def parse_grid(formdata: Mapping) -> tuple[Cells, dict[str, str], dict[str, str]]:
    """(amounts, errors by input name, raw texts by input name) from a submitted grid.

    An empty cell is zero. Each cell must be a number >= 0 with at most two
    decimals and below ¥10¹².
    """
    cells: Cells = {}
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for category in CATEGORIES:
        for month in MONTHS:
            name = cell_name(category, month)
            text = str(formdata.get(name, "") or "")[:40]
            raw[name] = text
            try:
                cells[(category, month)] = parse_money(text)
            except MoneyError as error:
                errors[name] = str(error)
    return cells, errors, raw


def apply_spread(formdata: Mapping, raw: dict[str, str]) -> dict[str, str]:
    """Fill one category's 12 months from a yearly amount; returns errors by input name."""

    category = str(formdata.get(SPREAD_CATEGORY, ""))
    if category not in CATEGORIES:
        return {SPREAD_CATEGORY: str(_l("Choose a category from the list."))}
    try:
        total = parse_money(formdata.get(SPREAD_AMOUNT, ""), blank_is_zero=False)
    except MoneyError as error:
        return {SPREAD_AMOUNT: str(error)}
    for month, part in zip(MONTHS, spread_evenly(total), strict=True):
        raw[cell_name(category, month)] = f"{part:.2f}"
    return {}


class BudgetForm(AppForm):
    year = IntegerField(
        _l("Fiscal year"),
        validators=[
            InputRequired(message=_l("Enter the year, like 2026.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year between 2000 and 2100.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)])


class BudgetEditForm(BudgetForm):
    """The year of an existing budget is fixed."""

    year = None  # type: ignore[assignment]


def _money_field(form, field) -> None:
    try:
        field.data = parse_money(field.raw_data[0] if field.raw_data else "", blank_is_zero=False)
    except MoneyError as error:
        raise ValidationError(str(error)) from error


class AdjustForm(AppForm):
    category = SelectField(
        _l("Category"),
        validators=[InputRequired(message=_l("Choose a category from the list."))],
        invalid_choice_message=_l("Choose a category from the list."),
    )
    month = SelectField(
        _l("Month"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose a month from the list."))],
        invalid_choice_message=_l("Choose a month from the list."),
        invalid_value_message=_l("Choose a month from the list."),
    )
    new_amount = StringField(
        _l("New amount (¥)"),
        validators=[_money_field],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why the budget changes.")), Length(max=2000)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices()
        self.month.choices = [(m, month_label(m)) for m in MONTHS]


class CloseForm(AppForm):
    confirm = BooleanField(
        _l("I understand: a closed year takes no more adjustments or budget lines."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class DecisionForm(AppForm):
    decision = TextAreaField(
        _l("Decision taken"),
        description=_l("What was done about it: the adjustment, who was asked, the outcome."),
        validators=[DataRequired(message=_l("Write down the decision taken.")), Length(max=4000)],
    )
