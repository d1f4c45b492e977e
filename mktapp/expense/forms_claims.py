"""Forms of expense claims (P6.2): the claim, the payment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from mktapp.core import clock
from mktapp.core.attachments import AttachmentField
from mktapp.core.forms import AppForm, LocalDateField, MoneyField, sensible_date
from mktapp.core.pickers import SHORT_LIST, FilterForm, PickerField
from mktapp.expense import claims as svc
from mktapp.models import CATEGORIES, PAYMENT_METHODS


def not_in_future(form, field) -> None:
    if field.data is not None and field.data > clock.today():
        raise ValidationError(_l("The date incurred cannot be in the future."))


def receipt_kind(form, field) -> None:
    """A receipt is a PDF or a picture; Office files are refused with a clear reason."""
    content_type = getattr(field, "content_type", None)
    if field.data and content_type and content_type not in svc.RECEIPT_TYPES:
        raise ValidationError(
            _l(
                "A receipt must be a PDF or a picture (PNG, JPEG, GIF, WebP). "
                "Office documents are not accepted as receipts: scan or photograph the invoice."
            )
        )


def _activity_id(value) -> int:
    """The chosen record's id (an activity, a ticket); 0 for none, -1 for anything that is
    not a number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1  # refused by the service (no such activity)


def _choices(mapping) -> list[tuple[str, object]]:
    return [(code, label) for code, label in mapping.items()]


class ClaimForm(AppForm):
    category = SelectField(
        _l("Category"),
        choices=lambda: [("", _l("Choose a category")), *_choices(CATEGORIES)],
        validators=[DataRequired(message=_l("Choose a category from the list."))],
        validate_choice=True,
        invalid_choice_message=_l("Choose a category from the list."),
    )
    amount = MoneyField(
        _l("Amount (yuan)"),
        parse=svc.parse_amount,
        validators=[InputRequired(message=_l("Enter the amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"},
    )
    incurred_on = LocalDateField(
        _l("Date incurred"), validators=[InputRequired(), sensible_date, not_in_future]
    )
    payment_method = SelectField(
        _l("Payment method"),
        choices=lambda: _choices(PAYMENT_METHODS),
        default="bank",
        validators=[DataRequired()],
        invalid_choice_message=_l("Choose a payment method from the list."),
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say what the money was spent on.")), Length(max=2000)],
        description=_l("What was bought or paid, for which customer, activity or purpose."),
        render_kw={"rows": 3},
    )
    payee_account = StringField(
        _l("Payee account"),
        validators=[Optional(), Length(max=80)],
        description=_l("Bank, account number and name, if the money goes to an account."),
    )
    invoice_number = StringField(_l("Invoice number"), validators=[Optional(), Length(max=60)])
    over_budget_reason = TextAreaField(
        _l("Reason for exceeding the budget"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Needed only when the claim exceeds what remains of the month's budget."),
        render_kw={"rows": 2},
    )
    receipt = AttachmentField(
        _l("Receipt"),
        validators=[receipt_kind],
        description=_l("The invoice or receipt as a PDF or a picture."),
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.gif,.webp"},
    )
    # What it paid for: a market activity (link_type "activity"); the choices are set by
    # the view (the activities the user sees, claims.activity_choices).
    activity_id = SelectField(
        _l("Paid for (market activity)"),
        coerce=_activity_id,
        choices=[],
        default=0,
        validate_choice=False,
        description=_l("The activity this expense was for: it counts in the activity's cost."),
    )
    # Or an after-sales ticket (link_type "ticket", P5.5), not both; the choices are set by
    # the view (the tickets the user sees, claims.ticket_choices).
    ticket_id = SelectField(
        _l("Paid for (after-sales ticket)"),
        coerce=_activity_id,
        choices=[],
        default=0,
        validate_choice=False,
        description=_l("The after-sales ticket this expense was for: it counts in its cost."),
    )

    def to_input(self, valid_only: bool = False) -> svc.ClaimInput:
        """The claim as plain data; with valid_only, fields that failed are None (skipped)."""

        def value(field, default=None):
            if valid_only and field.errors:
                return None
            return field.data if field.data is not None else default

        return svc.ClaimInput(
            category=value(self.category),
            amount=value(self.amount),
            incurred_on=value(self.incurred_on),
            reason=None if valid_only else (self.reason.data or ""),
            payment_method=value(self.payment_method),
            payee_account=self.payee_account.data or "",
            invoice_number=self.invoice_number.data or "",
            over_budget_reason=self.over_budget_reason.data or "",
            receipts=[self.receipt.data]
            if self.receipt.data and not (valid_only and self.receipt.errors)
            else [],
            activity_id=self.activity_id.data or None,
            ticket_id=self.ticket_id.data or None,
        )


class PaymentForm(AppForm):
    paid_on = LocalDateField(_l("Paid on"), validators=[InputRequired(), sensible_date])
    reference = StringField(
        _l("Payment reference"),
        validators=[
            DataRequired(message=_l("Enter the payment reference (bank slip or voucher number).")),
            Length(max=80),
        ],
        description=_l("The bank slip, transfer or voucher number."),
    )


class ClaimFilters(FilterForm):
    """The claim list's applicant filter (?applicant=; core/pickers)."""

    applicant = PickerField(
        _l("Applicant"),
        id="f-applicant",
        source="claim_applicants",
        select_up_to=SHORT_LIST,
        blank=_l("Everyone"),
    )
