"""The product form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from mktapp.core.forms import AppForm, MoneyField
from mktapp.sales import pipeline
from mktapp.sales.products import ProductInput


def price_above_zero(form, field) -> None:
    if field.data is not None and field.data <= 0:
        raise ValidationError(_l("The list price must be more than zero."))


class ProductForm(AppForm):
    code = StringField(
        _l("Product code"),
        validators=[DataRequired(message=_l("Enter the product code.")), Length(max=40)],
    )
    name = StringField(
        _l("Product name"),
        validators=[DataRequired(message=_l("Enter the product name.")), Length(max=120)],
    )
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=200)])
    unit = StringField(
        _l("Unit"),
        validators=[Optional(), Length(max=20)],
        description=_l("e.g. piece, set, year, person-day"),
    )
    list_price = MoneyField(
        _l("List price (yuan)"),
        parse=pipeline.parse_amount,
        validators=[InputRequired(message=_l("Enter the list price.")), price_above_zero],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"},
    )
    unit_cost = MoneyField(
        _l("Unit cost (yuan)"),
        parse=pipeline.parse_amount,
        validators=[InputRequired(message=_l("Enter the unit cost (0 if none)."))],
        description=_l("Used for the margin and the profit in the sales appraisal."),
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"},
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4}
    )

    def to_input(self) -> ProductInput:
        return ProductInput(
            code=self.code.data or "",
            name=self.name.data or "",
            specification=self.specification.data or "",
            unit=self.unit.data or "",
            list_price=self.list_price.data,
            unit_cost=self.unit_cost.data,
            description=self.description.data or "",
        )
