"""Forms of the pipeline (P4.1): the opportunity, a stage move, losing one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from mktapp.core.forms import AppForm, LocalDateField, MoneyField, sensible_date
from mktapp.core.pickers import SHORT_LIST, FilterForm, PickerField
from mktapp.models.sales import OPEN_STAGES, OPPORTUNITY_STAGES
from mktapp.sales import pipeline as svc


class OpportunityForm(AppForm):
    customer_id = PickerField(
        _l("Customer"),
        source="customers",
        validators=[DataRequired(message=_l("Choose a customer from the list."))],
        placeholder=_l("Type part of the customer's name"),
        invalid_message=_l("Choose a customer from the list."),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the opportunity a title.")), Length(max=200)],
        description=_l(
            "What the customer would buy, e.g. “50 smart meeting screens for the new office”."
        ),
    )
    stage = SelectField(
        _l("Stage"),
        choices=lambda: [(s, OPPORTUNITY_STAGES[s]) for s in OPEN_STAGES],
        default="prospect",
        invalid_choice_message=_l("Choose a stage from the list."),
    )
    amount = MoneyField(
        _l("Amount (yuan)"),
        parse=svc.parse_amount,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"},
    )
    probability = IntegerField(
        _l("Probability (%)"),
        validators=[
            Optional(),
            NumberRange(0, 100, message=_l("The probability is a percentage from 0 to 100.")),
        ],
        description=_l("Leave empty for the stage's usual probability."),
        render_kw={"inputmode": "numeric", "min": 0, "max": 100},
    )
    expected_close = LocalDateField(_l("Expected close"), validators=[Optional(), sensible_date])
    next_step = StringField(
        _l("Next step"),
        validators=[Optional(), Length(max=300)],
        description=_l("The next thing to do, e.g. “send the quotation on Friday”."),
    )

    def to_input(self) -> svc.OpportunityInput:
        return svc.OpportunityInput(
            customer_id=self.customer_id.data,
            title=self.title.data or "",
            amount=self.amount.data if self.amount.data is not None else svc.Decimal("0.00"),
            probability=self.probability.data,
            expected_close=self.expected_close.data,
            next_step=self.next_step.data or "",
            stage=self.stage.data or "prospect",
        )


class OpportunityFilters(FilterForm):
    """The board's and the list's record filters (?owner=, ?customer=; core/pickers)."""

    owner = PickerField(
        _l("Owner"),
        id="f-owner",
        source="opportunity_owners",
        select_up_to=SHORT_LIST,
        blank=_l("Everyone"),
    )
    customer = PickerField(
        _l("Customer"), id="f-customer", source="opportunity_customers", blank=_l("All customers")
    )


class MoveForm(AppForm):
    stage = SelectField(
        _l("Move to"),
        choices=lambda: list(OPPORTUNITY_STAGES.items()),
        validators=[InputRequired(message=_l("Choose a stage from the list."))],
        invalid_choice_message=_l("Choose a stage from the list."),
    )
    lost_reason = TextAreaField(
        _l("Why was it lost?"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )
