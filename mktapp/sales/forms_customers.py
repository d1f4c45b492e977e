"""Forms of customers, contacts, follow-ups, hand-off, merge and import (P4.1)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from mktapp.core.forms import AppForm, LocalDateField, sensible_date, vocab_select
from mktapp.core.phones import PhoneField
from mktapp.core.pickers import SHORT_LIST, FilterForm, PickerField
from mktapp.models.sales import (
    COMPANY_SIZES,
    CUSTOMER_GRADES,
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    INTERACTION_KINDS,
    LEAD_SOURCES,
)
from mktapp.sales import customers as svc
from mktapp.sales.followups import FollowupInput


def _choices(mapping) -> list[tuple[str, object]]:
    return [(code, label) for code, label in mapping.items()]


CHOOSE = _l("Choose a value from the list.")
EMAIL = Regexp(
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address like name@example.com.")
)


def _owner_picker() -> PickerField:
    """The sales rep who owns the customer; none leaves it in the pool."""
    return PickerField(
        _l("Owner"),
        source="sales_reps",
        select_up_to=SHORT_LIST,
        blank=_l("Pool (no owner)"),
        invalid_message=_l("Choose a sales rep from the list."),
    )


def _activity_id(value) -> int:
    """A chosen activity's id; 0 for none, -1 for anything that is not a number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


class CustomerForm(AppForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter the customer's name.")), Length(max=200)],
        description=_l("The company's full registered name, or the person's name."),
    )
    kind = vocab_select(_l("Kind"), CUSTOMER_KINDS, "company")
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=80)])
    size = SelectField(
        _l("Company size"),
        choices=lambda: [("", _l("Not known")), *_choices(COMPANY_SIZES)],
        default="",
        validate_choice=True,
        invalid_choice_message=CHOOSE,
    )
    province = SelectField(
        _l("Province"),
        choices=lambda: [("", _l("Not known")), *((p, p) for p in svc.PROVINCES)],
        default="",
        invalid_choice_message=CHOOSE,
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    grade = vocab_select(
        _l("Grade"),
        CUSTOMER_GRADES,
        "C",
        description=_l("A: key customer, B: normal, C: small or unsure."),
    )
    status = vocab_select(_l("Status"), CUSTOMER_STATUSES, "potential")
    source = vocab_select(_l("Lead source"), LEAD_SOURCES, "fair")
    source_detail = StringField(
        _l("Source detail"),
        validators=[Optional(), Length(max=200)],
        description=_l("Which fair, who referred them, which search or campaign."),
    )
    source_activity_id = SelectField(
        _l("Source activity"),
        coerce=_activity_id,
        choices=[],
        default=0,
        validate_choice=False,
        description=_l("When the lead came from a market activity: which one."),
    )
    owner_id = _owner_picker()
    notes = TextAreaField(
        _l("Notes"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3}
    )
    # The first contact (new customers only)
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=80)])
    contact_title = StringField(_l("Job title"), validators=[Optional(), Length(max=80)])
    contact_phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=120), EMAIL],
    )
    contact_wechat = StringField(_l("WeChat"), validators=[Optional(), Length(max=80)])
    confirm_duplicate = HiddenField(default="")

    def to_input(self) -> svc.CustomerInput:
        return svc.CustomerInput(
            name=self.name.data or "",
            kind=self.kind.data,
            industry=self.industry.data or "",
            size=self.size.data or "",
            province=self.province.data or "",
            city=self.city.data or "",
            address=self.address.data or "",
            grade=self.grade.data,
            status=self.status.data,
            source=self.source.data,
            source_detail=self.source_detail.data or "",
            notes=self.notes.data or "",
            owner_id=self.owner_id.data,
            source_activity_id=self.source_activity_id.data or None,
        )

    def contact_input(self) -> svc.ContactInput | None:
        if not (self.contact_name.data or "").strip():
            return None
        return svc.ContactInput(
            name=self.contact_name.data or "",
            title=self.contact_title.data or "",
            phone=self.contact_phone.data or "",
            email=self.contact_email.data or "",
            wechat=self.contact_wechat.data or "",
            is_primary=True,
        )


