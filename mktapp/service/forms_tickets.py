"""The forms of a ticket: receiving it, correcting it, and each step of its handling."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from mktapp.core.forms import AppForm, LocalDateField, MoneyField, vocab_select
from mktapp.core.money import parse_money
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.models.service import (
    COST_KINDS,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
)


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class TicketForm(AppForm):
    """A problem as the customer reported it."""

    customer_id = PickerField(
        _l("Customer"),
        source="customers",
        validators=[InputRequired(message=_l("Choose a customer."))],
        invalid_message=_l("Choose a customer from the list."),
    )
    # The customer's contacts and signed contracts (set contact_id.scope and
    # contract_id's choices to the chosen customer's).
    contact_id = PickerField(
        _l("Contact"),
        source="contacts",
        select_up_to=SHORT_LIST,
        blank=_l("No contact"),
        invalid_message=_l("Choose a contact of this customer."),
    )
    contract_id = SelectField(
        _l("Contract"),
        coerce=_int_or_none,
        choices=[],
        validate_choice=False,
        description=_l("The contract the problem concerns: its after-sales terms are shown."),
    )
    product_id = PickerField(
        _l("Product"), source="products", blank=_l("No product"), select_up_to=SHORT_LIST
    )
    channel = vocab_select(_l("Received by"), TICKET_CHANNELS, "phone")
    ticket_type = vocab_select(
        _l("Type"),
        TICKET_TYPES,
        "consult",
        description=_l("The type decides the department the ticket goes to."),
    )
    priority = vocab_select(_l("Priority"), TICKET_PRIORITIES, "medium")
    title = StringField(
        _l("Subject"),
        validators=[DataRequired(message=_l("Write the problem in a few words.")), Length(max=200)],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=20_000)],
        render_kw={"rows": 5},
        description=_l("What the customer said: the symptoms, since when, what was tried."),
    )


class TicketEditForm(AppForm):
    """What may be corrected after receiving (the type and priority set the deadlines)."""

    title = TicketForm.title
    description = TicketForm.description
    channel = TicketForm.channel
    contact_id = TicketForm.contact_id
    product_id = TicketForm.product_id


class PauseForm(AppForm):
    waiting = SelectField(
        _l("Waiting for"),
        choices=lambda: [
            ("waiting_customer", TICKET_STATUSES["waiting_customer"]),
            ("waiting_parts", TICKET_STATUSES["waiting_parts"]),
        ],
        invalid_choice_message=_l("Choose what the ticket waits for."),
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ResolveForm(AppForm):
    resolution = TextAreaField(
        _l("How it was resolved"),
        validators=[
            DataRequired(message=_l("Write how the problem was resolved.")),
            Length(max=20_000),
        ],
        render_kw={"rows": 3},
    )


class ReplyForm(AppForm):
    channel = vocab_select(_l("Told by"), TICKET_CHANNELS, "phone")
    content = TextAreaField(
        _l("What the customer was told"),
        validators=[
            DataRequired(message=_l("Write what the customer was told.")),
            Length(max=20_000),
        ],
        render_kw={"rows": 3},
    )


class ReopenForm(AppForm):
    reason = StringField(
        _l("Why it is reopened"),
        validators=[
            DataRequired(message=_l("Write why the ticket is reopened.")),
            Length(max=2000),
        ],
    )


class NoteForm(AppForm):
    body = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(message=_l("Write the note.")), Length(max=20_000)],
        render_kw={"rows": 2},
        description=_l("Seen by staff only, never by the customer."),
    )


class ReassignForm(AppForm):
    department_id = SelectField(
        _l("Department"), coerce=_int_or_none, choices=[], validate_choice=False
    )
    owner_id = SelectField(_l("Person"), coerce=_int_or_none, choices=[], validate_choice=False)
    reason = StringField(_l("Why"), validators=[Optional(), Length(max=2000)])


def _hours(raw):
    return parse_money(raw, allow_zero=False, blank_is_zero=False)


class CostForm(AppForm):
    kind = vocab_select(_l("Kind"), COST_KINDS, "parts")
    description = StringField(_l("What for"), validators=[Optional(), Length(max=200)])
    amount = MoneyField(_l("Amount"), parse=parse_money)
    hours = StringField(_l("Hours"), validators=[Optional(), Length(max=20)])
    rate = MoneyField(_l("Hourly rate"), parse=parse_money)
    spent_on = LocalDateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date."))])