class ContactForm(AppForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter the contact's name.")), Length(max=80)],
    )
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=80)])
    phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=120), EMAIL],
    )
    wechat = StringField(_l("WeChat"), validators=[Optional(), Length(max=80)])
    is_primary = BooleanField(_l("Primary contact"))

    def to_input(self) -> svc.ContactInput:
        return svc.ContactInput(
            name=self.name.data or "",
            title=self.title.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
            wechat=self.wechat.data or "",
            is_primary=bool(self.is_primary.data),
        )


class FollowupForm(AppForm):
    kind = vocab_select(_l("Kind"), INTERACTION_KINDS, "call")
    happened_at = DateTimeLocalField(
        _l("When"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message=_l("Enter when it happened."))],
    )
    # The customer's contacts: set contact_id.scope to the customer's id.
    contact_id = PickerField(
        _l("Contact"),
        source="contacts",
        select_up_to=SHORT_LIST,
        blank=_l("No contact"),
        invalid_message=_l("Choose a contact of this customer."),
    )
    notes = TextAreaField(
        _l("What was said or agreed"),
        validators=[DataRequired(message=_l("Write what was said or agreed.")), Length(max=5000)],
        render_kw={"rows": 3},
    )
    next_date = LocalDateField(_l("Next follow-up"), validators=[Optional(), sensible_date])
    next_action = StringField(
        _l("Next action"),
        validators=[Optional(), Length(max=300)],
        description=_l("You will be reminded on the day of the next follow-up."),
    )

    def to_input(self) -> FollowupInput:
        happened: datetime = self.happened_at.data
        return FollowupInput(
            kind=self.kind.data,
            happened_at=happened,
            notes=self.notes.data or "",
            contact_id=self.contact_id.data,
            next_date=self.next_date.data,
            next_action=self.next_action.data or "",
        )


class AssignForm(AppForm):
    owner_id = PickerField(
        _l("Hand to"),
        source="sales_reps",
        select_up_to=SHORT_LIST,
        blank=_l("Choose a sales rep"),
        validators=[DataRequired(message=_l("Choose a sales rep from the list."))],
        invalid_message=_l("Choose a sales rep from the list."),
    )


class CustomerFilters(FilterForm):
    """The customer list's owner filter (?owner=; core/pickers)."""

    owner = PickerField(
        _l("Owner"),
        id="f-owner",
        source="customer_owners",
        select_up_to=SHORT_LIST,
        blank=_l("Everyone"),
    )


class MergeForm(AppForm):
    # One of the likely duplicates (radio buttons), or any customer found by name.
    other_id = StringField(_l("Customer to merge into this one"))
    other = PickerField(
        _l("Customer to merge into this one"),
        source="customers",
        placeholder=_l("Type part of the duplicate's name"),
        invalid_message=_l("Choose the duplicate customer."),
        description=_l(
            "Its contacts, follow-ups, opportunities and contracts move here; it is archived."
        ),
    )

    def chosen_id(self) -> int | None:
        """The duplicate chosen: a listed one, else the one found by name."""
        listed = str(self.other_id.data or "").strip()
        if listed.isascii() and listed.isdigit():
            return int(listed)
        return self.other.data


class UploadForm(AppForm):
    file = FileField(
        _l("File"),
        description=_l(
            "An Excel workbook (.xlsx) or a CSV file; the first row holds the column names."
        ),
        render_kw={"accept": ".xlsx,.csv"},
    )


class ImportOptionsForm(AppForm):
    source = vocab_select(
        _l("Lead source"),
        LEAD_SOURCES,
        "fair",
        description=_l("For rows whose file gives no source."),
    )
    source_detail = StringField(
        _l("Source detail"),
        validators=[Optional(), Length(max=200)],
        description=_l("e.g. the fair's name: 2026 中国国际工业博览会."),
    )
    # Shown to those who hand leads out; everyone else's imports are their own.
    owner_id = _owner_picker()
